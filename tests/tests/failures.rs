//! Start-up failures: the launcher exits non-zero with one clear line naming what and
//! where, and leaves no process and no PID file behind. Readiness: the launcher exits
//! 0 only once the daemon says so.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::{fails, pid_file, probe};
use daemon_tests::{
    DEADLINE, Killer, Scratch, expect_code, is_root, processes_mentioning, read_pid_file, run,
    text, wait_exit,
};

#[test]
fn unknown_user() {
    let scratch = Scratch::new("no-user");
    let stderr = fails(
        &scratch,
        probe(&scratch).args(["--daemon", "--user", "no-such-user-4711"]),
        67,
    );
    assert_eq!(
        stderr,
        "probe: no such user `no-such-user-4711` (from --user)"
    );
}

#[test]
fn unknown_group() {
    let scratch = Scratch::new("no-group");
    let stderr = fails(
        &scratch,
        probe(&scratch).args(["--daemon", "--group", "no-such-group-4711"]),
        67,
    );
    assert_eq!(
        stderr,
        "probe: no such group `no-such-group-4711` (from --group)"
    );
}

#[test]
fn unwritable_pid_file_directory() {
    let scratch = Scratch::new("unwritable");
    let locked_dir = scratch.join("ro");
    std::fs::create_dir(&locked_dir).unwrap();
    std::fs::set_permissions(&locked_dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let path = locked_dir.join("probe.pid");
    let mut cmd = if is_root() {
        // Root writes anywhere; launch as nobody to meet a directory it cannot write,
        // from a copy it can run wherever the checkout lies.
        let exe = daemon_tests::reachable(std::path::Path::new(env!("CARGO_BIN_EXE_probe")));
        let mut cmd = Command::new(exe);
        daemon_tests::as_nobody(&mut cmd);
        cmd
    } else {
        Command::new(env!("CARGO_BIN_EXE_probe"))
    };
    cmd.args(["--daemon", "--log-target", "none", "--pid-file"])
        .arg(&path);
    let stderr = fails(&scratch, &mut cmd, 73);
    // The lock beside the PID file is made first (the PID file is opened only under
    // the lock), so it is the file named.
    assert_eq!(
        stderr,
        format!(
            "probe: cannot open PID file {}.lock: creating it failed: EACCES: Permission denied",
            path.display()
        )
    );
    assert!(!path.exists());
}

#[test]
fn missing_pid_file_directory() {
    let scratch = Scratch::new("no-pid-dir");
    let path = scratch.join("missing/probe.pid");
    let stderr = fails(
        &scratch,
        Command::new(env!("CARGO_BIN_EXE_probe"))
            .args(["--daemon", "--log-target", "none", "--pid-file"])
            .arg(&path),
        73,
    );
    assert_eq!(
        stderr,
        format!(
            "probe: cannot open PID file {}: {} does not exist",
            path.display(),
            scratch.join("missing").display()
        )
    );
}

#[test]
fn missing_working_directory() {
    let scratch = Scratch::new("no-dir");
    let dir = scratch.join("nowhere");
    let stderr = fails(
        &scratch,
        probe(&scratch).arg("--daemon").arg("--dir").arg(&dir),
        66,
    );
    assert_eq!(
        stderr,
        format!(
            "probe: cannot use dir {} (from --dir): No such file or directory (os error 2)",
            dir.display()
        )
    );
    assert!(
        !pid_file(&scratch).exists(),
        "checked before the PID file is taken"
    );
}

#[test]
fn failing_privileged_action() {
    let scratch = Scratch::new("privileged-fails");
    let stderr = fails(
        &scratch,
        probe(&scratch).args(["--daemon", "--privileged-fail", "cannot bind port 80"]),
        69,
    );
    assert_eq!(
        stderr,
        "probe: privileged action failed: cannot bind port 80"
    );
}

#[test]
fn privileged_action_runs_as_root_and_its_value_reaches_the_unprivileged_daemon() {
    if !daemon_tests::require_root("privileged_action_runs_as_root") {
        return;
    }
    let scratch = Scratch::new("privileged");
    let secret = scratch.join("secret");
    std::fs::write(&secret, "root only").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let log = scratch.join("log");
    let daemon = common::start(
        &scratch,
        probe(&scratch)
            // Ready once it has printed what it read, so the line is in the log.
            .args([
                "--daemon",
                "--ready-when-started",
                "--user",
                "nobody",
                "--log",
            ])
            .arg(&log)
            .arg("--privileged-read")
            .arg(&secret),
    );
    let info = daemon_tests::ProcInfo::read(daemon.pid).unwrap();
    assert_eq!(info.uids, [daemon_tests::nobody().0; 4]);
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("privileged=root only"), "{log}");
    // The log file was created by root for the daemon's user, so it can reopen it.
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(scratch.join("log")).unwrap().uid(),
        daemon_tests::nobody().0
    );
}

#[test]
fn refuses_to_fork_with_a_second_thread() {
    let scratch = Scratch::new("threads");
    let stderr = fails(
        &scratch,
        probe(&scratch).args(["--daemon", "--spawn-thread"]),
        70,
    );
    assert_eq!(
        stderr,
        "probe: refusing to fork: the process has 2 threads, and a forked copy keeps only one \
         of them (daemonize before starting an async runtime, a logger thread or any other \
         thread)"
    );
}

#[test]
fn program_failure_before_ready_is_reported() {
    let scratch = Scratch::new("fail-start");
    let stderr = fails(
        &scratch,
        probe(&scratch).args(["--daemon", "--fail-start", "port 8080 is taken"]),
        69,
    );
    assert_eq!(stderr, "probe: port 8080 is taken");
}

#[test]
fn daemon_dying_before_ready_is_a_failure() {
    let scratch = Scratch::new("crash");
    let out = run(probe(&scratch).args(["--daemon", "--crash-start"]));
    expect_code(&out, 70);
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("probe: the daemon (pid ")
            && stderr
                .trim_end()
                .ends_with(") exited during start-up without saying why"),
        "{stderr}"
    );
    assert!(processes_mentioning(&scratch.marker()).is_empty());
}

#[test]
fn start_timeout_kills_the_silent_daemon() {
    let scratch = Scratch::new("timeout");
    let out = run(probe(&scratch).args(["--daemon", "--never-ready", "--start-timeout", "0.3"]));
    expect_code(&out, 69);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("did not report ready within 300ms (start_timeout); killed it"),
        "{stderr}"
    );
    assert!(processes_mentioning(&scratch.marker()).is_empty());
}

#[test]
fn launcher_waits_for_manual_readiness() {
    let scratch = Scratch::new("manual");
    let fifo = scratch.join("go");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let mut launcher = probe(&scratch)
        .arg("--daemon")
        .arg("--ready-after")
        .arg(&fifo)
        .spawn()
        .unwrap();
    let _launcher_killer = Killer::new(launcher.id());
    // Opening the FIFO for writing blocks until the daemon opens it for reading: from
    // then on the daemon is up, its PID file written, and it has not reported ready.
    let mut go = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    let pid = read_pid_file(&pid_file(&scratch)).expect("pid written before readiness");
    let _daemon_killer = Killer::new(pid);
    assert!(
        launcher.try_wait().unwrap().is_none(),
        "the launcher exited before the daemon reported ready"
    );
    use std::io::Write;
    go.write_all(b"!").unwrap();
    assert!(wait_exit(launcher.id(), DEADLINE));
    assert!(launcher.wait().unwrap().success());
    assert!(daemon_tests::is_alive(pid));
}
