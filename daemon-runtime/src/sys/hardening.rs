//! The hardening settings: `core_dumps` (off by default) and `no_new_privs`.
//!
//! Core dumps are prevented (`RLIMIT_CORE` 0, inherited by what the daemon runs)
//! unless allowed: a daemon started as root may hold secrets it read before dropping
//! privileges, and python-daemon prevents them by default for that reason. `no_new_privs` is off by default, as systemd's `NoNewPrivileges=`: with it,
//! nothing the daemon runs can gain privileges through a setuid program or file
//! capabilities, which also stops a daemon that rightly runs `sendmail` or `ping`.

use nix::sys::resource::{Resource, setrlimit};

use crate::error::Error;
use crate::settings::Settings;

/// What comes before the privileged action: core dumps prevented, unless allowed.
pub(crate) fn before_privileged_action(settings: &Settings) -> Result<(), Error> {
    if settings.core_dumps.value {
        return Ok(());
    }
    setrlimit(Resource::RLIMIT_CORE, 0, 0).map_err(|e| Error::sys("setrlimit(RLIMIT_CORE)", e))?;
    log::debug!("core dumps prevented");
    Ok(())
}

/// What comes after privileges are dropped: `no_new_privs`, if asked for.
pub(crate) fn after_privilege_drop(settings: &Settings) -> Result<(), Error> {
    if !settings.no_new_privs.value {
        return Ok(());
    }
    set_no_new_privs()?;
    log::debug!("no_new_privs set");
    Ok(())
}

#[cfg(target_os = "linux")]
fn set_no_new_privs() -> Result<(), Error> {
    nix::sys::prctl::set_no_new_privs().map_err(|e| Error::sys("prctl(PR_SET_NO_NEW_PRIVS)", e))
}

#[cfg(not(target_os = "linux"))]
fn set_no_new_privs() -> Result<(), Error> {
    Err(Error::NotPermitted {
        action: "set no_new_privs".to_owned(),
        reason: "this system has no such setting (it is Linux's)".to_owned(),
    })
}
