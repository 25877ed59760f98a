//! The launcher's side of a detached start: the first fork, then waiting for the
//! daemon's report on the readiness pipe and exiting with the matching status (0 only
//! once the daemon said "ready").

use std::io::{self, Write};
use std::os::fd::RawFd;
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::daemon::Daemon;
use crate::detached;
use crate::error::{Error, exit};
use crate::job::Job;
use crate::plan::Plan;
use crate::readiness::{self, Report, Waiter};
use crate::settings::Settings;
use crate::sys::pidfd::Process;
use crate::sys::process::{self, Forked, SingleThreaded};

/// Forks. In the launching process this never returns: it waits for the daemon and
/// exits. In the child it goes on with the detached steps, and returns in the daemon.
pub(crate) fn detach<T>(
    job: Job<T>,
    settings: Settings,
    plan: Plan,
    single: SingleThreaded,
) -> Result<Daemon<T>, Error> {
    // Whatever sits in the buffers now would otherwise be written by both processes.
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
    let listen_fds = inherited_listen_fds();
    let (waiter, notifier) = readiness::channel()?;
    match process::fork(&single)? {
        Forked::Parent(child) => {
            drop(notifier);
            await_daemon(child, waiter, &settings)
        }
        Forked::Child(single) => {
            drop(waiter);
            Ok(detached::run(
                job,
                settings,
                plan,
                notifier,
                single,
                &listen_fds,
            ))
        }
    }
}

/// The launching process: reaps the intermediate process, then waits for the daemon's
/// report and exits with the matching status.
fn await_daemon(intermediate: Pid, waiter: Waiter, settings: &Settings) -> ! {
    let _ = nix::sys::wait::waitpid(intermediate, None);
    let name = &settings.name.value;
    let timeout = settings.start_timeout.value;
    let report = waiter.wait(timeout).unwrap_or_else(|e| e.exit(name));
    let Some(failure) = Failure::of(report, timeout) else {
        std::process::exit(exit::OK)
    };
    // A failed daemon exits right after it reports; make sure it has, so that a
    // non-zero exit of the launcher means nothing is left running.
    if let Some(pid) = failure.pid {
        await_exit(pid, Duration::from_secs(5));
    }
    eprintln!("{name}: {}", failure.message);
    std::process::exit(failure.code)
}

/// Why the launcher exits non-zero.
struct Failure {
    code: i32,
    message: String,
    pid: Option<u32>,
}

impl Failure {
    /// The failure a report means; `None` for "ready".
    fn of(report: Report, timeout: Duration) -> Option<Failure> {
        let failure = match report {
            Report::Ready { pid } => {
                log::debug!("daemon ready (pid {})", pid.unwrap_or(0));
                return None;
            }
            Report::Failed { code, message, pid } => Failure { code, message, pid },
            Report::Silent { pid } => Failure {
                code: exit::SOFTWARE,
                message: format!(
                    "the daemon{} exited during start-up without saying why",
                    in_parens(pid)
                ),
                pid,
            },
            Report::TimedOut { pid } => {
                let killed = pid.is_some_and(|pid| {
                    Process::open(pid).is_ok_and(|p| p.signal(Signal::SIGKILL).is_ok())
                });
                Failure {
                    code: exit::UNAVAILABLE,
                    message: format!(
                        "the daemon{} did not report ready within {timeout:?} \
                         (start_timeout){}",
                        in_parens(pid),
                        if killed { "; killed it" } else { "" }
                    ),
                    pid,
                }
            }
        };
        Some(failure)
    }
}

/// ` (pid N)`, or nothing.
fn in_parens(pid: Option<u32>) -> String {
    pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
}

/// Waits up to `timeout` for `pid` to exit, where a pidfd can tell; elsewhere returns
/// at once.
fn await_exit(pid: u32, timeout: Duration) {
    if let Ok(process) = Process::open(pid) {
        process.wait_exit_for(timeout);
    }
}

/// Sockets passed by systemd socket activation to this very process.
fn inherited_listen_fds() -> Vec<RawFd> {
    let ours = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        == Some(std::process::id());
    let count = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.parse::<RawFd>().ok())
        .unwrap_or(0);
    if ours {
        (3..3 + count).collect()
    } else {
        Vec::new()
    }
}
