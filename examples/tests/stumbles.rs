//! Issue 12: what a new user stumbles on, each stumble a test against a real binary
//! (`examples/src/bin/stumble_*.rs`, one per situation).
//!
//! Every command line carries the test's scratch directory (in `--pid-file` or
//! `--config`), so that `Scratch`'s drop finds whatever a failed test left running; the
//! daemons a test starts are also held by a `Killer`.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc::channel;

use daemon_tests::{
    DEADLINE, Killer, Scratch, expect_code, is_alive, is_root, read_pid_file, run, text, wait_exit,
};

/// `exe` with `args`.
fn command(exe: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(exe);
    cmd.args(args);
    cmd
}

/// `exe` with `args` and `--pid-file pid_file`.
fn with_pid_file(exe: &str, args: &[&str], pid_file: &Path) -> Command {
    let mut cmd = command(exe, args);
    cmd.arg("--pid-file").arg(pid_file);
    cmd
}

/// Starts a daemon with `cmd`: the launcher exits 0 once it is ready and `pid_file`
/// names it.
fn start(cmd: &mut Command, pid_file: &Path) -> Killer {
    let output = run(cmd);
    expect_code(&output, 0);
    let pid =
        read_pid_file(pid_file).unwrap_or_else(|| panic!("{} names no daemon", pid_file.display()));
    assert!(is_alive(pid), "daemon {pid} is not running");
    Killer::new(pid)
}

/// `--status` (already in `cmd`) says the daemon runs, with exit 0.
fn expect_running(cmd: &mut Command, daemon: &Killer) {
    let status = run(cmd);
    expect_code(&status, 0);
    let expected = format!("running (pid {})", daemon.pid());
    assert!(text(&status.stdout).contains(&expected), "{status:?}");
}

/// `--stop` (already in `cmd`) exits 0, the daemon is gone, and so is its PID file.
fn expect_stopped(cmd: &mut Command, daemon: &Killer, pid_file: &Path) {
    expect_code(&run(cmd), 0);
    assert!(
        wait_exit(daemon.pid(), DEADLINE),
        "daemon {} outlived --stop",
        daemon.pid()
    );
    assert!(
        !pid_file.exists(),
        "{} outlived the daemon",
        pid_file.display()
    );
}

/// Panics unless standard error says `needle`.
fn expect_stderr(output: &Output, needle: &str) {
    let stderr = text(&output.stderr);
    assert!(stderr.contains(needle), "no {needle:?} in: {stderr}");
}

// 1. The program's own required arguments do not block the control actions.

const REQUIRED: &str = env!("CARGO_BIN_EXE_stumble_required");

#[test]
fn status_and_stop_need_none_of_the_programs_required_arguments() {
    let scratch = Scratch::new("stumble-required");
    let pid_file = scratch.join("daemon.pid");
    // Nothing runs yet: LSB "not running", not clap's usage error (2).
    let status = run(&mut with_pid_file(REQUIRED, &["--status"], &pid_file));
    expect_code(&status, 3);
    // To start, `--out` is still required.
    let refused = run(&mut with_pid_file(REQUIRED, &["--daemon"], &pid_file));
    expect_code(&refused, 2);
    expect_stderr(&refused, "--out <OUT>");
    assert!(!pid_file.exists(), "a refused start left a PID file");

    let out = scratch.join("out");
    let out_arg = out.to_str().expect("a UTF-8 path");
    let daemon = start(
        &mut with_pid_file(REQUIRED, &["--out", out_arg, "--daemon"], &pid_file),
        &pid_file,
    );
    assert_eq!(
        read_pid_file(&out),
        Some(daemon.pid()),
        "the body got --out"
    );
    expect_running(
        &mut with_pid_file(REQUIRED, &["--status"], &pid_file),
        &daemon,
    );
    expect_stopped(
        &mut with_pid_file(REQUIRED, &["--stop"], &pid_file),
        &daemon,
        &pid_file,
    );
}

#[test]
fn launch_with_performs_control_actions_without_the_programs_arguments() {
    let exe = env!("CARGO_BIN_EXE_stumble_required_builder");
    let scratch = Scratch::new("stumble-required-builder");
    let pid_file = scratch.join("daemon.pid");
    expect_code(&run(&mut with_pid_file(exe, &["--status"], &pid_file)), 3);
    expect_code(&run(&mut with_pid_file(exe, &["--stop"], &pid_file)), 0);
    // A start without `--out` is clap's usage error, before anything is created.
    let refused = run(&mut with_pid_file(exe, &[], &pid_file));
    expect_code(&refused, 2);
    expect_stderr(&refused, "--out <OUT>");
    assert!(!pid_file.exists(), "a refused start left a PID file");
}

#[test]
fn a_subcommand_handler_is_stopped_without_its_required_arguments() {
    let exe = env!("CARGO_BIN_EXE_stumble_handler");
    let scratch = Scratch::new("stumble-handler");
    let pid_file = scratch.join("daemon.pid");
    expect_code(
        &run(&mut with_pid_file(exe, &["serve", "--status"], &pid_file)),
        3,
    );
    let refused = run(&mut with_pid_file(exe, &["serve", "--daemon"], &pid_file));
    expect_code(&refused, 2);
    expect_stderr(&refused, "--out <OUT>");

    let out = scratch.join("out");
    let out_arg = out.to_str().expect("a UTF-8 path");
    let daemon = start(
        &mut with_pid_file(exe, &["serve", "--out", out_arg, "--daemon"], &pid_file),
        &pid_file,
    );
    assert_eq!(
        read_pid_file(&out),
        Some(daemon.pid()),
        "the body got --out"
    );
    expect_running(
        &mut with_pid_file(exe, &["serve", "--status"], &pid_file),
        &daemon,
    );
    expect_stopped(
        &mut with_pid_file(exe, &["serve", "--stop"], &pid_file),
        &daemon,
        &pid_file,
    );
}

// 2. Without a PID file setting, the default one: /run as root, a private
// $XDG_RUNTIME_DIR otherwise, none where neither suits.

const DEFAULT_PID: &str = env!("CARGO_BIN_EXE_stumble_default_pid");

/// The binary with `args` and `--config` (an empty file in the scratch directory, so
/// that the command line names the scratch directory), and the debug log.
fn default_pid(scratch: &Scratch, args: &[&str]) -> Command {
    let config = scratch.join("empty.toml");
    std::fs::write(&config, "").expect("write the config file");
    let mut cmd = command(DEFAULT_PID, args);
    cmd.arg("--config")
        .arg(config)
        .args(["--log-level", "debug"]);
    cmd
}

/// `cmd` run as an unprivileged user: `nobody` when the tests run as root, else the
/// tester.
fn unprivileged(cmd: &mut Command) -> &mut Command {
    if is_root() {
        let (uid, gid) = daemon_tests::nobody();
        cmd.uid(uid).gid(gid);
    }
    cmd
}

/// A directory in the scratch directory owned by the user of [`unprivileged`], with
/// `mode`.
fn runtime_dir(scratch: &Scratch, mode: u32) -> PathBuf {
    let dir = scratch.join("xdg");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .expect("create the runtime dir");
    if is_root() {
        let (uid, gid) = daemon_tests::nobody();
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown the runtime dir");
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode))
        .expect("chmod the runtime dir");
    dir
}

/// Removes a PID file outside the scratch directory however the test ends, and its
/// lock file (`<pid file>.lock`, which the runtime leaves in place).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let mut lock = self.0.clone().into_os_string();
        lock.push(".lock");
        let _ = std::fs::remove_file(&self.0);
        let _ = std::fs::remove_file(lock);
    }
}

#[test]
fn without_a_pid_file_setting_root_uses_run() {
    if !daemon_tests::require_root("without_a_pid_file_setting_root_uses_run") {
        return;
    }
    let scratch = Scratch::new("stumble-default-run");
    // The binary's name is its own: no other test uses this file.
    let pid_file = PathBuf::from("/run/stumble_default_pid.pid");
    let _cleanup = RemoveOnDrop(pid_file.clone());
    let mut start_cmd = default_pid(&scratch, &["--daemon"]);
    start_cmd.env_remove("XDG_RUNTIME_DIR");
    let launched = run(&mut start_cmd);
    expect_code(&launched, 0);
    let daemon = Killer::new(read_pid_file(&pid_file).expect("the default PID file"));
    expect_stderr(&launched, "default PID file /run/stumble_default_pid.pid");
    expect_running(&mut default_pid(&scratch, &["--status"]), &daemon);
    expect_stopped(&mut default_pid(&scratch, &["--stop"]), &daemon, &pid_file);
}

#[test]
fn without_a_pid_file_setting_a_user_uses_xdg_runtime_dir() {
    let scratch = Scratch::new("stumble-default-xdg");
    let xdg = runtime_dir(&scratch, 0o700);
    let pid_file = xdg.join("stumble_default_pid.pid");
    let as_user = |args: &[&str]| {
        let mut cmd = default_pid(&scratch, args);
        unprivileged(&mut cmd).env("XDG_RUNTIME_DIR", &xdg);
        cmd
    };
    let launched = run(&mut as_user(&["--daemon"]));
    expect_code(&launched, 0);
    let daemon = Killer::new(read_pid_file(&pid_file).expect("the default PID file"));
    expect_stderr(
        &launched,
        &format!("default PID file {}", pid_file.display()),
    );
    expect_running(&mut as_user(&["--status"]), &daemon);
    expect_stopped(&mut as_user(&["--stop"]), &daemon, &pid_file);
}

#[test]
fn a_world_writable_xdg_runtime_dir_is_no_default() {
    let scratch = Scratch::new("stumble-default-shared");
    // Anyone could take the name first in a directory such as /tmp.
    let shared = runtime_dir(&scratch, 0o1777);
    let mut stop = default_pid(&scratch, &["--stop"]);
    unprivileged(&mut stop).env("XDG_RUNTIME_DIR", &shared);
    let stop = run(&mut stop);
    expect_code(&stop, 78);
    expect_stderr(&stop, "no PID file is configured");
    expect_stderr(&stop, "a private $XDG_RUNTIME_DIR otherwise");
}

#[test]
fn without_xdg_runtime_dir_there_is_no_default_and_stop_says_so() {
    let scratch = Scratch::new("stumble-default-none");
    let mut stop = default_pid(&scratch, &["--stop"]);
    unprivileged(&mut stop).env_remove("XDG_RUNTIME_DIR");
    let stop = run(&mut stop);
    expect_code(&stop, 78);
    expect_stderr(
        &stop,
        "cannot stop stumble_default_pid: no PID file is configured",
    );
    expect_stderr(&stop, "there is no default place for one");
    expect_stderr(&stop, "set pid_file or pass --pid-file");
    // `--status` cannot tell: LSB's "unknown".
    let mut status = default_pid(&scratch, &["--status"]);
    unprivileged(&mut status).env_remove("XDG_RUNTIME_DIR");
    expect_code(&run(&mut status), 4);

    // A start says so in the debug log. In the foreground, so that no daemon is left
    // that nothing could stop.
    let mut foreground = default_pid(&scratch, &[]);
    unprivileged(&mut foreground).env_remove("XDG_RUNTIME_DIR");
    let line = stderr_line(&mut foreground, "no PID file");
    assert!(line.contains("no default place for one"), "{line}");
}

/// Starts `cmd` (a program that runs until SIGTERM), waits for a line of its standard
/// error that contains `needle`, then stops it with SIGTERM; returns the line.
fn stderr_line(cmd: &mut Command, needle: &str) -> String {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let killer = Killer::new(child.id());
    let stderr = child.stderr.take().expect("piped stderr");
    let (send, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let found = loop {
        match lines.recv_timeout(DEADLINE) {
            Ok(line) if line.contains(needle) => break line,
            Ok(line) => seen.push(line),
            Err(e) => panic!("no {needle:?} on stderr ({e}); saw {seen:?}"),
        }
    };
    daemon_tests::send_signal(child.id(), nix::sys::signal::Signal::SIGTERM as i32);
    assert!(wait_exit(child.id(), DEADLINE), "it ignored SIGTERM");
    let _ = child.wait();
    drop(killer);
    found
}

// 3. `--help` shows the effective defaults; a program that always detaches offers
// `--foreground`, not `--daemon`.

/// `exe --help` (after `args`), checked for the attribute's `umask = 0o077, daemon =
/// true`.
fn expect_help_of_a_forced_daemon(exe: &str, args: &[&str]) -> String {
    let mut cmd = command(exe, args);
    cmd.arg("--help");
    let help = run(&mut cmd);
    expect_code(&help, 0);
    let help = text(&help.stdout);
    let umask = flag_line(&help, "--umask");
    assert!(umask.contains("[default: 0o077]"), "{umask}");
    assert!(
        !help.lines().any(|l| l.trim_start().starts_with("--daemon")),
        "a forced daemon offers --daemon: {help}"
    );
    let foreground = flag_line(&help, "--foreground");
    assert!(foreground.contains("detaches by default"), "{foreground}");
    help
}

/// The help of `flag`: its line, and the next where the help goes below it.
fn flag_line(help: &str, flag: &str) -> String {
    let lines: Vec<&str> = help.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with(flag))
        .unwrap_or_else(|| panic!("no {flag} in {help}"));
    lines[at..lines.len().min(at + 2)].join("\n")
}

#[test]
fn help_of_fn_main_shows_the_attributes_values() {
    expect_help_of_a_forced_daemon(env!("CARGO_BIN_EXE_stumble_help_bare"), &[]);
}

#[test]
fn help_of_an_own_parser_shows_the_attributes_values() {
    let help = expect_help_of_a_forced_daemon(env!("CARGO_BIN_EXE_stumble_help_parser"), &[]);
    assert!(help.contains("Greets, in the background"), "{help}");
    assert!(help.contains("--greeting"), "{help}");
}

#[test]
fn help_of_a_handler_shows_the_built_in_defaults() {
    // The program's `Cli::parse()` builds this help before the handler, and its
    // attribute (`umask = 0o077`), run: the flags are there, with the runtime's own
    // defaults, as the docs say.
    let mut cmd = command(env!("CARGO_BIN_EXE_stumble_handler"), &["serve", "--help"]);
    let help = run(&mut cmd);
    expect_code(&help, 0);
    let help = text(&help.stdout);
    for flag in ["--out", "--daemon", "--stop", "--status"] {
        flag_line(&help, flag);
    }
    let umask = flag_line(&help, "--umask");
    assert!(umask.contains("[default: 0o027]"), "{umask}");
}

// 7. `--restart` keeps the daemon as it was started, or refuses.

const RESTART: &str = env!("CARGO_BIN_EXE_stumble_restart");

#[test]
fn restart_with_the_same_command_line_restarts() {
    let scratch = Scratch::new("stumble-restart");
    let pid_file = scratch.join("daemon.pid");
    let old = start(
        &mut with_pid_file(RESTART, &["--daemon"], &pid_file),
        &pid_file,
    );
    let restart = run(&mut with_pid_file(RESTART, &["--restart"], &pid_file));
    expect_code(&restart, 0);
    assert!(wait_exit(old.pid(), DEADLINE), "the old daemon still runs");
    let new = Killer::new(read_pid_file(&pid_file).expect("the new daemon's PID file"));
    assert_ne!(new.pid(), old.pid(), "no new daemon");
    expect_running(&mut with_pid_file(RESTART, &["--status"], &pid_file), &new);
    expect_stopped(
        &mut with_pid_file(RESTART, &["--stop"], &pid_file),
        &new,
        &pid_file,
    );
}

#[test]
fn restart_with_other_settings_is_refused() {
    let scratch = Scratch::new("stumble-restart-other");
    let pid_file = scratch.join("daemon.pid");
    let daemon = start(
        &mut with_pid_file(RESTART, &["--daemon"], &pid_file),
        &pid_file,
    );
    let restart = run(&mut with_pid_file(
        RESTART,
        &["--restart", "--umask", "077"],
        &pid_file,
    ));
    // Whatever happened, what the PID file names now is this test's to stop.
    let _now = read_pid_file(&pid_file).map(Killer::new);
    expect_code(&restart, 1);
    expect_stderr(&restart, "with other settings");
    expect_stderr(&restart, "--umask 077");
    assert!(
        is_alive(daemon.pid()),
        "the refused restart stopped the daemon"
    );
    assert_eq!(read_pid_file(&pid_file), Some(daemon.pid()));
    expect_stopped(
        &mut with_pid_file(RESTART, &["--stop"], &pid_file),
        &daemon,
        &pid_file,
    );
}

#[test]
fn a_bare_restart_does_not_start_a_second_daemon() {
    let exe = env!("CARGO_BIN_EXE_stumble_restart_elsewhere");
    let scratch = Scratch::new("stumble-restart-elsewhere");
    let pid_file = scratch.join("daemon.pid");
    let daemon = start(&mut with_pid_file(exe, &["--daemon"], &pid_file), &pid_file);
    // A bare `--restart` looks under the default PID file: /run as root, else a
    // private runtime directory of this test's.
    let xdg = scratch.join("xdg");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&xdg)
        .expect("create the runtime dir");
    let default = match is_root() {
        true => PathBuf::from("/run/stumble_restart_elsewhere.pid"),
        false => xdg.join("stumble_restart_elsewhere.pid"),
    };
    let _cleanup = RemoveOnDrop(default.clone());
    let mut bare = command(exe, &["--restart"]);
    bare.env("XDG_RUNTIME_DIR", &xdg);
    let restart = run(&mut bare);
    // Had it started a second daemon, this stops it.
    let _second = read_pid_file(&default).map(Killer::new);
    expect_code(&restart, 1);
    expect_stderr(
        &restart,
        &format!("runs as pid {} under {}", daemon.pid(), pid_file.display()),
    );
    assert!(!default.exists(), "a second daemon's PID file");
    assert!(
        is_alive(daemon.pid()),
        "the refused restart stopped the daemon"
    );
    expect_stopped(
        &mut with_pid_file(exe, &["--stop"], &pid_file),
        &daemon,
        &pid_file,
    );
}

// Also: `--status` of an empty PID file (what a daemon leaves where it may not unlink
// its file) is "not running", exit 3, not "dead but the PID file exists" (1).

#[test]
fn status_of_an_empty_pid_file_is_not_running() {
    let scratch = Scratch::new("stumble-empty-pid-file");
    let pid_file = scratch.join("daemon.pid");
    std::fs::write(&pid_file, "").expect("write an empty PID file");
    let status = run(&mut with_pid_file(RESTART, &["--status"], &pid_file));
    expect_code(&status, 3);
    assert!(
        text(&status.stdout).contains("is not running"),
        "{status:?}"
    );
}
