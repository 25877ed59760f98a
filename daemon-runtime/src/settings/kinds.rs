//! What kind of value each setting holds: how it is read from a command-line flag and
//! from the config file, what is checked whatever its source, and how it is shown.
//!
//! A setting's kind is named in the settings table (`table.rs`); the config parser, the
//! flags, `--help` and the resolver all go through it, so a value reads and checks the
//! same way wherever it was written.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::logger::{LogFilter, LogTarget};
use crate::notify::Watchdog;

#[cfg(feature = "config")]
use toml::de::DeValue;

/// One kind of setting value.
pub(crate) trait Kind {
    /// The Rust type of the value.
    type Value: Clone + std::fmt::Debug + PartialEq + Send + Sync + 'static;

    /// Reads a value written as text: a flag's argument.
    fn parse(text: &str) -> Result<Self::Value, String>;

    /// Reads a value from the config file's `[daemon]` table.
    #[cfg(feature = "config")]
    fn from_toml(value: &DeValue<'_>) -> Result<Self::Value, Mismatch>;

    /// Checks a value, whatever source gave it (code, file, flag); the reason on failure.
    fn check(_value: &Self::Value) -> Result<(), String> {
        Ok(())
    }

    /// The value as the settings listing and `--help` show it.
    fn show(value: &Self::Value) -> String;

    /// The value as an error message quotes it: plain text.
    fn raw(value: &Self::Value) -> String {
        Self::show(value)
    }

    /// Whether the value is the "off" one that a flag of its own sets (`--foreground`
    /// for `daemon`, `--no-pid-file`), so that messages name that flag.
    fn is_off(_value: &Self::Value) -> bool {
        false
    }

    /// The "off" value that a flag of its own sets (`--no-pid-file`), if the kind has one.
    fn off() -> Option<Self::Value> {
        None
    }
}

/// Why a config file value was not taken.
#[cfg(feature = "config")]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Mismatch {
    /// The TOML type is wrong: what was expected.
    Expected(&'static str),
    /// The type is right, the value is not: why.
    Invalid(String),
}

/// A value written as a TOML string, read as the flag's text is; `expected` says what
/// it must be when it is not a string.
#[cfg(feature = "config")]
fn from_string<K: Kind + ?Sized>(
    value: &DeValue<'_>,
    expected: &'static str,
) -> Result<K::Value, Mismatch> {
    match value {
        DeValue::String(s) => K::parse(s).map_err(Mismatch::Invalid),
        _ => Err(Mismatch::Expected(expected)),
    }
}

/// A TOML integer's value; `None` if it does not fit an `i64`.
#[cfg(feature = "config")]
fn integer(i: &toml::de::DeInteger<'_>) -> Option<i64> {
    i64::from_str_radix(i.as_str(), i.radix()).ok()
}

/// A name in messages and default paths: non-empty, without `/`.
pub(crate) struct Name;

impl Kind for Name {
    type Value = String;

    fn parse(text: &str) -> Result<String, String> {
        Ok(text.to_owned())
    }

    #[cfg(feature = "config")]
    fn from_toml(value: &DeValue<'_>) -> Result<String, Mismatch> {
        from_string::<Self>(value, "a string")
    }

    fn check(value: &String) -> Result<(), String> {
        if value.is_empty() || value.contains('/') {
            return Err("a name is non-empty and has no `/`".to_owned());
        }
        Ok(())
    }

    fn show(value: &String) -> String {
        format!("{value:?}")
    }

    fn raw(value: &String) -> String {
        value.clone()
    }
}

/// A user or group: a name, or a numeric id.
pub(crate) struct Account;

impl Kind for Account {
    type Value = String;

    fn parse(text: &str) -> Result<String, String> {
        Ok(text.to_owned())
    }

    #[cfg(feature = "config")]
    fn from_toml(value: &DeValue<'_>) -> Result<String, Mismatch> {
        match value {
            DeValue::String(s) => Ok(s.to_string()),
            DeValue::Integer(i) => match integer(i).map(u32::try_from) {
                Some(Ok(id)) => Ok(id.to_string()),
                _ => Err(Mismatch::Invalid("the id is out of range".to_owned())),
            },
            _ => Err(Mismatch::Expected("a name or a numeric id")),
        }
    }

    fn check(value: &String) -> Result<(), String> {
        if value.trim().is_empty() {
            return Err("it is empty".to_owned());
        }
        Ok(())
    }

    fn show(value: &String) -> String {
        format!("{value:?}")
    }

    fn raw(value: &String) -> String {
        value.clone()
    }
}

/// A path to a file or directory. Relative paths are taken from the launching process's
/// working directory.
pub(crate) struct FsPath;

impl Kind for FsPath {
    type Value = PathBuf;

    fn parse(text: &str) -> Result<PathBuf, String> {
        Ok(PathBuf::from(text))
    }

    #[cfg(feature = "config")]
    fn from_toml(value: &DeValue<'_>) -> Result<PathBuf, Mismatch> {
        from_string::<Self>(value, "a path (a string)")
    }

    fn check(value: &PathBuf) -> Result<(), String> {
        if value.as_os_str().is_empty() {
            return Err("the path is empty".to_owned());
        }
        Ok(())
    }

    fn show(value: &PathBuf) -> String {
        format!("{value:?}")
    }

    fn raw(value: &PathBuf) -> String {
        value.display().to_string()
    }
}

/// The PID file: a path naming a file, or none at all.
pub(crate) struct PidFilePath;

/// The `pid_file` setting: where the PID file is, or that there is none.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PidFileSetting {
    /// The PID file's path.
    Path(PathBuf),
    /// No PID file (`pid_file = false`, `--no-pid-file`).
    Off,
}

impl PidFileSetting {
    /// The path, unless there is no PID file.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            PidFileSetting::Path(path) => Some(path),
            PidFileSetting::Off => None,
        }
    }
}

impl<P: Into<PathBuf>> From<P> for PidFileSetting {
    fn from(path: P) -> Self {
        PidFileSetting::Path(path.into())
    }
}

impl Kind for PidFilePath {
    type Value = PidFileSetting;

    fn parse(text: &str) -> Result<PidFileSetting, String> {
        Ok(PidFileSetting::Path(PathBuf::from(text)))
    }

    #[cfg(feature = "config")]
    fn from_toml(value: &DeValue<'_>) -> Result<PidFileSetting, Mismatch> {
        match value {
            DeValue::String(s) => Ok(PidFileSetting::Path(PathBuf::from(s.as_ref()))),
            DeValue::Boolean(false) => Ok(PidFileSetting::Off),
            _ => Err(Mismatch::Expected("a path (a string)")),
        }
    }

    fn check(value: &PidFileSetting) -> Result<(), String> {
        let PidFileSetting::Path(path) = value else {
            return Ok(());
        };
        if path.as_os_str().is_empty() {
            return Err("the path is empty".to_owned());
        }
        // `x.pid/` would be read as `x.pid` by some calls and as a directory by others;
        // one meaning for every action: it names no file.
        if path.file_name().is_none() || path.as_os_str().as_encoded_bytes().ends_with(b"/") {
            return Err("the path does not name a file".to_owned());
        }
        Ok(())
    }

    fn show(value: &PidFileSetting) -> String {
        match value {
            PidFileSetting::Path(path) => format!("{path:?}"),
            PidFileSetting::Off => "false".to_owned(),
        }
    }

    fn is_off(value: &PidFileSetting) -> bool {
        *value == PidFileSetting::Off
    }

    fn off() -> Option<PidFileSetting> {
        Some(PidFileSetting::Off)
    }

    fn raw(value: &PidFileSetting) -> String {
        match value {
            PidFileSetting::Path(path) => path.display().to_string(),
            PidFileSetting::Off => "false".to_owned(),
        }
    }
}

/// A file mode creation mask, at most `0o777`.
pub(crate) struct Umask;

impl Kind for Umask {
    type Value = u32;

    fn parse(text: &str) -> Result<u32, String> {
        parse_umask(text)
    }

    #[cfg(feature = "config")]
    fn from_toml(value: &DeValue<'_>) -> Result<u32, Mismatch> {
        let mask = match value {
            DeValue::Integer(i) => umask_from_integer(integer(i)),
            DeValue::String(s) => parse_umask(s),
            _ => {
                return Err(Mismatch::Expected(
                    "a umask: an integer such as 0o027, or an octal string such as \"027\"",
                ));
            }
        };
        mask.map_err(Mismatch::Invalid)
    }

    fn check(value: &u32) -> Result<(), String> {
        if *value > 0o777 {
            return Err("a umask is at most 0o777".to_owned());
        }
        Ok(())
    }

    fn show(value: &u32) -> String {
        format!("0o{value:03o}")
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

/// A umask written as a TOML integer (`0o027`, or decimal `23`).
#[cfg(feature = "config")]
fn umask_from_integer(value: Option<i64>) -> Result<u32, String> {
    match value.map(u32::try_from) {
        Some(Ok(v)) if v <= 0o777 => Ok(v),
        Some(Ok(v)) => Err(format!(
            "0o{v:o} (decimal {v}) is above 0o777; write a umask in octal, as 0o027 or \"027\""
        )),
        Some(Err(_)) if value.is_some_and(|v| v < 0) => Err(format!(
            "a umask cannot be negative ({})",
            value.unwrap_or_default()
        )),
        _ => Err("the number is out of range for a umask".to_owned()),
    }
}

/// The longest duration a setting takes: a day. Longer waits are a typo more often than
/// a wish, and every wait must stay far from what `Instant` arithmetic can hold.
pub const MAX_SECONDS: u64 = 86_400;

/// A duration in seconds: `10`, `2.5`; at most [`MAX_SECONDS`].
pub(crate) struct Seconds;

impl Kind for Seconds {
    type Value = Duration;

    fn parse(text: &str) -> Result<Duration, String> {
        text.trim()
            .parse::<f64>()
            .ok()
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .ok_or_else(|| format!("`{text}` is not a number of seconds >= 0, such as 10 or 2.5"))
    }

    #[cfg(feature = "config")]
    fn from_toml(value: &DeValue<'_>) -> Result<Duration, Mismatch> {
        let seconds = match value {
            DeValue::Integer(i) => integer(i).map(|v| v as f64),
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            _ => return Err(Mismatch::Expected("a number of seconds, such as 10 or 2.5")),
        };
        seconds
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .ok_or(Mismatch::Expected("a number of seconds >= 0"))
    }

    fn check(value: &Duration) -> Result<(), String> {
        if *value > Duration::from_secs(MAX_SECONDS) {
            return Err(format!("at most {MAX_SECONDS} seconds (a day) are allowed"));
        }
        Ok(())
    }

    fn show(value: &Duration) -> String {
        format!("{value:?}")
    }

    fn raw(value: &Duration) -> String {
        // Whole seconds and the fraction's digits, without float formatting (about
        // 23 KiB of code that nothing else in a daemon needs).
        let fraction = format!("{:09}", value.subsec_nanos());
        match fraction.trim_end_matches('0') {
            "" => value.as_secs().to_string(),
            digits => format!("{}.{digits}", value.as_secs()),
        }
    }
}

/// A duration in seconds that must be more than zero.
pub(crate) struct PositiveSeconds;

impl Kind for PositiveSeconds {
    type Value = Duration;

    fn parse(text: &str) -> Result<Duration, String> {
        Seconds::parse(text)
    }

    #[cfg(feature = "config")]
    fn from_toml(value: &DeValue<'_>) -> Result<Duration, Mismatch> {
        Seconds::from_toml(value)
    }

    fn check(value: &Duration) -> Result<(), String> {
        if value.is_zero() {
            return Err("the launcher needs some time to wait for the daemon".to_owned());
        }
        Seconds::check(value)
    }

    fn show(value: &Duration) -> String {
        Seconds::show(value)
    }

    fn raw(value: &Duration) -> String {
        Seconds::raw(value)
    }
}

/// A yes-or-no switch.
pub(crate) struct Switch;

impl Kind for Switch {
    type Value = bool;

    fn parse(text: &str) -> Result<bool, String> {
        match text {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" => Ok(false),
            _ => Err(format!("`{text}` is not true or false")),
        }
    }

    #[cfg(feature = "config")]
    fn from_toml(value: &DeValue<'_>) -> Result<bool, Mismatch> {
        match value {
            DeValue::Boolean(b) => Ok(*b),
            _ => Err(Mismatch::Expected("true or false")),
        }
    }

    fn show(value: &bool) -> String {
        value.to_string()
    }

    fn is_off(value: &bool) -> bool {
        !value
    }
}

/// Where the runtime's logger writes.
pub(crate) struct Target;

impl Kind for Target {
    type Value = LogTarget;

    fn parse(text: &str) -> Result<LogTarget, String> {
        LogTarget::from_str(text).map_err(|e| e.to_string())
    }

    #[cfg(feature = "config")]
    fn from_toml(value: &DeValue<'_>) -> Result<LogTarget, Mismatch> {
        from_string::<Self>(value, "a log target, such as \"syslog\"")
    }

    fn show(value: &LogTarget) -> String {
        value.to_string()
    }
}

/// Log levels: `info`, or directives such as `warn,my_crate::db=debug`.
pub(crate) struct Level;

impl Kind for Level {
    type Value = String;

    fn parse(text: &str) -> Result<String, String> {
        LogFilter::from_str(text)
            .map(|_| text.to_owned())
            .map_err(|e| e.to_string())
    }

    #[cfg(feature = "config")]
    fn from_toml(value: &DeValue<'_>) -> Result<String, Mismatch> {
        from_string::<Self>(
            value,
            "log levels, such as \"info\" or \"warn,my_crate=debug\"",
        )
    }

    fn check(value: &String) -> Result<(), String> {
        Self::parse(value).map(drop)
    }

    fn show(value: &String) -> String {
        format!("{value:?}")
    }

    fn raw(value: &String) -> String {
        value.clone()
    }
}

/// A descriptor number the daemon inherits: 3 or above (0 to 2 are stdio, which the
/// runtime redirects).
pub(crate) struct Descriptor;

impl Kind for Descriptor {
    type Value = i32;

    fn parse(text: &str) -> Result<i32, String> {
        text.trim()
            .parse::<i32>()
            .map_err(|_| format!("`{text}` is not a descriptor number"))
    }

    #[cfg(feature = "config")]
    fn from_toml(value: &DeValue<'_>) -> Result<i32, Mismatch> {
        match value {
            DeValue::Integer(i) => integer(i)
                .and_then(|v| i32::try_from(v).ok())
                .ok_or_else(|| Mismatch::Invalid("the number is out of range".to_owned())),
            _ => Err(Mismatch::Expected("a descriptor number, such as 3")),
        }
    }

    fn check(value: &i32) -> Result<(), String> {
        if *value < 3 {
            return Err(
                "descriptors 0 to 2 are standard input, output and error, which the runtime \
                 redirects; use 3 or above"
                    .to_owned(),
            );
        }
        Ok(())
    }

    fn show(value: &i32) -> String {
        value.to_string()
    }
}

/// Who feeds systemd's watchdog.
pub(crate) struct WatchdogMode;

impl Kind for WatchdogMode {
    type Value = Watchdog;

    fn parse(text: &str) -> Result<Watchdog, String> {
        Watchdog::from_str(text).map_err(|e| e.to_string())
    }

    #[cfg(feature = "config")]
    fn from_toml(value: &DeValue<'_>) -> Result<Watchdog, Mismatch> {
        from_string::<Self>(value, "\"auto\" or \"manual\"")
    }

    fn show(value: &Watchdog) -> String {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn seconds_are_shown_without_floats() {
        assert_eq!(Seconds::raw(&Duration::ZERO), "0");
        assert_eq!(Seconds::raw(&Duration::from_millis(2500)), "2.5");
        assert_eq!(Seconds::raw(&Duration::new(86_401, 1)), "86401.000000001");
    }

    #[test]
    fn pid_file_must_name_a_file() {
        let check = |p: &str| PidFilePath::check(&PidFileSetting::Path(p.into()));
        assert!(check("/run/x.pid").is_ok());
        assert!(check("/run/x.pid/").is_err());
        assert!(check("/").is_err());
        assert!(check("").is_err());
        assert!(PidFilePath::check(&PidFileSetting::Off).is_ok());
    }
}
