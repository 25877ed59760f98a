//! Where a setting's value came from: the leaf type every layer (settings, config file,
//! command line, errors) uses to say so.

use std::fmt;
use std::path::PathBuf;

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// The built-in default.
    Default,
    /// Set in code through the builder.
    Code,
    /// Set in the `#[daemonize(...)]` attribute.
    Attribute,
    /// The `[daemon]` section of a config file.
    ConfigFile {
        /// The file.
        path: PathBuf,
        /// 1-based line of the key.
        line: usize,
    },
    /// A command-line flag.
    Flag(&'static str),
    /// An environment variable (`RUST_LOG`).
    Environment(&'static str),
    /// Forced in code over every other source.
    Forced,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("built-in default"),
            Origin::Code => f.write_str("set in code"),
            Origin::Attribute => f.write_str("from #[daemonize]"),
            Origin::ConfigFile { path, line } => {
                write!(f, "from {}, line {line}", path.display())
            }
            Origin::Flag(flag) => write!(f, "from {flag}"),
            Origin::Environment(var) => write!(f, "from ${var}"),
            Origin::Forced => f.write_str("forced in code"),
        }
    }
}
