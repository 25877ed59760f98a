//! stop, status, restart and reload of real daemons, from the same binary; and the
//! rule that only the process holding the PID file's lock is ever signalled.

mod common;

use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::{pid_file, probe, start};
use daemon_tests::{
    DEADLINE, Killer, ProcInfo, Scratch, Stranger, expect_code, is_alive, is_root, read_pid_file,
    run, send_signal, text, wait_exit,
};

#[test]
fn stop_terminates_the_daemon_and_the_pid_file_is_gone() {
    let scratch = Scratch::new("stop");
    let daemon = start(&scratch, probe(&scratch).arg("--daemon"));
    let out = run(probe(&scratch).arg("--stop"));
    expect_code(&out, 0);
    assert_eq!(
        text(&out.stdout).trim_end(),
        format!("probe stopped (pid {})", daemon.pid)
    );
    // `stop` returned: the daemon must already be dead, its file gone.
    assert!(
        !is_alive(daemon.pid),
        "daemon still alive after stop returned"
    );
    assert!(!pid_file(&scratch).exists());
}

#[test]
fn stop_of_a_graceful_daemon_waits_for_its_own_exit() {
    let scratch = Scratch::new("stop-graceful");
    let log = scratch.join("log");
    let daemon = start(
        &scratch,
        probe(&scratch)
            // Ready once the shutdown handle is taken (a SIGTERM before would not be
            // graceful).
            .args(["--daemon", "--ready-when-started", "--graceful", "--log"])
            .arg(&log),
    );
    let out = run(probe(&scratch).arg("--stop"));
    expect_code(&out, 0);
    assert!(!is_alive(daemon.pid));
    assert!(!pid_file(&scratch).exists());
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("shutdown requested by Some(SIGTERM)"), "{log}");
}

#[test]
fn stop_kills_a_daemon_that_ignores_sigterm_after_the_timeout() {
    let scratch = Scratch::new("stop-kill");
    let daemon = start(
        &scratch,
        probe(&scratch).args(["--daemon", "--ignore-term"]),
    );
    let out = run(probe(&scratch).args(["--stop", "--stop-timeout", "0.3"]));
    expect_code(&out, 0);
    assert_eq!(
        text(&out.stdout).trim_end(),
        format!(
            "probe did not exit after SIGTERM; killed it with SIGKILL (pid {})",
            daemon.pid
        )
    );
    assert!(!is_alive(daemon.pid));
    assert!(
        !pid_file(&scratch).exists(),
        "stop removes what SIGKILL left"
    );
}

#[test]
fn stop_when_not_running_succeeds() {
    let scratch = Scratch::new("stop-idle");
    let out = run(probe(&scratch).arg("--stop"));
    expect_code(&out, 0);
    assert_eq!(text(&out.stdout).trim_end(), "probe is not running");
}

#[test]
fn status_in_each_of_its_four_states() {
    let scratch = Scratch::new("status");
    let path = pid_file(&scratch);

    let out = run(probe(&scratch).arg("--status"));
    expect_code(&out, 3);
    assert_eq!(text(&out.stdout).trim_end(), "probe is not running");

    let daemon = start(&scratch, probe(&scratch).arg("--daemon"));
    let out = run(probe(&scratch).arg("--status"));
    expect_code(&out, 0);
    assert_eq!(
        text(&out.stdout).trim_end(),
        format!("probe is running (pid {})", daemon.pid)
    );

    send_signal(daemon.pid, libc::SIGKILL);
    assert!(wait_exit(daemon.pid, DEADLINE));
    let out = run(probe(&scratch).arg("--status"));
    expect_code(&out, 1);
    assert_eq!(
        text(&out.stdout).trim_end(),
        format!(
            "probe is not running, but its PID file {} is still there; it names pid {}, which \
             is not the daemon (the file's lock is free)",
            path.display(),
            daemon.pid
        )
    );

    // Unknown: the PID file cannot be read.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut cmd = if is_root() {
        // A copy nobody can run even where the checkout lies under a 0700 home.
        let exe = daemon_tests::reachable(std::path::Path::new(env!("CARGO_BIN_EXE_probe")));
        let mut cmd = Command::new(exe);
        daemon_tests::as_nobody(&mut cmd);
        cmd
    } else {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        Command::new(env!("CARGO_BIN_EXE_probe"))
    };
    cmd.arg("--pid-file")
        .arg(&path)
        .args(["--log-target", "none", "--status"]);
    let out = run(&mut cmd);
    expect_code(&out, 4);
    assert_eq!(
        text(&out.stdout).trim_end(),
        format!(
            "cannot tell whether probe runs: cannot open PID file {}: opening it failed: \
             EACCES: Permission denied",
            path.display()
        )
    );
}

#[test]
fn status_of_a_path_with_a_line_break_is_one_line() {
    let scratch = Scratch::new("status-newline");
    let dir = scratch.join("a\nprobe is running (pid 1)");
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("probe.pid");
    std::fs::write(&path, "4000000\n").unwrap();
    let out = run(Command::new(env!("CARGO_BIN_EXE_probe"))
        .arg("--pid-file")
        .arg(&path)
        .args(["--log-target", "none", "--status"]));
    expect_code(&out, 1);
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.contains("a\\nprobe is running (pid 1)/probe.pid"),
        "{stdout}"
    );
}

#[test]
fn restart_gives_a_new_pid_with_the_same_settings() {
    let scratch = Scratch::new("restart");
    let work = scratch.join("work");
    std::fs::create_dir(&work).unwrap();
    let settings = |cmd: &mut Command| {
        cmd.args(["--umask", "077", "--dir"]).arg(&work);
    };
    let mut first = probe(&scratch);
    settings(first.arg("--daemon"));
    let first = start(&scratch, &mut first);

    let mut restart = probe(&scratch);
    settings(restart.arg("--restart"));
    let out = run(&mut restart);
    expect_code(&out, 0);
    let second = read_pid_file(&pid_file(&scratch)).expect("a new daemon");
    let _killer = Killer::new(second);
    assert_ne!(second, first.pid);
    assert!(!is_alive(first.pid), "the old daemon survived the restart");
    let info = ProcInfo::read(second).unwrap();
    assert_eq!(info.cwd, work);
    assert_eq!(info.umask, 0o077);
    assert!(daemon_tests::is_locked(&pid_file(&scratch)));

    // Restart of a stopped daemon just starts it.
    send_signal(second, libc::SIGTERM);
    assert!(wait_exit(second, DEADLINE));
    let out = run(probe(&scratch).arg("--restart"));
    expect_code(&out, 0);
    let third = read_pid_file(&pid_file(&scratch)).expect("started");
    let _killer = Killer::new(third);
    assert!(is_alive(third));
}

#[test]
fn reload_runs_the_hook_and_reopens_a_rotated_log() {
    let scratch = Scratch::new("reload");
    let log = scratch.join("probe.log");
    let fifo = scratch.join("reloaded");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let daemon = start(
        &scratch,
        probe(&scratch)
            .args(["--daemon", "--ready-when-started", "--reload-hook", "--log"])
            .arg(&log)
            .arg("--reload-notify")
            .arg(&fifo),
    );
    // logrotate without copytruncate: move the file away, then SIGHUP.
    let rotated = scratch.join("probe.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    let out = run(probe(&scratch).arg("--reload"));
    expect_code(&out, 0);
    assert_eq!(
        text(&out.stdout).trim_end(),
        format!("sent SIGHUP to probe (pid {})", daemon.pid)
    );
    // The hook writes to the FIFO after printing: once read, the line is in the log.
    let mut note = String::new();
    std::io::BufReader::new(std::fs::File::open(&fifo).unwrap())
        .read_line(&mut note)
        .unwrap();
    assert_eq!(note.trim_end(), "reloaded 1");
    let fresh = std::fs::read_to_string(&log).expect("the log was reopened at its path");
    assert!(fresh.contains("reloaded 1"), "{fresh}");
    let old = std::fs::read_to_string(&rotated).unwrap();
    assert!(old.contains("started pid="), "{old}");
    assert!(!old.contains("reloaded"), "{old}");
    let info = ProcInfo::read(daemon.pid).unwrap();
    let log_name = log.display().to_string();
    assert_eq!(info.fd(1), Some(log_name.as_str()));
    assert_eq!(info.fd(2), Some(log_name.as_str()));
    assert!(is_alive(daemon.pid));
}

#[test]
fn reload_of_a_stopped_daemon_fails_with_lsb_7() {
    let scratch = Scratch::new("reload-idle");
    let out = run(probe(&scratch).arg("--reload"));
    expect_code(&out, 7);
    assert_eq!(text(&out.stderr).trim_end(), "probe is not running");
}

#[test]
fn stale_file_naming_a_live_stranger_is_never_signalled() {
    let scratch = Scratch::new("stranger");
    let path = pid_file(&scratch);
    let sleeper = Stranger::start();
    std::fs::write(&path, format!("{}\n", sleeper.pid())).unwrap();

    let out = run(probe(&scratch).arg("--status"));
    expect_code(&out, 1);
    assert!(text(&out.stdout).contains("which is not the daemon"));

    let out = run(probe(&scratch).arg("--reload"));
    expect_code(&out, 7);
    assert!(is_alive(sleeper.pid()), "reload signalled a stranger");

    let out = run(probe(&scratch).arg("--stop"));
    expect_code(&out, 0);
    assert_eq!(
        text(&out.stdout).trim_end(),
        format!(
            "probe is not running; removed its stale PID file {} (it named pid {}, which was \
             not signalled)",
            path.display(),
            sleeper.pid()
        )
    );
    assert!(is_alive(sleeper.pid()), "stop signalled a stranger");
    assert!(!path.exists());
}

#[test]
fn locked_file_naming_a_process_that_does_not_hold_it_is_refused() {
    let scratch = Scratch::new("impostor");
    let path = pid_file(&scratch);
    let sleeper = Stranger::start();
    std::fs::write(&path, format!("{}\n", sleeper.pid())).unwrap();
    // Someone (this test) holds the lock, but the pid in the file is another process.
    let mut lock = path.clone().into_os_string();
    lock.push(".lock");
    let holder = std::fs::File::create(&lock).unwrap();
    holder.lock().unwrap();

    let out = run(probe(&scratch).arg("--stop"));
    expect_code(&out, 1);
    let stderr = text(&out.stderr);
    let expected = format!(
        "cannot stop probe: PID file {} names pid {}, but that process does not hold its lock \
         (pid {} ",
        path.display(),
        sleeper.pid(),
        std::process::id()
    );
    assert!(stderr.starts_with(&expected), "{stderr}");
    assert!(
        stderr.trim_end().ends_with("does); refusing to signal it"),
        "{stderr}"
    );
    assert!(is_alive(sleeper.pid()));
    let out = run(probe(&scratch).arg("--status"));
    expect_code(&out, 4);
    assert!(is_alive(sleeper.pid()));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{}\n", sleeper.pid())
    );
}

#[test]
fn stop_after_sigkill_removes_the_stale_file() {
    let scratch = Scratch::new("stop-stale");
    let daemon = start(&scratch, probe(&scratch).arg("--daemon"));
    send_signal(daemon.pid, libc::SIGKILL);
    assert!(wait_exit(daemon.pid, DEADLINE));
    let out = run(probe(&scratch).arg("--stop"));
    expect_code(&out, 0);
    assert!(
        text(&out.stdout).starts_with("probe is not running; removed its stale PID file"),
        "{}",
        text(&out.stdout)
    );
    assert!(!pid_file(&scratch).exists());
}

#[test]
fn control_without_a_pid_file_is_a_clear_error() {
    for (action, verb) in [
        ("--stop", "stop"),
        ("--reload", "reload"),
        ("--restart", "restart"),
    ] {
        let out = run(Command::new(env!("CARGO_BIN_EXE_probe")).args([action, "--no-pid-file"]));
        expect_code(&out, 78);
        assert_eq!(
            text(&out.stderr).trim_end(),
            format!(
                "cannot {verb} probe: the PID file is turned off (from --no-pid-file); set \
                 pid_file or pass --pid-file"
            )
        );
    }
    let out = run(Command::new(env!("CARGO_BIN_EXE_probe")).args(["--status", "--no-pid-file"]));
    expect_code(&out, 4);
}

#[test]
fn reload_reopens_the_log_inside_a_chroot() {
    if !daemon_tests::require_root("reload_reopens_the_log_inside_a_chroot") {
        return;
    }
    let (uid, gid) = daemon_tests::nobody();
    let scratch = Scratch::new("reload-chroot");
    let jail = scratch.join("jail");
    // The logs inside the jail: no directory outside it is kept open (it would be a way
    // out), so a log file outside the jail cannot be found again from in there.
    let logs = jail.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    // As a logrotate setup would have it: the daemon's user owns its log directory.
    std::os::unix::fs::chown(&logs, Some(uid), Some(gid)).unwrap();
    // The hook writes to the FIFO by its path inside the jail.
    let fifo = jail.join("reloaded");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    std::os::unix::fs::chown(&fifo, Some(uid), Some(gid)).unwrap();
    let log = logs.join("probe.log");
    let daemon = start(
        &scratch,
        probe(&scratch)
            .args([
                "--daemon",
                "--ready-when-started",
                "--user",
                "nobody",
                "--reload-hook",
            ])
            .args(["--reload-notify", "/reloaded", "--chroot"])
            .arg(&jail)
            .arg("--log")
            .arg(&log),
    );
    std::fs::rename(&log, logs.join("probe.log.1")).unwrap();
    expect_code(&run(probe(&scratch).arg("--reload")), 0);
    let mut note = String::new();
    std::io::BufReader::new(std::fs::File::open(&fifo).unwrap())
        .read_line(&mut note)
        .unwrap();
    assert_eq!(note.trim_end(), "reloaded 1");
    // The log was given by its path outside, and reopened by its path inside.
    let fresh = std::fs::read_to_string(&log).expect("the log was reopened");
    assert!(fresh.contains("reloaded 1"), "{fresh}");
    assert!(is_alive(daemon.pid));
}
