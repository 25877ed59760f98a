//! The daemon's settings, the sources they come from, and the one rule that merges them.
//!
//! Every setting is one entry of the table in `table.rs`: its key (the same in the
//! attribute, the builder, the config file and [`Options`]), its kind (how it is read and
//! checked), its built-in default, its flag and its help. The config parser, the
//! command-line flags, `--help` and the resolver are all driven from it.
//!
//! Lowest to highest: built-in default, code (the `#[daemonize]` attribute or the
//! builder), the `[daemon]` section of the config file, command-line flags, and a value
//! forced in code. One function, `resolve`, applies that rule; every resolved value
//! remembers its [`Origin`] so an error can say where a bad value came from.

#[macro_use]
mod define;
pub(crate) use define::settings_table;
mod args;
mod kinds;
mod table;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::Error;
pub use crate::origin::Origin;
pub(crate) use kinds::Kind;
#[cfg(feature = "config")]
pub(crate) use kinds::Mismatch;
pub use kinds::{MAX_SECONDS, PidFileSetting, parse_umask};
pub use table::{
    DEFAULT_LOG_LEVEL, DEFAULT_START_TIMEOUT, DEFAULT_STOP_TIMEOUT, DEFAULT_UMASK, Options,
    Settings,
};
pub(crate) use table::{TABLE, builder_setters, flag_args, resolve};

/// A resolved setting and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Its source.
    pub origin: Origin,
}

impl<T> Sourced<T> {
    fn built_in(value: T) -> Self {
        Sourced {
            value,
            origin: Origin::Default,
        }
    }
}

/// One row of the settings table, as the config parser, the flags and messages see it.
#[derive(Debug)]
pub(crate) struct Spec {
    /// The key, as in the attribute, the builder and the `[daemon]` section.
    pub(crate) key: &'static str,
    /// The command-line flag that sets it, if any.
    pub(crate) flag: Option<&'static str>,
    /// The flag that sets its "off" value (`--no-pid-file`, `--foreground`), if any.
    pub(crate) flag_off: Option<&'static str>,
    /// The flag's help line.
    pub(crate) help: &'static str,
    /// Whether the config file's `[daemon]` section takes it.
    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    pub(crate) config: bool,
}

impl Spec {
    /// The row for `key`.
    pub(crate) fn get(key: &str) -> Option<&'static Spec> {
        TABLE.iter().find(|spec| spec.key == key)
    }

    /// The keys the `[daemon]` section accepts, in table order.
    #[cfg(feature = "config")]
    pub(crate) fn config_keys() -> impl Iterator<Item = &'static str> {
        TABLE.iter().filter(|spec| spec.config).map(|spec| spec.key)
    }
}

/// What the built-in defaults depend on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Context<'a> {
    /// The name used when no source sets one: the binary's name.
    pub(crate) name: &'a str,
    /// Where a PID file goes when no source names one.
    pub(crate) pid_dir: PidDir<'a>,
}

impl<'a> Context<'a> {
    /// The context of a real start: the PID file's default directory is looked up (only
    /// if no source names a PID file).
    pub(crate) fn new(name: &'a str) -> Context<'a> {
        Context {
            name,
            pid_dir: PidDir::Look,
        }
    }
}

/// Where the default PID file goes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PidDir<'a> {
    /// Look it up with [`default_pid_dir`].
    Look,
    /// This one, or none (for tests).
    #[cfg_attr(not(test), allow(dead_code))]
    Fixed(Option<&'a Path>),
}

/// The built-in defaults, for `--help` where the program's own are not known (a
/// flattened [`DaemonArgs`](crate::DaemonArgs)): named after the binary.
pub(crate) fn built_in() -> Option<Settings> {
    let arg0 = std::env::args_os().next()?;
    let name = Path::new(&arg0).file_name()?.to_string_lossy().into_owned();
    resolve(&[], &Context::new(&name)).ok()
}

/// The directory of the default PID file, `<dir>/<name>.pid`: `/run` as root;
/// otherwise `$XDG_RUNTIME_DIR` if it is an absolute path to a directory of this user's
/// that no one else can write. Never a world-writable directory such as `/tmp`, where
/// another user could take the name first: without a suitable directory there is no
/// default PID file.
pub(crate) fn default_pid_dir() -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    // Looked up once per process: `--help` and the start both ask.
    static DIR: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let euid = nix::unistd::geteuid();
        let dir = match euid.is_root() {
            true => PathBuf::from("/run"),
            false => PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR")?),
        };
        let meta = std::fs::metadata(&dir).ok()?;
        let private = meta.is_dir() && meta.uid() == euid.as_raw() && meta.mode() & 0o022 == 0;
        (dir.is_absolute() && private).then_some(dir)
    })
    .clone()
}

/// `<dir>/<name>.pid` in the [default directory](default_pid_dir), or no PID file.
fn default_pid_file(ctx: &Context<'_>, name: &str) -> PidFileSetting {
    let dir = match ctx.pid_dir {
        PidDir::Look => default_pid_dir(),
        PidDir::Fixed(dir) => dir.map(Path::to_owned),
    };
    match dir {
        Some(dir) => PidFileSetting::Path(dir.join(format!("{name}.pid"))),
        None => PidFileSetting::Off,
    }
}

/// Which source a [`Layer`] holds.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    Code,
    Attribute,
    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    File {
        path: PathBuf,
        lines: KeyLines,
    },
    Flags,
    Forced,
}

/// One source's options, lowest priority first when passed to [`resolve`].
#[derive(Clone, Debug)]
pub(crate) struct Layer<'a> {
    pub(crate) options: &'a Options,
    pub(crate) source: Source,
}

impl Layer<'_> {
    /// Where this layer's value of `key` came from; `off` if it is the value a flag of
    /// its own sets (`--no-pid-file`).
    fn origin(&self, key: &'static str, off: bool) -> Origin {
        match &self.source {
            Source::Code => Origin::Code,
            Source::Attribute => Origin::Attribute,
            Source::File { path, lines } => Origin::ConfigFile {
                path: path.clone(),
                line: lines.line_of(key),
            },
            Source::Flags => Origin::Flag(flag_of(key, off)),
            Source::Forced => Origin::Forced,
        }
    }
}

/// The command-line flag that sets `key` (to its "off" value if `off`).
fn flag_of(key: &'static str, off: bool) -> &'static str {
    let spec = Spec::get(key);
    let flag = match off {
        true => spec.and_then(|spec| spec.flag_off.or(spec.flag)),
        false => spec.and_then(|spec| spec.flag),
    };
    // Settings without a flag of their own never come from the flags layer.
    flag.unwrap_or("the command line")
}

/// A flag's help line, with the effective default if there is one.
fn with_default(help: &str, default: Option<String>) -> String {
    match default {
        Some(default) => format!("{help} [default: {default}]"),
        None => help.to_owned(),
    }
}

/// The line of each key of the `[daemon]` section, for messages.
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyLines {
    lines: Vec<(&'static str, usize)>,
    #[cfg(test)]
    uniform: Option<usize>,
}

impl KeyLines {
    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    pub(crate) fn push(&mut self, key: &'static str, line: usize) {
        self.lines.push((key, line));
    }

    pub(crate) fn line_of(&self, key: &str) -> usize {
        #[cfg(test)]
        if let Some(line) = self.uniform {
            return line;
        }
        self.lines
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(0, |(_, line)| *line)
    }

    #[cfg(all(test, feature = "config"))]
    pub(crate) fn uniform(line: usize) -> Self {
        KeyLines {
            lines: Vec::new(),
            uniform: Some(line),
        }
    }
}

/// The highest layer that sets `key` wins.
fn pick<K: Kind>(
    layers: &[Layer<'_>],
    key: &'static str,
    // A function pointer, not `impl Fn`: one copy per kind rather than one per setting.
    get: fn(&Options) -> Option<&K::Value>,
) -> Option<Sourced<K::Value>> {
    layers.iter().rev().find_map(|layer| {
        get(layer.options).map(|value| Sourced {
            value: value.clone(),
            origin: layer.origin(key, K::is_off(value)),
        })
    })
}

/// Checks a resolved value with its kind's rule; the error names the value and its origin.
fn checked<K: Kind>(
    key: &'static str,
    value: Sourced<K::Value>,
) -> Result<Sourced<K::Value>, Error> {
    match K::check(&value.value) {
        Ok(()) => Ok(value),
        Err(reason) => Err(Error::InvalidSetting {
            key,
            value: K::raw(&value.value),
            reason,
            origin: value.origin,
        }),
    }
}

/// `key = value  # origin`, or `key = (unset)`.
fn show_line<K: Kind>(
    f: &mut fmt::Formatter<'_>,
    key: &str,
    value: Option<&Sourced<K::Value>>,
) -> fmt::Result {
    match value {
        Some(s) => writeln!(f, "{key} = {}  # {}", K::show(&s.value), s.origin),
        None => writeln!(f, "{key} = (unset)"),
    }
}

#[cfg(test)]
mod tests;
