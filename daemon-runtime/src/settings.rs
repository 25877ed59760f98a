//! The daemon's settings, the sources they come from, and the one rule that merges them.
//!
//! Lowest to highest: built-in default, code (the `#[daemonize]` attribute or the
//! builder), the `[daemon]` section of the config file, command-line flags, and a value
//! forced in code. One function, `resolve`, applies that rule; every resolved value remembers its
//! [`Origin`] so an error can say where a bad value came from.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::Error;

/// The default file mode creation mask: no write for the group, nothing for others.
pub const DEFAULT_UMASK: u32 = 0o027;
/// How long `stop` waits after SIGTERM before it sends SIGKILL, by default.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the launching process waits for the daemon to report ready, by default.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(30);

/// One source's values for the daemon settings; `None` means "this source does not say".
///
/// The builder, the config file's `[daemon]` section and the command-line flags each
/// produce one of these; [`Settings`] is what remains after merging them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Name used in messages (default: the binary's name).
    pub name: Option<String>,
    /// Detach into the background.
    pub detach: Option<bool>,
    /// User to run as, by name or uid.
    pub user: Option<String>,
    /// Group to run as, by name or gid.
    pub group: Option<String>,
    /// Working directory.
    pub dir: Option<PathBuf>,
    /// PID file path.
    pub pid_file: Option<PathBuf>,
    /// File mode creation mask.
    pub umask: Option<u32>,
    /// File that receives the daemon's standard output.
    pub stdout: Option<PathBuf>,
    /// File that receives the daemon's standard error.
    pub stderr: Option<PathBuf>,
    /// Directory to `chroot` into before dropping privileges.
    pub chroot: Option<PathBuf>,
    /// How long `stop` waits after SIGTERM before SIGKILL.
    pub stop_timeout: Option<Duration>,
    /// How long the launcher waits for the daemon to report ready.
    pub start_timeout: Option<Duration>,
}

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
            Origin::Forced => f.write_str("forced in code"),
        }
    }
}

/// A resolved setting and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Its source.
    pub origin: Origin,
}

impl<T> Sourced<T> {
    fn default(value: T) -> Self {
        Sourced {
            value,
            origin: Origin::Default,
        }
    }
}

/// The settings after merging every source, each with its [`Origin`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// Name used in messages.
    pub name: Sourced<String>,
    /// Whether to detach.
    pub detach: Sourced<bool>,
    /// User to run as.
    pub user: Option<Sourced<String>>,
    /// Group to run as.
    pub group: Option<Sourced<String>>,
    /// Working directory; `/` when detached and unset.
    pub dir: Option<Sourced<PathBuf>>,
    /// PID file.
    pub pid_file: Option<Sourced<PathBuf>>,
    /// File mode creation mask.
    pub umask: Sourced<u32>,
    /// Standard output log file; `/dev/null` when detached and unset.
    pub stdout: Option<Sourced<PathBuf>>,
    /// Standard error log file; `/dev/null` when detached and unset.
    pub stderr: Option<Sourced<PathBuf>>,
    /// Directory to chroot into.
    pub chroot: Option<Sourced<PathBuf>>,
    /// `stop`'s grace period before SIGKILL.
    pub stop_timeout: Sourced<Duration>,
    /// How long the launcher waits for readiness.
    pub start_timeout: Sourced<Duration>,
}

impl fmt::Display for Settings {
    /// One `key = value  # origin` line per setting, unset ones included, in the
    /// `[daemon]` section's terms.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn line<T: fmt::Debug>(
            f: &mut fmt::Formatter<'_>,
            key: &str,
            value: Option<&Sourced<T>>,
        ) -> fmt::Result {
            match value {
                Some(s) => writeln!(f, "{key} = {:?}  # {}", s.value, s.origin),
                None => writeln!(f, "{key} = (unset)"),
            }
        }
        line(f, "name", Some(&self.name))?;
        line(f, "detach", Some(&self.detach))?;
        line(f, "user", self.user.as_ref())?;
        line(f, "group", self.group.as_ref())?;
        line(f, "dir", self.dir.as_ref())?;
        line(f, "pid_file", self.pid_file.as_ref())?;
        writeln!(
            f,
            "umask = 0o{:03o}  # {}",
            self.umask.value, self.umask.origin
        )?;
        line(f, "stdout", self.stdout.as_ref())?;
        line(f, "stderr", self.stderr.as_ref())?;
        line(f, "chroot", self.chroot.as_ref())?;
        line(f, "stop_timeout", Some(&self.stop_timeout))?;
        line(f, "start_timeout", Some(&self.start_timeout))
    }
}

/// Parses a umask written as octal text: `027`, `0o027`, `0027` or `7`.
///
/// Shared by the config file's string form and the `--umask` flag, so both read a umask
/// the way the shell's `umask` builtin does. The error says why, for the caller to
/// put after the value and its source.
pub fn parse_umask(text: &str) -> Result<u32, String> {
    let digits = text.strip_prefix("0o").unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Err(format!(
            "`{text}` is not octal; write a umask as 027 or 0o027"
        ));
    }
    match u32::from_str_radix(digits, 8) {
        Ok(v) if v <= 0o777 => Ok(v),
        _ => Err(format!("`{text}` is above 0o777")),
    }
}

/// Which source a [`Layer`] holds.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    Code,
    Attribute,
    #[cfg(feature = "config")]
    File {
        path: PathBuf,
        lines: crate::config::KeyLines,
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
            #[cfg(feature = "config")]
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
    match key {
        "detach" => "--daemon",
        "user" => "--user",
        "group" => "--group",
        "dir" => "--dir",
        "pid_file" => "--pid-file",
        "umask" => "--umask",
        // Settings without a flag of their own never come from the flags layer.
        _ => "the command line",
    }
}

/// Merges `layers` (lowest priority first) over the built-in defaults and checks each value.
///
/// `default_name` is the name used when no layer sets one (the binary's name).
pub(crate) fn resolve(layers: &[Layer<'_>], default_name: &str) -> Result<Settings, Error> {
    // The highest layer that sets `key` wins.
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

    let settings = Settings {
        name: pick(layers, "name", |o| o.name.as_ref())
            .unwrap_or_else(|| Sourced::default(default_name.to_owned())),
        detach: pick(layers, "detach", |o| o.detach.as_ref())
            .unwrap_or_else(|| Sourced::default(false)),
        user: pick(layers, "user", |o| o.user.as_ref()),
        group: pick(layers, "group", |o| o.group.as_ref()),
        dir: pick(layers, "dir", |o| o.dir.as_ref()),
        pid_file: pick(layers, "pid_file", |o| o.pid_file.as_ref()),
        umask: pick(layers, "umask", |o| o.umask.as_ref())
            .unwrap_or_else(|| Sourced::default(DEFAULT_UMASK)),
        stdout: pick(layers, "stdout", |o| o.stdout.as_ref()),
        stderr: pick(layers, "stderr", |o| o.stderr.as_ref()),
        chroot: pick(layers, "chroot", |o| o.chroot.as_ref()),
        stop_timeout: pick(layers, "stop_timeout", |o| o.stop_timeout.as_ref())
            .unwrap_or_else(|| Sourced::default(DEFAULT_STOP_TIMEOUT)),
        start_timeout: pick(layers, "start_timeout", |o| o.start_timeout.as_ref())
            .unwrap_or_else(|| Sourced::default(DEFAULT_START_TIMEOUT)),
    };
    settings.validate()?;
    Ok(settings)
}

impl Settings {
    /// Checks what can be checked without touching the system; the rest (users exist,
    /// directories exist) is checked when starting.
    fn validate(&self) -> Result<(), Error> {
        let invalid = |key, value: String, reason: &str, origin: &Origin| Error::InvalidSetting {
            key,
            value,
            reason: reason.to_owned(),
            origin: origin.clone(),
        };
        if self.umask.value > 0o777 {
            return Err(invalid(
                "umask",
                format!("0o{:o}", self.umask.value),
                "a umask is at most 0o777",
                &self.umask.origin,
            ));
        }
        if self.name.value.is_empty() || self.name.value.contains('/') {
            return Err(invalid(
                "name",
                self.name.value.clone(),
                "a name is non-empty and has no `/`",
                &self.name.origin,
            ));
        }
        for (key, value) in [("user", &self.user), ("group", &self.group)] {
            if let Some(v) = value
                && v.value.trim().is_empty()
            {
                return Err(invalid(key, v.value.clone(), "it is empty", &v.origin));
            }
        }
        let paths = [
            ("dir", &self.dir),
            ("pid_file", &self.pid_file),
            ("stdout", &self.stdout),
            ("stderr", &self.stderr),
            ("chroot", &self.chroot),
        ];
        for (key, value) in paths {
            if let Some(v) = value
                && v.value.as_os_str().is_empty()
            {
                return Err(invalid(key, String::new(), "the path is empty", &v.origin));
            }
        }
        if let Some(pid_file) = &self.pid_file
            && pid_file.value.file_name().is_none()
        {
            return Err(invalid(
                "pid_file",
                pid_file.value.display().to_string(),
                "the path does not name a file",
                &pid_file.origin,
            ));
        }
        if self.start_timeout.value.is_zero() {
            return Err(invalid(
                "start_timeout",
                "0".to_owned(),
                "the launcher needs some time to wait for the daemon",
                &self.start_timeout.origin,
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table-driven precedence test: it needs the config file's level.
    #[cfg(feature = "config")]
    mod precedence {
        use super::*;
        use crate::config::KeyLines;

        /// One setting's value at each of the five levels; `None` means the level leaves it unset.
        struct Row {
            key: &'static str,
            set: fn(&mut Options, u32),
            get: fn(&Settings) -> Option<String>,
        }

        fn rows() -> Vec<Row> {
            fn path(n: u32) -> PathBuf {
                PathBuf::from(format!("/p{n}"))
            }
            vec![
                Row {
                    key: "name",
                    set: |o, n| o.name = Some(format!("n{n}")),
                    get: |s| Some(s.name.value.clone()),
                },
                Row {
                    key: "detach",
                    set: |o, n| o.detach = Some(n % 2 == 1),
                    get: |s| Some(s.detach.value.to_string()),
                },
                Row {
                    key: "user",
                    set: |o, n| o.user = Some(format!("u{n}")),
                    get: |s| s.user.as_ref().map(|v| v.value.clone()),
                },
                Row {
                    key: "group",
                    set: |o, n| o.group = Some(format!("g{n}")),
                    get: |s| s.group.as_ref().map(|v| v.value.clone()),
                },
                Row {
                    key: "dir",
                    set: |o, n| o.dir = Some(path(n)),
                    get: |s| s.dir.as_ref().map(|v| v.value.display().to_string()),
                },
                Row {
                    key: "pid_file",
                    set: |o, n| o.pid_file = Some(path(n)),
                    get: |s| s.pid_file.as_ref().map(|v| v.value.display().to_string()),
                },
                Row {
                    key: "umask",
                    // Level 0 sets umask 0: "set to zero" must beat "unset".
                    set: |o, n| o.umask = Some(n),
                    get: |s| Some(format!("{:o}", s.umask.value)),
                },
                Row {
                    key: "stdout",
                    set: |o, n| o.stdout = Some(path(n)),
                    get: |s| s.stdout.as_ref().map(|v| v.value.display().to_string()),
                },
                Row {
                    key: "stderr",
                    set: |o, n| o.stderr = Some(path(n)),
                    get: |s| s.stderr.as_ref().map(|v| v.value.display().to_string()),
                },
                Row {
                    key: "chroot",
                    set: |o, n| o.chroot = Some(path(n)),
                    get: |s| s.chroot.as_ref().map(|v| v.value.display().to_string()),
                },
                Row {
                    key: "stop_timeout",
                    set: |o, n| o.stop_timeout = Some(Duration::from_secs(n.into())),
                    get: |s| Some(s.stop_timeout.value.as_secs().to_string()),
                },
                Row {
                    key: "start_timeout",
                    set: |o, n| o.start_timeout = Some(Duration::from_secs((n + 1).into())),
                    get: |s| Some((s.start_timeout.value.as_secs() - 1).to_string()),
                },
            ]
        }

        fn expected_origin(level: usize, key: &'static str, file: &std::path::Path) -> Origin {
            match level {
                0 => Origin::Code,
                1 => Origin::ConfigFile {
                    path: file.to_owned(),
                    line: 7,
                },
                2 => Origin::Flag(flag_of(key)),
                3 => Origin::Forced,
                _ => unreachable!(),
            }
        }

        /// Every setting, every subset of the four non-default levels: the highest level
        /// that sets a value wins, and the origin says which level that was.
        #[test]
        fn highest_level_wins_for_every_setting() {
            let file = PathBuf::from("/etc/app.toml");
            let lines = KeyLines::uniform(7);
            for row in rows() {
                for mask in 0u32..16 {
                    let mut levels = [
                        Options::default(),
                        Options::default(),
                        Options::default(),
                        Options::default(),
                    ];
                    for (level, options) in levels.iter_mut().enumerate() {
                        if mask & (1 << level) != 0 {
                            // Umask at level 0 is 0, so "set to zero" is told apart from "unset".
                            (row.set)(options, level as u32);
                        }
                    }
                    let sources = [
                        Source::Code,
                        Source::File {
                            path: file.clone(),
                            lines: lines.clone(),
                        },
                        Source::Flags,
                        Source::Forced,
                    ];
                    let layers: Vec<Layer<'_>> = levels
                        .iter()
                        .zip(sources)
                        .map(|(options, source)| Layer { options, source })
                        .collect();
                    let settings = resolve(&layers, "bin").unwrap();
                    let winner = (0..4).rev().find(|level| mask & (1 << level) != 0);

                    let mut reference = Options::default();
                    let expected = match winner {
                        Some(level) => {
                            (row.set)(&mut reference, level as u32);
                            let only = [Layer {
                                options: &reference,
                                source: Source::Code,
                            }];
                            (row.get)(&resolve(&only, "bin").unwrap())
                        }
                        None => (row.get)(&resolve(&[], "bin").unwrap()),
                    };
                    assert_eq!(
                        (row.get)(&settings),
                        expected,
                        "{} with levels {mask:04b}",
                        row.key
                    );
                    let origin = origin_of(&settings, row.key);
                    match winner {
                        Some(level) => assert_eq!(
                            origin,
                            Some(expected_origin(level, row.key, &file)),
                            "{} with levels {mask:04b}",
                            row.key
                        ),
                        None => assert!(
                            matches!(origin, None | Some(Origin::Default)),
                            "{} with no level set came from {origin:?}",
                            row.key
                        ),
                    }
                }
            }
        }

        fn origin_of(s: &Settings, key: &str) -> Option<Origin> {
            let o = |v: &Option<Sourced<_>>| v.as_ref().map(|v: &Sourced<_>| v.origin.clone());
            match key {
                "name" => Some(s.name.origin.clone()),
                "detach" => Some(s.detach.origin.clone()),
                "user" => o(&s.user),
                "group" => o(&s.group),
                "dir" => s.dir.as_ref().map(|v| v.origin.clone()),
                "pid_file" => s.pid_file.as_ref().map(|v| v.origin.clone()),
                "umask" => Some(s.umask.origin.clone()),
                "stdout" => s.stdout.as_ref().map(|v| v.origin.clone()),
                "stderr" => s.stderr.as_ref().map(|v| v.origin.clone()),
                "chroot" => s.chroot.as_ref().map(|v| v.origin.clone()),
                "stop_timeout" => Some(s.stop_timeout.origin.clone()),
                "start_timeout" => Some(s.start_timeout.origin.clone()),
                _ => panic!("no such key {key}"),
            }
        }
    }

    #[test]
    fn parse_umask_text() {
        assert_eq!(parse_umask("027"), Ok(0o27));
        assert_eq!(parse_umask("0o777"), Ok(0o777));
        assert_eq!(parse_umask("0"), Ok(0));
        assert_eq!(parse_umask("1000"), Err("`1000` is above 0o777".into()));
        assert_eq!(
            parse_umask("8"),
            Err("`8` is not octal; write a umask as 027 or 0o027".into())
        );
        assert!(parse_umask("").is_err());
        assert!(parse_umask("0o").is_err());
        assert!(parse_umask("99999999999999999999").is_err());
    }

    #[test]
    fn defaults() {
        let s = resolve(&[], "hello").unwrap();
        assert_eq!(s.name.value, "hello");
        assert!(!s.detach.value);
        assert_eq!(s.umask, Sourced::default(0o027));
        assert_eq!(s.stop_timeout.value, DEFAULT_STOP_TIMEOUT);
        assert!(s.user.is_none() && s.pid_file.is_none() && s.dir.is_none());
    }

    #[test]
    fn umask_above_0o777_names_value_and_origin() {
        let options = Options {
            umask: Some(0o1000),
            ..Options::default()
        };
        let err = resolve(
            &[Layer {
                options: &options,
                source: Source::Attribute,
            }],
            "x",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid umask `0o1000` (from #[daemonize]): a umask is at most 0o777"
        );
    }

    #[test]
    fn empty_user_is_rejected() {
        let options = Options {
            user: Some(" ".into()),
            ..Options::default()
        };
        let err = resolve(
            &[Layer {
                options: &options,
                source: Source::Flags,
            }],
            "x",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid user ` ` (from --user): it is empty"
        );
    }
}
