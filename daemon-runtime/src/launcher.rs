//! The launcher's side of a detached start: the first fork, then waiting for the
//! daemon's report on the readiness channel and exiting with the matching status (0
//! only once the daemon said "ready"). Under a service manager that knows the launcher
//! as the main process (systemd's `Type=notify` with `--daemon`), the launcher tells it
//! which process the daemon is, and that it is ready, or why it failed.

use std::io::{self, Write};
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::daemon::Daemon;
use crate::detached;
use crate::error::{Error, errno_for, exit, one_line};
use crate::job::Job;
use crate::notify;
use crate::plan::Plan;
use crate::readiness::{self, Outcome, Report, Waiter};
use crate::settings::Settings;
use crate::sys::process::{self, Forked, SingleThreaded};
use crate::sys::signal;

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
    let (waiter, notifier) = readiness::channel()?;
    // Blocked until the daemon's handlers are in place (see `sys::signal`).
    let mask = signal::block_start_up()?;
    match process::fork(&single)? {
        Forked::Parent(child) => {
            signal::restore(&mask);
            drop(notifier);
            // The sockets are the daemon's now; the launcher must not keep them open.
            drop(crate::listen::listeners());
            await_daemon(child, waiter, &settings)
        }
        Forked::Child(single) => {
            drop(waiter);
            Ok(detached::run(job, settings, plan, notifier, single))
        }
    }
}

/// The launching process: waits for the daemon's report, then reaps the intermediate
/// process and exits with the matching status.
fn await_daemon(intermediate: Pid, waiter: Waiter, settings: &Settings) -> ! {
    let name = &settings.name.value;
    let timeout = settings.start_timeout.value;
    let report = waiter.wait(timeout).unwrap_or_else(|e| e.exit(name));
    let Some(failure) = Failure::of(&report, timeout, intermediate) else {
        let _ = nix::sys::wait::waitpid(intermediate, None);
        relay_ready(report.pid);
        std::process::exit(exit::OK)
    };
    let _ = nix::sys::wait::waitpid(intermediate, None);
    // A failed daemon exits right after it reports; make sure it has, so that a
    // non-zero exit of the launcher means nothing is left running.
    if let Some(process) = &report.process {
        process.wait_exit_for(Duration::from_secs(5));
    }
    let _ = notify::failed(errno_for(failure.code), &failure.message);
    eprintln!("{}", one_line(&format!("{name}: {}", failure.message)));
    std::process::exit(failure.code)
}

/// Tells a service manager that knows the launcher as the main process which process
/// is the main one now, and that it is ready.
fn relay_ready(daemon: Option<u32>) {
    log::debug!("daemon ready (pid {})", daemon.unwrap_or(0));
    if let Err(e) = notify::ready(daemon) {
        log::warn!("{e}");
    }
}

/// Why the launcher exits non-zero.
struct Failure {
    code: i32,
    message: String,
}

impl Failure {
    /// The failure a report means; `None` for "ready".
    fn of(report: &Report, timeout: Duration, intermediate: Pid) -> Option<Failure> {
        let pid = report.pid;
        let failure = match &report.outcome {
            Outcome::Ready => return None,
            Outcome::Failed { code, message } => Failure {
                code: *code,
                message: message.clone(),
            },
            Outcome::Silent => Failure {
                code: exit::SOFTWARE,
                message: format!(
                    "the daemon{} exited during start-up without saying why",
                    in_parens(pid)
                ),
            },
            Outcome::TimedOut => {
                let killed = kill(report, intermediate);
                Failure {
                    code: exit::UNAVAILABLE,
                    message: format!(
                        "the daemon{} did not report ready within {timeout:?} \
                         (start_timeout){}",
                        in_parens(pid),
                        if killed { "; killed it" } else { "" }
                    ),
                }
            }
        };
        Some(failure)
    }
}

/// Kills a daemon that did not get ready in time: through the pidfd the intermediate
/// process sent, so the signal reaches the daemon or nothing.
///
/// Before that frame came (or without pidfds), the intermediate process first, so that
/// it forks nothing more, then its process group: the one its `setsid` made, which the
/// daemon belongs to if it was forked already (between its fork and the frame). The
/// intermediate is this process's child and is reaped only after this, so its pid, and
/// the group id that equals it, cannot belong to any other process meanwhile; before
/// its `setsid` there is no such group, and no daemon.
fn kill(report: &Report, intermediate: Pid) -> bool {
    match &report.process {
        Some(daemon) => daemon.signal(Signal::SIGKILL).is_ok(),
        None => {
            let stopped = nix::sys::signal::kill(intermediate, Signal::SIGKILL).is_ok();
            let group = nix::sys::signal::killpg(intermediate, Signal::SIGKILL).is_ok();
            stopped || group
        }
    }
}

/// ` (pid N)`, or nothing.
fn in_parens(pid: Option<u32>) -> String {
    pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
}
