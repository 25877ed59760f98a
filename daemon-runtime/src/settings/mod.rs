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
mod kinds;
mod table;

use std::fmt;
use std::path::PathBuf;

use crate::error::Error;
pub use crate::origin::Origin;
pub(crate) use kinds::Kind;
#[cfg(feature = "config")]
pub(crate) use kinds::Mismatch;
pub use kinds::{PidFileSetting, parse_umask};
pub use table::{DEFAULT_START_TIMEOUT, DEFAULT_STOP_TIMEOUT, DEFAULT_UMASK, Options, Settings};
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
    fn origin(&self, key: &'static str) -> Origin {
        match &self.source {
            Source::Code => Origin::Code,
            Source::Attribute => Origin::Attribute,
            Source::File { path, lines } => Origin::ConfigFile {
                path: path.clone(),
                line: lines.line_of(key),
            },
            Source::Flags => Origin::Flag(flag_of(key)),
            Source::Forced => Origin::Forced,
        }
    }
}

/// The command-line flag that sets `key`.
fn flag_of(key: &'static str) -> &'static str {
    // Settings without a flag of their own never come from the flags layer.
    Spec::get(key)
        .and_then(|spec| spec.flag)
        .unwrap_or("the command line")
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
fn pick<T: Clone>(
    layers: &[Layer<'_>],
    key: &'static str,
    get: impl Fn(&Options) -> Option<&T>,
) -> Option<Sourced<T>> {
    layers.iter().rev().find_map(|layer| {
        get(layer.options).map(|value| Sourced {
            value: value.clone(),
            origin: layer.origin(key),
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
