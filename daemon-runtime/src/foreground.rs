//! The foreground path: the same checks, PID file and privilege drop as a detached
//! start, without forking or touching stdio (for a terminal, supervisord, runit, s6,
//! containers and systemd's `Type=notify`).

use nix::unistd::getpid;

use crate::daemon::{Daemon, Pending, Ready, set_pending};
use crate::error::Error;
use crate::job::{Job, Readiness};
use crate::plan::Plan;
use crate::settings::Settings;
use crate::signals;
use crate::sys::{hardening, process, signal, user};

/// Runs steps 7 and 9 to 12 in this very process.
pub(crate) fn run<T>(job: Job<T>, settings: Settings, mut plan: Plan) -> Result<Daemon<T>, Error> {
    // A SIGTERM before the handlers are in place would leave the PID file behind.
    let mask = signal::block_start_up()?;
    plan.enter_directories(false)?;
    hardening::before_privileged_action(&settings)?;
    let pid = getpid().as_raw() as u32;
    let pid_file = match plan.pid_file.take() {
        Some(pid_file) => Some(pid_file.write_and_activate(pid)?),
        None => None,
    };
    let (value, readiness) = job.run_privileged()?;
    if let Some(identity) = &plan.identity {
        user::drop_to(identity)?;
    }
    hardening::after_privilege_drop(&settings)?;
    signals::install()?;
    signal::restore(&mask);
    process::release_freed_heap();
    log::debug!("running in the foreground (pid {pid})");
    let ready = Ready {
        notify_fd: plan.notify_fd.take(),
        watchdog: settings.watchdog.value,
        foreground: true,
    };
    match readiness {
        Readiness::Auto => ready.report(None),
        Readiness::Manual => set_pending(Pending {
            launcher: None,
            then: ready,
        }),
    }
    Ok(Daemon::new(value, settings, pid, false, pid_file))
}
