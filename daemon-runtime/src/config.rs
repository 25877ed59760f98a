//! The config file: its `[daemon]` section, and the rest of the document for the program.
//!
//! ```toml
//! [daemon]
//! user = "nobody"
//! pid_file = "/run/hello.pid"
//! umask = 0o027          # also 23, "027" or "0o027"
//! stop_timeout = 5       # seconds
//!
//! [hello]                # the program's own section
//! greeting = "hi"
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::Error;
use crate::settings::{KeyLines, Mismatch, Options, Spec};

/// A parsed config file.
///
/// The runtime reads its `[daemon]` section; the program gets the same parsed document
/// through [`crate::config()`] or [`Daemon::config`](crate::Daemon::config), so it never
/// reads the file twice.
#[derive(Clone)]
pub struct Config {
    path: Option<PathBuf>,
    text: String,
    /// The document as a table, built on first use: a program that never asks for it
    /// does not link serde's TOML deserializer (about 200 KiB).
    table: OnceLock<toml::Table>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("path", &self.path)
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Reads and parses `path`.
    ///
    /// With `required` false a missing file is not an error and gives `Ok(None)`: that
    /// is how a default path given in code behaves. A file given with `--config` is
    /// required.
    pub fn load(path: &Path, required: bool) -> Result<Option<Config>, Error> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                log::debug!("no config file at {}; using defaults", path.display());
                return Ok(None);
            }
            Err(source) => {
                return Err(Error::ConfigRead {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        Config::from_bytes(Some(path.to_owned()), bytes).map(Some)
    }

    fn from_bytes(path: Option<PathBuf>, bytes: Vec<u8>) -> Result<Config, Error> {
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            // The valid prefix is UTF-8 by definition; the position is that of the first bad byte.
            let (line, column) = line_column(std::str::from_utf8(valid).unwrap_or(""), valid.len());
            Error::ConfigParse {
                path: path.clone(),
                line: Some(line),
                column: Some(column),
                message: "the file is not valid UTF-8".to_owned(),
            }
        })?;
        Config::parse_text(path, text)
    }

    /// Parses TOML text that did not come from a file (for tests and embedded defaults).
    pub fn from_toml(text: &str) -> Result<Config, Error> {
        Config::parse_text(None, text.to_owned())
    }

    fn parse_text(path: Option<PathBuf>, text: String) -> Result<Config, Error> {
        let config = Config {
            path,
            text,
            table: OnceLock::new(),
        };
        // A broken file stops the start, whatever sections are read later.
        DeTable::parse(&config.text).map_err(|e| config.error(e))?;
        Ok(config)
    }

    /// The file this was read from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The whole document.
    pub fn table(&self) -> &toml::Table {
        self.table.get_or_init(|| {
            // The text parsed when it was loaded, and any valid document is a table.
            toml::from_str(&self.text).unwrap_or_default()
        })
    }

    /// Deserializes the top-level table `[name]` into the program's own type.
    ///
    /// Returns `Ok(None)` when the document has no such table. Errors name the file,
    /// line and column, like the runtime's own errors for `[daemon]`.
    pub fn section<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, Error> {
        let deserializer = toml::Deserializer::parse(&self.text).map_err(|e| self.error(e))?;
        SectionSeed {
            name,
            section: PhantomData,
        }
        .deserialize(deserializer)
        .map_err(|e| {
            let key = e.span().and_then(|span| key_at(&self.text, span.start));
            let mut error = self.error(e);
            if let (Some(key), Error::ConfigParse { message, .. }) = (key, &mut error)
                && !message.starts_with("unknown field")
            {
                *message = format!("invalid value for `{key}`: {message}");
            }
            error
        })
    }

    /// The `[daemon]` section as a settings layer, with the line of each key.
    ///
    /// Read from toml's spanned document by hand rather than through serde: the typed
    /// serde pass costs programs about 200 KiB of code, for eleven keys.
    pub(crate) fn daemon_options(&self) -> Result<(Options, KeyLines), Error> {
        let document = DeTable::parse(&self.text).map_err(|e| self.error(e))?;
        let mut options = Options::default();
        let mut lines = KeyLines::default();
        let Some((_, section)) = document
            .get_ref()
            .iter()
            .find(|(key, _)| key.get_ref() == "daemon")
        else {
            return Ok((options, lines));
        };
        let DeValue::Table(section) = section.get_ref() else {
            return Err(self.invalid("daemon", section, "a table of daemon settings"));
        };
        for (key, value) in section.iter() {
            let Some(spec) = Spec::get(key.get_ref()).filter(|spec| spec.config) else {
                return Err(self.at(key.span(), unknown_key(key.get_ref())));
            };
            lines.push(spec.key, line_column(&self.text, key.span().start).0);
            match options.set_from_toml(spec.key, value.get_ref()) {
                Some(Ok(())) => {}
                Some(Err(Mismatch::Expected(what))) => {
                    return Err(self.invalid(spec.key, value, what));
                }
                Some(Err(Mismatch::Invalid(why))) => return Err(self.bad(spec.key, value, &why)),
                None => unreachable!("every key in the table has a kind"),
            }
        }
        Ok((options, lines))
    }

    /// `invalid value for `key`: expected WHAT, found TYPE `raw text``.
    fn invalid(&self, key: &str, value: &Spanned<DeValue<'_>>, expected: &str) -> Error {
        let raw = self.text.get(value.span()).unwrap_or("").trim();
        self.at(
            value.span(),
            format!(
                "invalid value for `{key}`: expected {expected}, found {} `{raw}`",
                value.get_ref().type_str()
            ),
        )
    }

    /// `invalid value for `key`: WHY`.
    fn bad(&self, key: &str, value: &Spanned<DeValue<'_>>, why: &str) -> Error {
        self.at(value.span(), format!("invalid value for `{key}`: {why}"))
    }

    fn at(&self, span: Range<usize>, message: String) -> Error {
        let (line, column) = line_column(&self.text, span.start);
        Error::ConfigParse {
            path: self.path.clone(),
            line: Some(line),
            column: Some(column),
            message,
        }
    }

    fn error(&self, e: toml::de::Error) -> Error {
        let mut message = e.message().trim_end().to_owned();
        if message.contains("leading zero") {
            // `umask = 027`: TOML has no C-style octal.
            message
                .push_str(" (TOML integers cannot start with 0: write octal as 0o027 or \"027\")");
        }
        let (line, column) = match e.span() {
            Some(span) => {
                let (l, c) = line_column(&self.text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        Error::ConfigParse {
            path: self.path.clone(),
            line,
            column,
            message,
        }
    }
}

/// `unknown key `usr` in [daemon] (did you mean `user`?); expected one of ...`.
fn unknown_key(key: &str) -> String {
    let keys: Vec<&str> = Spec::config_keys().collect();
    let closest = keys
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .min()
        .filter(|(distance, _)| *distance <= 2)
        .map(|(_, k)| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default();
    let all = keys
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("unknown key `{key}` in [daemon]{closest}; expected one of {all}")
}

/// Levenshtein distance between two short strings, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// The key of the `key = value` line holding byte `offset`, if the line is one.
fn key_at(text: &str, offset: usize) -> Option<&str> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    bare.then_some(key)
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Deserializes one top-level table of a document and skips the rest, keeping the
/// deserializer's spans so errors point into the file.
struct SectionSeed<'n, T> {
    name: &'n str,
    section: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for SectionSeed<'_, T> {
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for SectionSeed<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TOML document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == self.name {
                found = Some(map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn options(text: &str) -> Result<Options, String> {
        Config::from_toml(text)
            .and_then(|c| c.daemon_options())
            .map(|(o, _)| o)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn umask_forms() {
        for (text, want) in [
            ("umask = 0o027", 0o027),
            ("umask = 23", 23),
            ("umask = \"027\"", 0o027),
            ("umask = \"0o027\"", 0o027),
            ("umask = 0", 0),
            ("umask = 0o777", 0o777),
        ] {
            let o = options(&format!("[daemon]\n{text}\n")).unwrap();
            assert_eq!(o.umask, Some(want), "{text}");
        }
    }

    #[test]
    fn all_keys_parse() {
        let o = options(
            "[daemon]\nname = \"n\"\nuser = \"nobody\"\ngroup = 65534\ndir = \"/srv\"\n\
             pid_file = \"/run/n.pid\"\numask = 0o22\nstdout = \"/var/log/o\"\n\
             stderr = \"/var/log/e\"\nchroot = \"/jail\"\nstop_timeout = 2.5\nstart_timeout = 7\n",
        )
        .unwrap();
        assert_eq!(o.name.as_deref(), Some("n"));
        assert_eq!(o.user.as_deref(), Some("nobody"));
        assert_eq!(o.group.as_deref(), Some("65534"));
        assert_eq!(o.dir, Some("/srv".into()));
        assert_eq!(o.pid_file, Some("/run/n.pid".into()));
        assert_eq!(o.umask, Some(0o22));
        assert_eq!(o.stdout, Some("/var/log/o".into()));
        assert_eq!(o.stderr, Some("/var/log/e".into()));
        assert_eq!(o.chroot, Some("/jail".into()));
        assert_eq!(o.stop_timeout, Some(Duration::from_millis(2500)));
        assert_eq!(o.start_timeout, Some(Duration::from_secs(7)));
    }

    #[test]
    fn key_lines_follow_the_file() {
        let config = Config::from_toml("# c\n[daemon]\n\nuser = \"x\"\numask = 7\n").unwrap();
        let (_, lines) = config.daemon_options().unwrap();
        assert_eq!(lines.line_of("user"), 4);
        assert_eq!(lines.line_of("umask"), 5);
    }

    #[test]
    fn no_daemon_section_is_empty_options() {
        assert_eq!(options("[app]\nx = 1\n").unwrap(), Options::default());
        assert_eq!(options("").unwrap(), Options::default());
    }

    #[test]
    fn other_sections_reach_the_program() {
        #[derive(Deserialize, PartialEq, Debug)]
        struct App {
            port: u16,
        }
        let config = Config::from_toml("[daemon]\nuser = \"x\"\n[app]\nport = 80\n").unwrap();
        assert_eq!(
            config.section::<App>("app").unwrap(),
            Some(App { port: 80 })
        );
        assert_eq!(config.section::<App>("other").unwrap(), None);
        assert_eq!(config.table()["app"]["port"].as_integer(), Some(80));
        let err = Config::from_toml("[app]\nport = \"x\"\n")
            .unwrap()
            .section::<App>("app")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "config, line 2, column 8: invalid value for `port`: invalid type: string \"x\", \
             expected u16"
        );
    }

    /// The exact text of the errors a system administrator meets most.
    #[test]
    fn error_messages() {
        let err = |text: &str| {
            Config::from_bytes(Some("/etc/app.toml".into()), text.as_bytes().to_vec())
                .and_then(|c| c.daemon_options())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("[daemon]\nuser = \"nobody\"\nusr = \"x\"\n"),
            "config file /etc/app.toml, line 3, column 1: unknown key `usr` in [daemon] (did \
             you mean `user`?); expected one of `name`, `daemon`, `user`, `group`, `dir`, \
             `pid_file`, `umask`, `stdout`, `stderr`, `chroot`, `stop_timeout`, \
             `start_timeout`, `log_target`, `log_level`, `syslog_socket`, `notify_fd`, \
             `watchdog`, `no_new_privs`, `core_dumps`"
        );
        assert_eq!(
            err("[daemon]\numask = 0o1000\n"),
            "config file /etc/app.toml, line 2, column 9: invalid value for `umask`: 0o1000 \
             (decimal 512) is above 0o777; write a umask in octal, as 0o027 or \"027\""
        );
        assert_eq!(
            err("[daemon]\numask = \"9\"\n"),
            "config file /etc/app.toml, line 2, column 9: invalid value for `umask`: `9` is \
             not octal; write a umask as 027 or 0o027"
        );
        assert_eq!(
            err("[daemon]\numask = 022\n"),
            "config file /etc/app.toml, line 2, column 9: unexpected leading zero, expected \
             nothing (TOML integers cannot start with 0: write octal as 0o027 or \"027\")"
        );
        assert_eq!(
            err("[daemon]\ndir = 5\n"),
            "config file /etc/app.toml, line 2, column 7: invalid value for `dir`: expected a \
             path (a string), found integer `5`"
        );
        assert_eq!(
            err("[daemon]\nstop_timeout = \"soon\"\n"),
            "config file /etc/app.toml, line 2, column 16: invalid value for `stop_timeout`: \
             expected a number of seconds, such as 10 or 2.5, found string `\"soon\"`"
        );
        assert_eq!(
            err("daemon = 5\n"),
            "config file /etc/app.toml, line 1, column 10: invalid value for `daemon`: expected \
             a table of daemon settings, found integer `5`"
        );
        assert_eq!(
            err("[daemon]\nuser = true\n"),
            "config file /etc/app.toml, line 2, column 8: invalid value for `user`: expected a \
             name or a numeric id, found boolean `true`"
        );
        assert_eq!(
            err("[daemon]\nstop_timeout = -1\n"),
            "config file /etc/app.toml, line 2, column 16: invalid value for `stop_timeout`: \
             expected a number of seconds >= 0, found integer `-1`"
        );
        assert_eq!(
            err("[[daemon]]\nuser = \"x\"\n"),
            "config file /etc/app.toml, line 1, column 1: invalid value for `daemon`: expected \
             a table of daemon settings, found array `[[daemon]]`"
        );
        assert_eq!(
            err("[daemon\nuser = 1\n"),
            "config file /etc/app.toml, line 1, column 8: unclosed table, expected `]`"
        );
        assert_eq!(
            err("[daemon]\nuser = \"a\"\n\u{e9}\u{ff}"),
            "config file /etc/app.toml, line 3, column 3: key with no value, expected `=`"
        );
    }

    #[test]
    fn invalid_utf8_is_located() {
        let err = Config::from_bytes(None, b"[daemon]\nuser = \"\xff\"\n".to_vec()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "config, line 2, column 9: the file is not valid UTF-8"
        );
    }

    #[test]
    fn missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.toml");
        assert!(Config::load(&path, false).unwrap().is_none());
        let err = Config::load(&path, true).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cannot read config file {}: No such file or directory (os error 2)",
                path.display()
            )
        );
        assert_eq!(err.exit_code(), crate::error::exit::NOINPUT);
    }

    mod fuzz {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any bytes: a config or an error, never a panic.
            #[test]
            fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
                let _ = Config::from_bytes(None, bytes).and_then(|c| c.daemon_options());
            }

            /// TOML-shaped text built from the real keys and all kinds of values: a
            /// config or an error, never a panic; what parses is within bounds.
            #[test]
            fn arbitrary_daemon_sections_never_panic(
                header in prop_oneof!["\\[daemon\\]", "\\[[a-z]{1,6}\\]", ""],
                entries in prop::collection::vec(
                    (
                        prop_oneof![
                            prop::sample::select(Spec::config_keys().collect::<Vec<_>>()).prop_map(str::to_owned),
                            "[a-z_]{1,12}",
                        ],
                        prop_oneof![
                            any::<i64>().prop_map(|v| v.to_string()),
                            "-?[0-9]{1,20}",
                            "0o[0-7]{1,12}",
                            any::<f64>().prop_map(|v| format!("{v:?}")),
                            "\"[ -~]{0,16}\"",
                            "[a-z\\[\\]{}=\"' .0-9]{0,12}",
                            any::<bool>().prop_map(|b| b.to_string()),
                        ],
                    ),
                    0..8,
                ),
            ) {
                let mut text = format!("{header}\n");
                for (key, value) in &entries {
                    text.push_str(&format!("{key} = {value}\n"));
                }
                if let Ok((options, lines)) = Config::from_toml(&text).and_then(|c| c.daemon_options()) {
                    if options.user.is_some() {
                        prop_assert!(lines.line_of("user") > 0);
                    }
                    if let Some(mask) = options.umask {
                        prop_assert!(mask <= 0o777);
                    }
                }
            }
        }
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("usr", "user"), 1);
        assert_eq!(edit_distance("pidfile", "pid_file"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert!(!unknown_key("colour").contains("did you mean"));
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé d", 7), (2, 4));
        assert_eq!(line_column("", 0), (1, 1));
    }
}
