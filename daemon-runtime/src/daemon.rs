//! The running daemon (or foreground program): its handle, and the calls the program
//! makes on its start-up once it runs: [`ready`], [`config`], [`Daemon::fail`].

use std::fmt;
use std::sync::Mutex;
#[cfg(feature = "config")]
use std::sync::OnceLock;

#[cfg(feature = "config")]
use crate::config::Config;
use crate::error::exit;
use crate::notify::{self, NotifyFd, Watchdog};
use crate::pidfile::ActiveGuard;
use crate::readiness::Notifier;
use crate::settings::Settings;
use crate::signals::{self, Shutdown};

#[cfg(feature = "config")]
static CONFIG: OnceLock<Config> = OnceLock::new();

/// Keeps the config file the daemon was started with, for [`config`].
#[cfg(feature = "config")]
pub(crate) fn set_config(config: Config) {
    let _ = CONFIG.set(config);
}

/// What reporting readiness does besides telling the launcher: the `notify_fd`
/// newline (s6), `READY=1` to a service manager in the foreground, and the watchdog
/// keep-alive, which starts once the program is ready.
#[derive(Debug)]
pub(crate) struct Ready {
    pub(crate) notify_fd: Option<NotifyFd>,
    pub(crate) watchdog: Watchdog,
    /// In the foreground, this process tells the service manager; detached, the
    /// launcher does (systemd knows it as the main process, not the daemon yet).
    pub(crate) foreground: bool,
}

impl Ready {
    /// Reports readiness to whoever waits: the launcher (`notifier`), the supervisor's
    /// descriptor, the service manager; then starts the watchdog keep-alive.
    pub(crate) fn report(self, notifier: Option<Notifier>) {
        if let Some(notifier) = notifier {
            notifier.ready();
        }
        if self.foreground
            && let Err(e) = notify::ready(Some(std::process::id()))
        {
            log::warn!("{e}");
        }
        if let Some(fd) = self.notify_fd
            && let Err(e) = fd.send_ready()
        {
            log::warn!("{e}");
        }
        if let Err(e) = notify::start_watchdog(self.watchdog) {
            log::warn!("{e}");
        }
    }
}

/// Who waits for [`ready`] under [`Readiness::Manual`](crate::Readiness::Manual).
pub(crate) struct Pending {
    /// The launching process, through the readiness channel; `None` in the foreground.
    pub(crate) launcher: Option<Notifier>,
    pub(crate) then: Ready,
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
///
/// `None` when no file was read: no `--config`, and no default file set (the
/// attribute's `config = ...`, [`Builder::config_file`](crate::Builder::config_file)) or
/// the default file is missing. [`Config::section`] then reads a table of the
/// program's own: `Ok(None)` when the file has none of that name.
#[cfg(feature = "config")]
pub fn config() -> Option<&'static Config> {
    CONFIG.get()
}

/// Reports readiness, with [`Readiness::Manual`](crate::Readiness::Manual): the
/// launching process exits 0, a service manager listening on `NOTIFY_SOCKET`
/// (systemd's `Type=notify`) is told `READY=1`, and a supervisor's `notify_fd` gets its
/// newline. Does nothing with automatic readiness (the runtime reported it) or when
/// called again.
pub fn ready() {
    if let Some(pending) = take_pending() {
        pending.then.report(pending.launcher);
    }
}

/// Whether a launcher still waits for [`ready`].
pub(crate) fn startup_pending() -> bool {
    matches!(
        &*PENDING.lock().unwrap_or_else(|e| e.into_inner()),
        Some(Pending {
            launcher: Some(_),
            ..
        })
    )
}

/// Reports a start-up failure to a launcher still waiting for readiness, and to a
/// service manager. Returns whether a launcher was waiting.
pub(crate) fn report_failure(code: i32, message: &str) -> bool {
    let _ = notify::failed(crate::error::errno_for(code), message);
    match take_pending() {
        Some(Pending {
            launcher: Some(notifier),
            ..
        }) => {
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
