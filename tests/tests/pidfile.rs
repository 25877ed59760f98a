//! The PID file: names the daemon when the launcher exits, is locked while it runs,
//! is never touched by a second start, is reused when stale, and goes away on exit.

mod common;

use common::{pid_file, probe, start};
use daemon_tests::{
    DEADLINE, Killer, ProcInfo, Scratch, expect_code, is_alive, is_locked, read_pid_file,
    require_root, run, send_signal, text, wait_exit,
};

#[test]
fn pid_file_names_the_live_daemon_when_the_launcher_exits_50_times() {
    let scratch = Scratch::new("fifty");
    let path = pid_file(&scratch);
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_probe")).unwrap();
    for round in 0..50 {
        let out = run(probe(&scratch).arg("--daemon"));
        expect_code(&out, 0);
        // The launcher has exited: the file must already name the daemon itself.
        let pid =
            read_pid_file(&path).unwrap_or_else(|| panic!("round {round}: no pid in the PID file"));
        let killer = Killer::new(pid);
        let info = ProcInfo::read(pid).unwrap();
        assert!(info.state != 'Z', "round {round}: pid {pid} is a zombie");
        assert_eq!(info.exe, exe, "round {round}: pid {pid} is not the probe");
        assert!(is_locked(&path), "round {round}: PID file not locked");
        send_signal(pid, libc::SIGTERM);
        assert!(
            wait_exit(pid, DEADLINE),
            "round {round}: daemon did not exit"
        );
        assert!(!path.exists(), "round {round}: PID file left after SIGTERM");
        drop(killer);
    }
}

#[test]
fn graceful_shutdown_removes_the_pid_file() {
    let scratch = Scratch::new("graceful");
    let log = scratch.join("log");
    let daemon = start(
        &scratch,
        probe(&scratch)
            // Ready once the shutdown handle is taken (a SIGTERM before would not be
            // graceful).
            .args(["--daemon", "--ready-when-started", "--graceful", "--log"])
            .arg(&log),
    );
    assert!(is_locked(&pid_file(&scratch)));
    send_signal(daemon.pid, libc::SIGTERM);
    assert!(wait_exit(daemon.pid, DEADLINE));
    assert!(!pid_file(&scratch).exists());
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("shutdown requested by Some(SIGTERM)"), "{log}");
}

#[test]
fn sigint_removes_the_pid_file_too() {
    let scratch = Scratch::new("sigint");
    let daemon = start(&scratch, probe(&scratch).arg("--daemon"));
    send_signal(daemon.pid, libc::SIGINT);
    assert!(wait_exit(daemon.pid, DEADLINE));
    assert!(!pid_file(&scratch).exists());
}

#[test]
fn panic_unwinding_removes_the_pid_file() {
    let scratch = Scratch::new("panic");
    let log = scratch.join("log");
    // The daemon may panic, and remove its file, before the launcher has exited: its
    // pid comes from the log, where "started" is before the (manual) readiness.
    let out = run(probe(&scratch)
        .args(["--daemon", "--ready-when-started", "--panic", "--log"])
        .arg(&log));
    expect_code(&out, 0);
    let said = std::fs::read_to_string(&log).unwrap();
    let pid: u32 = said
        .lines()
        .find_map(|l| l.strip_prefix("started pid="))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no pid in the log: {said}"));
    assert!(wait_exit(pid, DEADLINE));
    assert!(!pid_file(&scratch).exists());
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("probe panics on request"), "{log}");
}

#[test]
fn sigkill_leaves_an_unlocked_file_that_the_next_start_reuses() {
    let scratch = Scratch::new("sigkill");
    let path = pid_file(&scratch);
    let first = start(&scratch, probe(&scratch).arg("--daemon"));
    send_signal(first.pid, libc::SIGKILL);
    assert!(wait_exit(first.pid, DEADLINE));
    assert_eq!(read_pid_file(&path), Some(first.pid), "the file stays");
    assert!(!is_locked(&path), "the lock died with the daemon");
    let second = start(&scratch, probe(&scratch).arg("--daemon"));
    assert_ne!(second.pid, first.pid);
    assert_eq!(read_pid_file(&path), Some(second.pid));
}

#[test]
fn second_start_fails_and_leaves_the_running_daemons_file_alone() {
    let scratch = Scratch::new("twice");
    let path = pid_file(&scratch);
    let first = start(&scratch, probe(&scratch).arg("--daemon"));
    let before = std::fs::metadata(&path).unwrap();
    let content = std::fs::read(&path).unwrap();

    let out = run(probe(&scratch).arg("--daemon"));
    expect_code(&out, 75);
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.trim(),
        format!(
            "probe is already running (pid {}); PID file {} left untouched",
            first.pid,
            path.display()
        )
    );
    assert!(is_alive(first.pid), "the first daemon died");
    assert_eq!(std::fs::read(&path).unwrap(), content);
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!(before.modified().unwrap(), after.modified().unwrap());
    use std::os::unix::fs::MetadataExt;
    assert_eq!(before.ino(), after.ino());

    // The foreground form is refused the same way.
    let out = run(&mut probe(&scratch));
    expect_code(&out, 75);
    assert!(is_alive(first.pid));
}

#[test]
fn stale_file_naming_a_dead_pid_is_reused() {
    let scratch = Scratch::new("stale");
    let path = pid_file(&scratch);
    // A pid that surely belonged to a process and is dead now.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    std::fs::write(&path, format!("{dead}\n")).unwrap();
    let daemon = start(&scratch, probe(&scratch).arg("--daemon"));
    assert_ne!(daemon.pid, dead);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{}\n", daemon.pid)
    );
}

#[test]
fn after_dropping_privileges_the_file_is_emptied_where_it_cannot_be_removed() {
    if !require_root("after_dropping_privileges_the_file_is_emptied_where_it_cannot_be_removed") {
        return;
    }
    // The scratch directory is root's, mode 0755: nobody may not unlink in it.
    let scratch = Scratch::new("emptied");
    let path = pid_file(&scratch);
    let daemon = start(
        &scratch,
        probe(&scratch).args(["--daemon", "--user", "nobody"]),
    );
    send_signal(daemon.pid, libc::SIGTERM);
    assert!(wait_exit(daemon.pid, DEADLINE));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    // An empty, unlocked file reads as "not running".
    let out = run(probe(&scratch).arg("--status"));
    expect_code(&out, 3);
}

#[test]
fn foreground_takes_the_lock_switches_user_and_removes_the_file() {
    let scratch = Scratch::new("foreground");
    let path = pid_file(&scratch);
    let mut cmd = probe(&scratch);
    if daemon_tests::is_root() {
        cmd.args(["--user", "nobody"]);
    }
    // Foreground: the PID file directory must let the switched user remove the file.
    std::fs::set_permissions(
        scratch.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let killer = Killer::new(child.id());
    let line = first_line(child.stdout.take().unwrap());
    assert_eq!(line, format!("started pid={} detached=false", child.id()));
    assert_eq!(read_pid_file(&path), Some(child.id()));
    assert!(is_locked(&path));
    let info = ProcInfo::read(child.id()).unwrap();
    if daemon_tests::is_root() {
        assert_eq!(info.uids[0], daemon_tests::nobody().0);
    }
    // Foreground does not detach: same session, still our child, cwd unchanged.
    assert_eq!(info.ppid, std::process::id());
    assert_eq!(info.cwd, std::env::current_dir().unwrap());
    send_signal(child.id(), libc::SIGTERM);
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(libc::SIGTERM),
        "dies of the signal it got"
    );
    assert!(!path.exists(), "PID file left behind");
    drop(killer);
}

#[test]
fn foreground_graceful_exit_is_clean() {
    let scratch = Scratch::new("fg-graceful");
    let mut child = probe(&scratch)
        .arg("--graceful")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let _killer = Killer::new(child.id());
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let line = read_line(&mut out);
    assert!(line.starts_with("started"), "{line}");
    send_signal(child.id(), libc::SIGINT);
    assert_eq!(read_line(&mut out), "shutdown requested by Some(SIGINT)");
    assert!(child.wait().unwrap().success());
    assert!(!pid_file(&scratch).exists());
}

#[test]
fn second_signal_during_a_hung_graceful_shutdown_ends_the_process_at_once() {
    let scratch = Scratch::new("second-signal");
    let mut child = probe(&scratch)
        .args(["--graceful", "--hang-after-shutdown"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let _killer = Killer::new(child.id());
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    assert!(read_line(&mut out).starts_with("started"));
    send_signal(child.id(), libc::SIGTERM);
    assert_eq!(read_line(&mut out), "shutdown requested by Some(SIGTERM)");
    assert!(
        pid_file(&scratch).exists(),
        "the program has not returned yet"
    );
    send_signal(child.id(), libc::SIGTERM);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGTERM));
    assert!(!pid_file(&scratch).exists());
}

fn first_line(stdout: std::process::ChildStdout) -> String {
    read_line(&mut std::io::BufReader::new(stdout))
}

fn read_line(reader: &mut impl std::io::BufRead) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    line.trim_end().to_owned()
}
