//! The precedence rule and validation, on every setting.

use super::*;

fn resolve(layers: &[Layer<'_>], name: &str) -> Result<Settings, Error> {
    super::resolve(
        layers,
        &Context {
            name,
            pid_dir: PidDir::Fixed(Some(Path::new("/run"))),
        },
    )
}

/// The table-driven precedence test: it needs the config file's level.
#[cfg(feature = "config")]
mod precedence {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::logger::LogTarget;
    use crate::notify::Watchdog;

    /// Every key of the table has a row below.
    #[test]
    fn every_setting_has_a_row() {
        let keys: Vec<_> = rows().iter().map(|row| row.key).collect();
        let table: Vec<_> = TABLE.iter().map(|spec| spec.key).collect();
        assert_eq!(keys, table);
    }

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
                key: "daemon",
                set: |o, n| o.daemon = Some(n % 2 == 1),
                get: |s| Some(s.daemon.value.to_string()),
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
                set: |o, n| o.pid_file = Some(path(n).into()),
                get: |s| s.pid_file.value.path().map(|p| p.display().to_string()),
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
            Row {
                key: "log_target",
                set: |o, n| {
                    o.log_target = Some(
                        [
                            LogTarget::Journal,
                            LogTarget::Syslog,
                            LogTarget::File,
                            LogTarget::Stderr,
                        ][n as usize],
                    )
                },
                get: |s| Some(s.log_target.value.to_string()),
            },
            Row {
                key: "log_level",
                set: |o, n| {
                    o.log_level = Some(["error", "warn", "debug", "trace"][n as usize].into())
                },
                get: |s| Some(s.log_level.value.clone()),
            },
            Row {
                key: "syslog_socket",
                set: |o, n| o.syslog_socket = Some(path(n)),
                get: |s| Some(s.syslog_socket.value.display().to_string()),
            },
            Row {
                key: "notify_fd",
                set: |o, n| o.notify_fd = Some(3 + n as i32),
                get: |s| s.notify_fd.as_ref().map(|v| v.value.to_string()),
            },
            Row {
                key: "watchdog",
                set: |o, n| {
                    o.watchdog = Some(match n % 2 {
                        0 => Watchdog::Manual,
                        _ => Watchdog::Auto,
                    })
                },
                get: |s| Some(s.watchdog.value.to_string()),
            },
            Row {
                key: "no_new_privs",
                set: |o, n| o.no_new_privs = Some(n % 2 == 1),
                get: |s| Some(s.no_new_privs.value.to_string()),
            },
            Row {
                key: "core_dumps",
                set: |o, n| o.core_dumps = Some(n % 2 == 1),
                get: |s| Some(s.core_dumps.value.to_string()),
            },
        ]
    }

    fn expected_origin(level: usize, key: &'static str, file: &Path) -> Origin {
        match level {
            0 => Origin::Code,
            1 => Origin::ConfigFile {
                path: file.to_owned(),
                line: 7,
            },
            // The switches are false at even levels: `--foreground` sets that for
            // `daemon`; the others have no flag for false, and are never off here.
            2 => Origin::Flag(flag_of(key, key == "daemon")),
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
            "daemon" => Some(s.daemon.origin.clone()),
            "user" => o(&s.user),
            "group" => o(&s.group),
            "dir" => s.dir.as_ref().map(|v| v.origin.clone()),
            "pid_file" => Some(s.pid_file.origin.clone()),
            "umask" => Some(s.umask.origin.clone()),
            "stdout" => s.stdout.as_ref().map(|v| v.origin.clone()),
            "stderr" => s.stderr.as_ref().map(|v| v.origin.clone()),
            "chroot" => s.chroot.as_ref().map(|v| v.origin.clone()),
            "stop_timeout" => Some(s.stop_timeout.origin.clone()),
            "start_timeout" => Some(s.start_timeout.origin.clone()),
            "log_target" => Some(s.log_target.origin.clone()),
            "log_level" => Some(s.log_level.origin.clone()),
            "syslog_socket" => Some(s.syslog_socket.origin.clone()),
            "notify_fd" => s.notify_fd.as_ref().map(|v| v.origin.clone()),
            "watchdog" => Some(s.watchdog.origin.clone()),
            "no_new_privs" => Some(s.no_new_privs.origin.clone()),
            "core_dumps" => Some(s.core_dumps.origin.clone()),
            _ => panic!("no such key {key}"),
        }
    }
}

#[test]
fn defaults() {
    let s = resolve(&[], "hello").unwrap();
    assert_eq!(s.name.value, "hello");
    assert!(!s.daemon.value);
    assert_eq!(s.umask, Sourced::built_in(0o027));
    assert_eq!(s.stop_timeout.value, DEFAULT_STOP_TIMEOUT);
    assert!(s.user.is_none() && s.dir.is_none());
    // The default PID file is named after the program, in the default directory.
    assert_eq!(s.pid_file.value.path(), Some(Path::new("/run/hello.pid")));
    assert_eq!(s.pid_file.origin, Origin::Default);
}

#[test]
fn no_default_pid_file_without_a_private_directory() {
    let s = super::resolve(
        &[],
        &Context {
            name: "hello",
            pid_dir: PidDir::Fixed(None),
        },
    )
    .unwrap();
    assert_eq!(s.pid_file.value, PidFileSetting::Off);
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

/// The attribute takes exactly the table's keys: the macro keeps its own list (a
/// proc-macro crate cannot read the runtime's), and this proves the two agree.
#[test]
fn the_attribute_takes_every_setting() {
    let mut attribute: Vec<&str> = daemon_macros::__setting_keys!().to_vec();
    let mut table: Vec<&str> = TABLE.iter().map(|spec| spec.key).collect();
    attribute.sort_unstable();
    table.sort_unstable();
    assert_eq!(attribute, table);
}
