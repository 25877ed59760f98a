//! The foreground path: the same checks, PID file and privilege drop as a detached
//! start, without forking or touching stdio (for a terminal, supervisord, runit, s6,
//! containers and systemd's `Type=notify`).

use nix::unistd::getpid;

use crate::daemon::{self, Daemon, Pending};
use crate::error::Error;
use crate::job::{Job, Readiness};
use crate::plan::Plan;
use crate::readiness;
use crate::settings::Settings;
use crate::signals;
use crate::sys::{process, user};

/// Runs steps 7 and 9 to 12 in this very process.
pub(crate) fn run<T>(job: Job<T>, settings: Settings, plan: Plan) -> Result<Daemon<T>, Error> {
    plan.enter_directories(false)?;
    let pid = getpid().as_raw() as u32;
    let pid_file = match plan.pid_file {
        Some(pid_file) => Some(pid_file.write_and_activate(pid)?),
        None => None,
    };
    let (value, readiness) = job.run_privileged()?;
    if let Some(identity) = &plan.identity {
        user::drop_to(identity)?;
    }
    signals::install()?;
    process::release_freed_heap();
    log::debug!("running in the foreground (pid {pid})");
    match readiness {
        Readiness::Auto => readiness::notify_service_manager(pid),
        Readiness::Manual => daemon::set_pending(Pending::ServiceManager(pid)),
    }
    Ok(Daemon::new(value, settings, pid, false, pid_file))
}
