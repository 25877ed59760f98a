//! The detached child's steps: a new session, the second fork, and then steps 5 to 12
//! in the daemon itself. Any error from here on can no longer reach the terminal
//! directly: it travels back through the readiness pipe, and the launcher prints it.

use std::os::fd::{AsRawFd, RawFd};

use nix::unistd::{getpid, setsid};

use crate::daemon::{self, Daemon, Pending};
use crate::error::Error;
use crate::job::{Job, Readiness};
use crate::pidfile::ActiveGuard;
use crate::plan::Plan;
use crate::readiness::{self, Notifier};
use crate::settings::Settings;
use crate::signals;
use crate::sys::process::{self, Forked, SingleThreaded};
use crate::sys::{fd, signal, stdio, user};

/// The intermediate process, then the daemon: returns only in the daemon.
pub(crate) fn run<T>(
    job: Job<T>,
    settings: Settings,
    plan: Plan,
    notifier: Notifier,
    single: SingleThreaded,
    listen_fds: &[RawFd],
) -> Daemon<T> {
    let mut child = Child {
        notifier: Some(notifier),
        pid_file: None,
    };
    // A new session, then fork again so that the daemon is not a session leader and
    // can never acquire a controlling terminal.
    child.or_fail(setsid().map_err(|e| Error::sys("setsid", e)));
    match child.or_fail(process::fork(&single)) {
        // `_exit`, not `exit`: this copy of the launcher must not flush or run
        // destructors (daemon(7); the launcher does that itself).
        Forked::Parent(_) => process::exit_now(0),
        Forked::Child(_) => child.become_daemon(job, settings, plan, listen_fds),
    }
}

/// The daemon while it starts: what a failure must clean up and whom it must tell.
struct Child {
    /// Taken when the launcher is told the outcome.
    notifier: Option<Notifier>,
    pid_file: Option<ActiveGuard>,
}

impl Child {
    /// Steps 5 to 12.
    fn become_daemon<T>(
        mut self,
        job: Job<T>,
        settings: Settings,
        plan: Plan,
        listen_fds: &[RawFd],
    ) -> Daemon<T> {
        self.close_inherited_fds(&plan, &job, listen_fds);
        let pid = getpid();
        if !listen_fds.is_empty() {
            // SAFETY: the daemon is single-threaded (checked before both forks), so no
            // other thread can be reading the environment.
            unsafe { std::env::set_var("LISTEN_PID", pid.to_string()) };
        }
        self.or_fail(signal::reset_signals());
        self.or_fail(plan.enter_directories(true));
        self.or_fail(stdio::redirect_stdio(
            plan.dev_null.as_ref().expect("opened for a detached start"),
            plan.stdout.as_ref().map(|log| &log.file),
            plan.stderr.as_ref().map(|log| &log.file),
        ));
        log::debug!("detached: pid {pid}, session {}", session());
        let pid = pid.as_raw() as u32;
        if let Some(pid_file) = plan.pid_file {
            self.pid_file = Some(self.or_fail(pid_file.write_and_activate(pid)));
        }
        if let Some(notifier) = &self.notifier {
            notifier.pid(pid);
        }
        let (value, readiness) = self.or_fail(job.run_privileged());
        if let Some(identity) = &plan.identity {
            self.or_fail(user::drop_to(identity));
        }
        signals::set_log_files(plan.stdout, plan.stderr);
        self.or_fail(signals::install());
        process::release_freed_heap();
        self.report_ready(readiness, pid);
        Daemon::new(value, settings, pid, true, self.pid_file.take())
    }

    /// Step 5: closes every inherited descriptor but those the daemon needs.
    fn close_inherited_fds<T>(&self, plan: &Plan, job: &Job<T>, listen_fds: &[RawFd]) {
        let mut keep: Vec<RawFd> = self.notifier.iter().map(Notifier::raw_fd).collect();
        keep.extend(plan.pid_file.iter().flat_map(|p| p.fds()));
        for log in plan.stdout.iter().chain(&plan.stderr) {
            keep.extend([log.file.as_raw_fd(), log.dir.as_raw_fd()]);
        }
        keep.extend(plan.dev_null.iter().map(AsRawFd::as_raw_fd));
        keep.extend(&job.keep_fds);
        keep.extend(listen_fds);
        keep.extend(signals::fds());
        fd::close_fds_except(&keep);
    }

    /// Step 12: tells the launcher (and a service manager) now, or leaves it to the
    /// program's [`ready`](crate::ready).
    fn report_ready(&mut self, readiness: Readiness, pid: u32) {
        let Some(notifier) = self.notifier.take() else {
            return;
        };
        match readiness {
            Readiness::Auto => {
                notifier.ready();
                readiness::notify_service_manager(pid);
            }
            Readiness::Manual => daemon::set_pending(Pending::Launcher(notifier, pid)),
        }
    }

    /// The value, or: remove the PID file, tell the launcher why, and exit.
    fn or_fail<V>(&mut self, result: Result<V, Error>) -> V {
        match result {
            Ok(value) => value,
            Err(error) => self.fail(&error),
        }
    }

    fn fail(&mut self, error: &Error) -> ! {
        // The file goes first: once the launcher exits non-zero, nothing is left behind.
        drop(self.pid_file.take());
        if let Some(notifier) = self.notifier.take() {
            notifier.fail(error.exit_code(), &error.to_string());
        }
        process::exit_now(error.exit_code())
    }
}

fn session() -> String {
    nix::unistd::getsid(None).map_or_else(|e| e.to_string(), |s| s.to_string())
}
