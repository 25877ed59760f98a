//! What a service manager hands the program at start-up: `NOTIFY_SOCKET` and the
//! watchdog (systemd's `Type=notify`), `LISTEN_FDS` (socket activation), and whether it
//! expects the program to stay in the foreground.
//!
//! Taken once, first thing in [`Builder::start`](crate::Builder::start): the variables
//! are removed from the environment (where the process has one thread) so that nothing
//! the program runs inherits them, and a failing start can still tell the manager why.

use std::sync::OnceLock;

use crate::error::{Error, print_line};
use crate::listen;
use crate::notify::{self, NotifyFd};
use crate::sys::process::SingleThreaded;

/// Why a service manager that started this process expects it to stay in the
/// foreground, if one does; decided before the variables that tell are removed.
static EXPECTS_FOREGROUND: OnceLock<Option<&'static str>> = OnceLock::new();

/// Reads what a service manager passed and keeps it for the program: the notify socket
/// (connected now: a `chroot` later would hide its path), the watchdog, the inherited
/// sockets. A socket or watchdog that cannot be used is a warning on stderr, naming the
/// variable and its value, and the start goes on without it; inherited descriptors that
/// are not what `LISTEN_FDS` says are an error (the program would serve on nothing).
pub(crate) fn take_environment(single: Option<&SingleThreaded>, name: &str) -> Result<(), Error> {
    EXPECTS_FOREGROUND.get_or_init(foreground_reason);
    let pid = std::process::id();
    for refused in notify::init_from_env(pid, single) {
        // The logger is not installed yet: this is the terminal, or the journal.
        print_line(format_args!(
            "{name}: warning: {refused}; going on without it"
        ));
    }
    // SAFETY: called once, first thing in the start, before anything could have opened
    // descriptors in place of those LISTEN_FDS names.
    let listeners =
        unsafe { listen::take_from_env(pid, single) }.map_err(|source| Error::ServiceManager {
            source: source.into(),
        })?;
    listen::store(listeners);
    Ok(())
}

/// Why a forced daemon should stay in the foreground here, if it should: the process
/// was started by a service manager that supervises it as it is.
pub(crate) fn expects_foreground() -> Option<&'static str> {
    *EXPECTS_FOREGROUND.get_or_init(foreground_reason)
}

fn foreground_reason() -> Option<&'static str> {
    if std::env::var_os("NOTIFY_SOCKET").is_some() {
        return Some("NOTIFY_SOCKET is set (systemd Type=notify)");
    }
    if std::env::var_os("INVOCATION_ID").is_some() {
        return Some("INVOCATION_ID is set (started by systemd)");
    }
    if nix::unistd::getppid().as_raw() == 1 {
        return Some("its parent is init");
    }
    // inetd-style supervisors hand the connection over on stdin (python-daemon's test).
    let stdin = nix::sys::stat::fstat(std::io::stdin());
    if stdin.is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFSOCK) {
        return Some("standard input is a socket");
    }
    None
}

/// Claims the `notify_fd` setting's descriptor (s6's `notification-fd`).
pub(crate) fn claim_notify_fd(fd: Option<i32>) -> Result<Option<NotifyFd>, Error> {
    let Some(fd) = fd else {
        return Ok(None);
    };
    // SAFETY: the descriptor is the one the setting names: the supervisor passed it for
    // this purpose, and nothing else in the runtime uses it.
    unsafe { NotifyFd::claim(fd) }
        .map(Some)
        .map_err(|source| Error::ServiceManager {
            source: source.into(),
        })
}
