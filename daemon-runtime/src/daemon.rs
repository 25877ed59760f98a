//! The running daemon (or foreground program): its handle, and the calls the program
//! makes on its start-up once it runs: [`ready`], [`config`], [`Daemon::fail`].

use std::fmt;
use std::sync::Mutex;
#[cfg(feature = "config")]
use std::sync::OnceLock;

#[cfg(feature = "config")]
use crate::config::Config;
use crate::error::exit;
use crate::pidfile::ActiveGuard;
use crate::readiness::{self, Notifier};
use crate::settings::Settings;
use crate::signals::{self, Shutdown};

#[cfg(feature = "config")]
static CONFIG: OnceLock<Config> = OnceLock::new();

/// Keeps the config file the daemon was started with, for [`config`].
#[cfg(feature = "config")]
pub(crate) fn set_config(config: Config) {
    let _ = CONFIG.set(config);
}

/// Who waits for [`ready`] under [`Readiness::Manual`](crate::Readiness::Manual).
pub(crate) enum Pending {
    /// The launching process, through the readiness pipe (and a service manager, if any).
    Launcher(Notifier, u32),
    /// Only a service manager, if any: the program runs in the foreground.
    ServiceManager(u32),
}

static PENDING: Mutex<Option<Pending>> = Mutex::new(None);

pub(crate) fn set_pending(pending: Pending) {
    *PENDING.lock().unwrap_or_else(|e| e.into_inner()) = Some(pending);
}

fn take_pending() -> Option<Pending> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// The config file the daemon was started with, if any: the whole document, so the
/// program reads its own sections without parsing the file again.
#[cfg(feature = "config")]
pub fn config() -> Option<&'static Config> {
    CONFIG.get()
}

/// Reports readiness, with [`Readiness::Manual`](crate::Readiness::Manual): the launching process exits 0, and
/// a service manager listening on `NOTIFY_SOCKET` (systemd's `Type=notify`) is told
/// `READY=1`. Does nothing with automatic readiness (the runtime reported it) or when
/// called again.
pub fn ready() {
    match take_pending() {
        Some(Pending::Launcher(notifier, pid)) => {
            notifier.ready();
            readiness::notify_service_manager(pid);
        }
        Some(Pending::ServiceManager(pid)) => readiness::notify_service_manager(pid),
        None => {}
    }
}

/// Whether a launcher still waits for [`ready`].
pub(crate) fn startup_pending() -> bool {
    matches!(
        *PENDING.lock().unwrap_or_else(|e| e.into_inner()),
        Some(Pending::Launcher(..))
    )
}

/// Reports a start-up failure to a launcher still waiting for readiness. Returns
/// whether a launcher was waiting.
pub(crate) fn report_failure(code: i32, message: &str) -> bool {
    match take_pending() {
        Some(Pending::Launcher(notifier, _)) => {
            notifier.fail(code, message);
            true
        }
        _ => false,
    }
}

/// The running daemon (or foreground program), returned by [`Builder::start`](crate::Builder::start).
///
/// Dropping it removes the PID file, if it still names this process: keep it alive for
/// as long as the program runs (the `#[daemonize]` attribute does).
#[must_use = "dropping the daemon handle removes the PID file"]
pub struct Daemon<T = ()> {
    value: Option<T>,
    settings: Settings,
    pid: u32,
    detached: bool,
    _pid_file: Option<ActiveGuard>,
}

impl<T> fmt::Debug for Daemon<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Daemon")
            .field("pid", &self.pid)
            .field("detached", &self.detached)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<T> Daemon<T> {
    pub(crate) fn new(
        value: T,
        settings: Settings,
        pid: u32,
        detached: bool,
        pid_file: Option<ActiveGuard>,
    ) -> Daemon<T> {
        Daemon {
            value: Some(value),
            settings,
            pid,
            detached,
            _pid_file: pid_file,
        }
    }

    /// The privileged action's value; `None` once taken.
    pub fn take_privileged(&mut self) -> Option<T> {
        self.value.take()
    }

    /// The effective settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The config file, if one was read.
    #[cfg(feature = "config")]
    pub fn config(&self) -> Option<&'static Config> {
        config()
    }

    /// This process's pid.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether this process detached.
    pub fn is_detached(&self) -> bool {
        self.detached
    }

    /// Reports readiness (with [`Readiness::Manual`](crate::Readiness::Manual)); see
    /// [`ready`](crate::ready).
    pub fn ready(&self) {
        ready();
    }

    /// The shutdown handle; see [`Shutdown`].
    pub fn shutdown(&self) -> Shutdown {
        signals::shutdown()
    }

    /// Gives up: removes the PID file, tells a launcher still waiting for readiness
    /// why (it prints `error` and exits 69), and exits with status 69.
    pub fn fail(self, error: impl fmt::Display) -> ! {
        let message = error.to_string();
        drop(self);
        if !report_failure(exit::UNAVAILABLE, &message) {
            eprintln!("{message}");
        }
        std::process::exit(exit::UNAVAILABLE)
    }
}
