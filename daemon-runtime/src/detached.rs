//! The detached child's steps: a new session, the second fork, and then steps 5 to 12
//! in the daemon itself. Any error from here on can no longer reach the terminal
//! directly: it travels back through the readiness channel, and the launcher prints it
//! (and the log has it).

use std::os::fd::{AsFd, RawFd};

use nix::unistd::{getpid, setsid};

use crate::daemon::{Daemon, Pending, Ready, set_pending};
use crate::error::Error;
use crate::job::{Job, Readiness};
use crate::pidfile::ActiveGuard;
use crate::plan::Plan;
use crate::readiness::Notifier;
use crate::settings::Settings;
use crate::sys::pidfd::Process;
use crate::sys::process::{self, Forked, SingleThreaded};
use crate::sys::{fd, hardening, signal, stdio, user};
use crate::{listen, logger, notify, signals};

/// The intermediate process, then the daemon: returns only in the daemon.
pub(crate) fn run<T>(
    job: Job<T>,
    settings: Settings,
    plan: Plan,
    notifier: Notifier,
    single: SingleThreaded,
) -> Daemon<T> {
    let mut child = Child {
        notifier: Some(notifier),
        pid_file: None,
    };
    // A new session, then fork again so that the daemon is not a session leader and
    // can never acquire a controlling terminal.
    child.or_fail(setsid().map_err(|e| Error::sys("setsid", e)));
    match child.or_fail(process::fork(&single)) {
        Forked::Parent(daemon) => child.hand_over(daemon.as_raw() as u32),
        Forked::Child(_) => child.become_daemon(job, settings, plan),
    }
}

/// The daemon while it starts: what a failure must clean up and whom it must tell.
struct Child {
    /// Taken when the launcher is told the outcome.
    notifier: Option<Notifier>,
    pid_file: Option<ActiveGuard>,
}

impl Child {
    /// The intermediate process: tells the launcher the daemon's pid, with a pidfd on it
    /// (its parent alone can open one that cannot name another process: the daemon
    /// cannot be reaped, and its pid reused, while this process lives), then ends.
    fn hand_over(&self, daemon: u32) -> ! {
        if let Some(notifier) = &self.notifier {
            let pinned = Process::open(daemon).ok().filter(Process::is_pinned);
            notifier.daemon(daemon, pinned.as_ref().map(Process::as_fd));
        }
        // `_exit`, not `exit`: this copy of the launcher must not flush or run
        // destructors (daemon(7); the launcher does that itself).
        process::exit_now(0)
    }

    /// Steps 5 to 12.
    fn become_daemon<T>(mut self, job: Job<T>, settings: Settings, mut plan: Plan) -> Daemon<T> {
        self.close_inherited_fds(&plan, &job);
        // Stdio first (from descriptors opened before the fork), so that the daemon's own
        // records from here on go to its log, not the launcher's terminal.
        let null = plan.dev_null.take().expect("opened for a detached start");
        self.or_fail(stdio::redirect_stdio(
            &null,
            plan.stdout.as_ref().map(|log| &log.file),
            plan.stderr.as_ref().map(|log| &log.file),
        ));
        // On descriptors 0 to 2 now; the daemon keeps nothing it does not use.
        drop(null);
        // Before any chroot: the logger's sockets are connected by path.
        plan.logger.retarget();
        self.or_fail(signal::reset_signals());
        self.or_fail(plan.enter_directories(true));
        self.or_fail(hardening::before_privileged_action(&settings));
        let pid = getpid();
        log::debug!("detached: pid {pid}, session {}", session());
        let pid = pid.as_raw() as u32;
        if let Some(pid_file) = plan.pid_file.take() {
            self.pid_file = Some(self.or_fail(pid_file.write_and_activate(pid)));
        }
        let (value, readiness) = self.or_fail(job.run_privileged());
        if let Some(identity) = &plan.identity {
            self.or_fail(user::drop_to(identity));
        }
        self.or_fail(hardening::after_privilege_drop(&settings));
        signals::set_log_files(plan.stdout.take(), plan.stderr.take());
        self.or_fail(signals::install());
        self.or_fail(signal::unblock_all());
        process::release_freed_heap();
        let ready = Ready {
            notify_fd: plan.notify_fd.take(),
            watchdog: settings.watchdog.value,
            foreground: false,
        };
        self.report_ready(readiness, ready);
        Daemon::new(value, settings, pid, true, self.pid_file.take())
    }

    /// Step 5: closes every inherited descriptor but those the daemon needs.
    fn close_inherited_fds<T>(&self, plan: &Plan, job: &Job<T>) {
        let mut keep: Vec<RawFd> = self.notifier.iter().map(Notifier::raw_fd).collect();
        keep.extend(plan.kept_fds());
        keep.extend(&job.keep_fds);
        keep.extend(listen::raw_fds());
        keep.extend(notify::raw_fds());
        keep.extend(logger::fds());
        keep.extend(signals::fds());
        fd::close_fds_except(&keep);
    }

    /// Step 12: tells the launcher (and a supervisor) now, or leaves it to the
    /// program's [`ready`](crate::ready).
    fn report_ready(&mut self, readiness: Readiness, then: Ready) {
        let launcher = self.notifier.take();
        match readiness {
            Readiness::Auto => then.report(launcher),
            Readiness::Manual => set_pending(Pending { launcher, then }),
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
        logger::fatal(&error.to_string());
        if let Some(notifier) = self.notifier.take() {
            notifier.fail(error.exit_code(), &error.to_string());
        }
        process::exit_now(error.exit_code())
    }
}

fn session() -> String {
    nix::unistd::getsid(None).map_or_else(|e| e.to_string(), |s| s.to_string())
}
