//! How the start-up sequence sets the logger up from the settings: the filter
//! (`log_level`, `RUST_LOG`), the target (`log_target`, `auto` resolved for the
//! launcher and for the daemon), installing it in the launcher, switching it in the
//! daemon after the fork, and the panic hook.

use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};

use super::{
    AutoInputs, LogError, LogFilter, LogTarget, LoggerConfig, journal_matches_stderr, resolve_auto,
};
use crate::error::{Error, print_line};
use crate::origin::Origin;
use crate::settings::Settings;

/// The logger of the launcher and of the daemon it becomes; `None` where the runtime
/// installs none (`log_target = "none"`).
#[derive(Debug)]
pub(crate) struct Setup {
    launcher: Option<LoggerConfig>,
    daemon: Option<LoggerConfig>,
}

/// What the daemon (or foreground program) logs to, for [`fatal_to_stderr_too`].
static TARGET: AtomicU8 = AtomicU8::new(0);

impl Setup {
    /// Decides the targets and the filter from `settings`; `detach` is whether the
    /// program detaches. `auto` is resolved here, in the launcher, where `JOURNAL_STREAM`
    /// can still be compared with standard error (the daemon's is `/dev/null`) and a
    /// syslog that does not answer can still be reported on the terminal.
    pub(crate) fn new(settings: &Settings, detach: bool) -> Result<Setup, Error> {
        let target = settings.log_target.value;
        if target == LogTarget::None {
            return Ok(Setup {
                launcher: None,
                daemon: None,
            });
        }
        let filter = filter(settings)?;
        let journal = journal_matches_stderr(std::env::var_os("JOURNAL_STREAM").as_deref());
        let daemon_target = match target {
            LogTarget::Auto => {
                let resolved = resolve_auto(&AutoInputs {
                    journal_stream_matches: journal,
                    detached: detach,
                    stderr_log_file: detach && settings.stderr.is_some(),
                    syslog_socket: &settings.syslog_socket.value,
                });
                if let Some(warning) = resolved.warning {
                    print_line(format_args!("{}: warning: {warning}", settings.name.value));
                }
                resolved.target
            }
            explicit => explicit,
        };
        // The launcher talks to the terminal (or the journal) until it exits.
        let launcher_target = match (detach, journal) {
            (false, _) => daemon_target,
            (true, true) => LogTarget::Journal,
            (true, false) => LogTarget::Stderr,
        };
        let config = |target| {
            let mut config = LoggerConfig::new(settings.name.value.clone(), target);
            config.filter = filter.clone();
            config.syslog_socket = settings.syslog_socket.value.clone();
            config
        };
        let daemon = config(daemon_target);
        // The launcher does not connect to the daemon's socket: say now, while standard
        // error is still the terminal, that it does not answer. (The daemon's own
        // warning goes to that very socket, and is lost.)
        if daemon_target != launcher_target
            && let Some(warning) = unreachable(&daemon)
        {
            print_line(format_args!("{}: warning: {warning}", settings.name.value));
        }
        Ok(Setup {
            launcher: Some(config(launcher_target)),
            daemon: Some(daemon),
        })
    }

    /// Installs the launcher's logger. A program that installed its own `log` logger
    /// keeps it under `auto`; with an explicit target, that is an error.
    pub(crate) fn install(&self, explicit: bool) -> Result<(), Error> {
        let Some(config) = self.launcher.clone() else {
            return Ok(());
        };
        let target = config.target;
        let name = config.ident.clone();
        match super::install(config) {
            Ok(()) => {
                TARGET.store(code(target), Ordering::Relaxed);
                Ok(())
            }
            Err(LogError::OtherLogger) if !explicit => Ok(()),
            Err(LogError::OtherLogger) => Err(Error::InvalidSetting {
                key: "log_target",
                value: target.to_string(),
                reason: LogError::OtherLogger.to_string(),
                origin: Origin::Default,
            }),
            // Installed all the same; it reconnects. On the terminal, not through the
            // logger: it would send the warning where it cannot go.
            Err(unreachable) => {
                print_line(format_args!("{name}: warning: {unreachable}"));
                Ok(())
            }
        }
    }

    /// In the daemon, before any `chroot` (the sockets are connected by path): the
    /// daemon's own target and pid.
    pub(crate) fn retarget(&self) {
        let Some(config) = self.daemon.clone() else {
            return;
        };
        let target = config.target;
        if let Err(unreachable) = super::retarget(config) {
            log::warn!("{unreachable}");
        }
        TARGET.store(code(target), Ordering::Relaxed);
    }
}

/// [`LogError::Unreachable`] if `config`'s target is a socket that does not accept a
/// connection now.
fn unreachable(config: &LoggerConfig) -> Option<LogError> {
    let path = match config.target {
        LogTarget::Syslog => &config.syslog_socket,
        LogTarget::Journal => &config.journal_socket,
        _ => return None,
    };
    let source = super::socket::probe(path).err()?;
    Some(LogError::Unreachable {
        target: config.target,
        path: path.clone(),
        source,
    })
}

/// The filter: `--log-level` (or a value forced in code) first; then `RUST_LOG` if it
/// is set, as users expect; then the attribute, the config file, the default.
fn filter(settings: &Settings) -> Result<LogFilter, Error> {
    let level = &settings.log_level;
    let from_command_line = matches!(level.origin, Origin::Flag(_) | Origin::Forced);
    let (text, origin) = match std::env::var("RUST_LOG") {
        Ok(env) if !from_command_line && !env.is_empty() => (env, Origin::Environment("RUST_LOG")),
        _ => (level.value.clone(), level.origin.clone()),
    };
    LogFilter::from_str(&text).map_err(|e| Error::InvalidSetting {
        key: "log_level",
        value: text.clone(),
        reason: e.to_string(),
        origin,
    })
}

fn code(target: LogTarget) -> u8 {
    match target {
        LogTarget::Stderr => 1,
        _ => 2,
    }
}

/// Whether a failure logged with [`fatal`](super::fatal) should also be printed by the
/// program's own error path: not when the log is standard error already, where the
/// message would show twice.
pub(crate) fn logs_to_terminal() -> bool {
    TARGET.load(Ordering::Relaxed) == 1
}

/// Logs every panic (message and location) with the runtime's logger, then lets the
/// previous hook (Rust's: the message on stderr, which a detached daemon's is not)
/// run. Once per process.
pub(crate) fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !logs_to_terminal() {
                super::log_panic(info);
            }
            previous(info);
        }));
    });
}
