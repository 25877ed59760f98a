//! Where each setting comes from, read back from a real binary: flags, the config
//! file's `[daemon]` section, code, and forced values; and the errors for bad input.

mod common;

use std::process::Command;

use common::{pid_file, probe, start};
use daemon_tests::{ProcInfo, Scratch, expect_code, run, text};

fn settings(cmd: &mut Command) -> String {
    let out = run(cmd.arg("--print-settings"));
    expect_code(&out, 0);
    text(&out.stdout)
}

fn line<'a>(settings: &'a str, key: &str) -> &'a str {
    settings
        .lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no {key} in:\n{settings}"))
}

#[test]
fn every_flag_is_read_back_with_its_origin() {
    let out = settings(Command::new(env!("CARGO_BIN_EXE_probe")).args([
        "--daemon",
        "--pid-file",
        "/run/x.pid",
        "--user",
        "nobody",
        "--group",
        "nogroup",
        "--dir",
        "/srv",
        "--umask",
        "0o22",
    ]));
    assert_eq!(line(&out, "daemon"), "daemon = true  # from --daemon");
    assert_eq!(
        line(&out, "pid_file"),
        "pid_file = \"/run/x.pid\"  # from --pid-file"
    );
    assert_eq!(line(&out, "user"), "user = \"nobody\"  # from --user");
    assert_eq!(line(&out, "group"), "group = \"nogroup\"  # from --group");
    assert_eq!(line(&out, "dir"), "dir = \"/srv\"  # from --dir");
    assert_eq!(line(&out, "umask"), "umask = 0o022  # from --umask");
}

#[test]
fn every_config_key_is_read_with_its_line() {
    let scratch = Scratch::new("config-keys");
    let config = scratch.join("app.toml");
    std::fs::write(
        &config,
        "# comment\n[daemon]\nname = \"svc\"\nuser = \"nobody\"\ngroup = 65534\n\
         dir = \"/srv\"\npid_file = \"/run/svc.pid\"\numask = 0o007\nstdout = \"/var/log/o\"\n\
         stderr = \"/var/log/e\"\nchroot = \"/jail\"\nstop_timeout = 2.5\nstart_timeout = 9\n\
         [app]\nport = 80\n",
    )
    .unwrap();
    let out = settings(
        Command::new(env!("CARGO_BIN_EXE_probe"))
            .arg("--config")
            .arg(&config),
    );
    let at = |line: usize| format!("# from {}, line {line}", config.display());
    for (key, value, n) in [
        ("name", "\"svc\"", 3),
        ("user", "\"nobody\"", 4),
        ("group", "\"65534\"", 5),
        ("dir", "\"/srv\"", 6),
        ("pid_file", "\"/run/svc.pid\"", 7),
        ("umask", "0o007", 8),
        ("stdout", "\"/var/log/o\"", 9),
        ("stderr", "\"/var/log/e\"", 10),
        ("chroot", "\"/jail\"", 11),
        ("stop_timeout", "2.5s", 12),
        ("start_timeout", "9s", 13),
    ] {
        assert_eq!(line(&out, key), format!("{key} = {value}  {}", at(n)));
    }
    assert_eq!(line(&out, "daemon"), "daemon = false  # built-in default");
}

/// code < config file < flag < forced, through the real binary.
#[test]
fn precedence_code_file_flag_forced() {
    let scratch = Scratch::new("precedence");
    let config = scratch.join("p.toml");
    std::fs::write(&config, "[daemon]\nuser = \"from-file\"\numask = \"077\"\n").unwrap();
    let probe = || Command::new(env!("CARGO_BIN_EXE_probe"));

    let out = settings(probe().args(["--code-user", "from-code", "--code-umask", "0"]));
    assert_eq!(line(&out, "user"), "user = \"from-code\"  # set in code");
    // Zero is a value, not "unset".
    assert_eq!(line(&out, "umask"), "umask = 0o000  # set in code");

    let out = settings(
        probe()
            .args(["--code-user", "from-code", "--code-umask", "0", "--config"])
            .arg(&config),
    );
    let file = format!("# from {}", config.display());
    assert_eq!(
        line(&out, "user"),
        format!("user = \"from-file\"  {file}, line 2")
    );
    assert_eq!(
        line(&out, "umask"),
        format!("umask = 0o077  {file}, line 3")
    );

    let out = settings(
        probe()
            .args([
                "--code-user",
                "from-code",
                "--user",
                "from-flag",
                "--umask",
                "0",
                "--config",
            ])
            .arg(&config),
    );
    assert_eq!(line(&out, "user"), "user = \"from-flag\"  # from --user");
    assert_eq!(line(&out, "umask"), "umask = 0o000  # from --umask");

    let out = settings(
        probe()
            .args(["--user", "from-flag", "--forced-user", "forced", "--config"])
            .arg(&config),
    );
    assert_eq!(line(&out, "user"), "user = \"forced\"  # forced in code");

    // A default config path given in code is read like --config, and --config wins.
    let out = settings(probe().arg("--default-config").arg(&config));
    assert_eq!(
        line(&out, "user"),
        format!("user = \"from-file\"  {file}, line 2")
    );
    let other = scratch.join("other.toml");
    std::fs::write(&other, "[daemon]\nuser = \"other\"\n").unwrap();
    let out = settings(
        probe()
            .arg("--default-config")
            .arg(&config)
            .arg("--config")
            .arg(&other),
    );
    assert!(line(&out, "user").starts_with("user = \"other\""));
}

#[test]
fn missing_default_config_is_fine_missing_explicit_one_is_not() {
    let scratch = Scratch::new("missing-config");
    let missing = scratch.join("missing.toml");
    let out = settings(
        Command::new(env!("CARGO_BIN_EXE_probe"))
            .arg("--default-config")
            .arg(&missing),
    );
    assert_eq!(line(&out, "user"), "user = (unset)");

    let out = run(probe(&scratch)
        .arg("--daemon")
        .arg("--config")
        .arg(&missing));
    expect_code(&out, 66);
    assert_eq!(
        text(&out.stderr).trim_end(),
        format!(
            "probe: cannot read config file {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
    assert!(!pid_file(&scratch).exists());
}

#[test]
fn bad_config_stops_the_start_with_file_line_and_key() {
    let scratch = Scratch::new("bad-config");
    let config = scratch.join("bad.toml");
    std::fs::write(&config, "[daemon]\nuser = \"nobody\"\nusr = \"x\"\n").unwrap();
    let out = run(probe(&scratch).arg("--daemon").arg("--config").arg(&config));
    expect_code(&out, 78);
    assert_eq!(
        text(&out.stderr).trim_end(),
        format!(
            "probe: config file {}, line 3, column 1: unknown key `usr` in [daemon] (did you mean \
             `user`?); expected one of `name`, `daemon`, `user`, `group`, `dir`, `pid_file`, \
             `umask`, `stdout`, `stderr`, `chroot`, `stop_timeout`, `start_timeout`, \
             `log_target`, `log_level`, `syslog_socket`, `notify_fd`, `watchdog`, \
             `no_new_privs`, `core_dumps`",
            config.display()
        )
    );
    assert!(!pid_file(&scratch).exists());
}

#[test]
fn bad_umask_flag_is_a_usage_error() {
    let scratch = Scratch::new("bad-umask");
    let out = run(probe(&scratch).args(["--daemon", "--umask", "1000"]));
    expect_code(&out, 2);
    assert!(
        text(&out.stderr)
            .starts_with("error: invalid value '1000' for '--umask <MASK>': `1000` is above 0o777"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn started_daemon_uses_the_config_file_and_hands_the_program_its_section() {
    let scratch = Scratch::new("config-start");
    let work = scratch.join("work");
    std::fs::create_dir(&work).unwrap();
    let log = scratch.join("log");
    let config = scratch.join("svc.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\ndir = \"{}\"\numask = \"0o077\"\nstdout = \"{}\"\n\n[app]\nport = 8080\n\
             greeting = \"hi\"\n",
            work.display(),
            log.display()
        ),
    )
    .unwrap();
    let daemon = start(
        &scratch,
        probe(&scratch)
            // Ready once the section is printed, so that it is in the log.
            .args([
                "--daemon",
                "--ready-when-started",
                "--print-app-section",
                "--config",
            ])
            .arg(&config),
    );
    let info = ProcInfo::read(daemon.pid).unwrap();
    assert_eq!(info.cwd, work);
    assert_eq!(info.umask, 0o077);
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("app.port = Integer(8080)"), "{log}");
    assert!(log.contains("app.greeting = String(\"hi\")"), "{log}");
}

#[test]
fn help_shows_the_daemon_flags_under_their_own_heading() {
    let out = run(Command::new(env!("CARGO_BIN_EXE_probe")).arg("--help"));
    expect_code(&out, 0);
    let help = text(&out.stdout);
    let daemon = help.find("Daemon:").expect("a Daemon heading");
    for flag in [
        "--daemon",
        "--stop",
        "--status",
        "--restart",
        "--reload",
        "--config <FILE>",
        "--pid-file <FILE>",
        "--user <USER>",
        "--group <GROUP>",
        "--dir <DIR>",
        "--umask <MASK>",
    ] {
        // A whole flag, not a prefix of another (`--stop` of `--stop-timeout`).
        let at = help
            .match_indices(flag)
            .find(|(at, _)| {
                help[at + flag.len()..]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace)
            })
            .map(|(at, _)| at)
            .unwrap_or_else(|| panic!("{flag} missing:\n{help}"));
        assert!(at > daemon, "{flag} not under Daemon:\n{help}");
    }
    // The program's own options are still there.
    assert!(help.contains("--log <LOG>"), "{help}");
}
