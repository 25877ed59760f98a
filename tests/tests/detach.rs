//! What the detached daemon looks like from `/proc`: session, terminal, parent,
//! directories, ids, descriptors, signal state.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{pid_file, probe, start};
use daemon_tests::{
    ProcInfo, Pty, Scratch, is_root, nobody, require_root, run_on_pty, sig_bit, wait_exit,
};

#[test]
fn daemon_has_its_own_session_no_terminal_and_is_not_the_launchers_child() {
    let scratch = Scratch::new("session");
    let pty = Pty::open();
    let mut cmd = probe(&scratch);
    cmd.arg("--daemon");
    let (launcher, status) = run_on_pty(&mut cmd, &pty);
    assert!(
        status.success(),
        "launcher failed: {status:?}\n{}",
        pty.drain()
    );
    let pid = daemon_tests::read_pid_file(&pid_file(&scratch)).expect("pid file");
    let _killer = daemon_tests::Killer::new(pid);
    let info = ProcInfo::read(pid).unwrap();

    // The launcher was a session leader with the pty as its controlling terminal.
    assert_ne!(pty.device(), 0);
    assert_eq!(info.tty_nr, 0, "the daemon has a controlling terminal");
    assert_ne!(
        info.sid, launcher,
        "the daemon shares the launcher's session"
    );
    assert_ne!(
        info.pgid, launcher,
        "the daemon is in the launcher's process group"
    );
    assert_ne!(
        info.sid, pid,
        "the daemon is a session leader and could get a terminal"
    );
    assert_ne!(
        info.ppid, launcher,
        "the daemon is still the launcher's child"
    );
    assert_ne!(info.pid, launcher);
}

#[test]
fn defaults_are_root_dir_umask_027_and_same_user() {
    let scratch = Scratch::new("defaults");
    let mut cmd = probe(&scratch);
    cmd.arg("--daemon");
    let daemon = start(&scratch, &mut cmd);
    let info = ProcInfo::read(daemon.pid).unwrap();
    assert_eq!(info.cwd, std::path::Path::new("/"));
    assert_eq!(info.umask, 0o027);
    let me = nix::unistd::geteuid().as_raw();
    assert_eq!(info.uids, [me; 4]);
}

#[test]
fn dir_and_umask_are_as_configured() {
    let scratch = Scratch::new("dir-umask");
    let work = scratch.join("work");
    std::fs::create_dir(&work).unwrap();
    let mut cmd = probe(&scratch);
    cmd.args(["--daemon", "--umask", "077", "--dir"]).arg(&work);
    let daemon = start(&scratch, &mut cmd);
    let info = ProcInfo::read(daemon.pid).unwrap();
    assert_eq!(info.cwd, work);
    assert_eq!(info.umask, 0o077);
}

#[test]
fn as_root_ids_and_groups_stay_root_without_user() {
    if !require_root("as_root_ids_and_groups_stay_root_without_user") {
        return;
    }
    let scratch = Scratch::new("root-ids");
    let mut cmd = probe(&scratch);
    cmd.arg("--daemon");
    let daemon = start(&scratch, &mut cmd);
    let info = ProcInfo::read(daemon.pid).unwrap();
    assert_eq!(info.uids, [0; 4]);
    assert_eq!(info.gids, [0; 4]);
}

#[test]
fn switches_to_nobody_with_only_nobodys_groups() {
    if !require_root("switches_to_nobody_with_only_nobodys_groups") {
        return;
    }
    let (uid, gid) = nobody();
    let scratch = Scratch::new("nobody");
    let mut cmd = probe(&scratch);
    cmd.args(["--daemon", "--user", "nobody"]);
    let daemon = start(&scratch, &mut cmd);
    let info = ProcInfo::read(daemon.pid).unwrap();
    assert_eq!(info.uids, [uid; 4], "real, effective, saved, fs uid");
    let primary = nix::unistd::User::from_name("nobody")
        .unwrap()
        .unwrap()
        .gid
        .as_raw();
    assert_eq!(info.gids, [primary; 4], "real, effective, saved, fs gid");
    let name = std::ffi::CString::new("nobody").unwrap();
    let mut expected: Vec<u32> =
        nix::unistd::getgrouplist(&name, nix::unistd::Gid::from_raw(primary))
            .unwrap()
            .into_iter()
            .map(|g| g.as_raw())
            .collect();
    expected.sort_unstable();
    expected.dedup();
    assert_eq!(info.groups, expected, "supplementary groups");
    assert!(
        !info.groups.contains(&0),
        "root's group survived the switch"
    );
    assert_eq!(gid, primary, "nogroup is nobody's primary group here");
}

#[test]
fn explicit_group_replaces_the_primary_group() {
    if !require_root("explicit_group_replaces_the_primary_group") {
        return;
    }
    let scratch = Scratch::new("group");
    let mut cmd = probe(&scratch);
    // gid 1 ("daemon" on Debian) by number: need not exist by name.
    cmd.args(["--daemon", "--user", "nobody", "--group", "1"]);
    let daemon = start(&scratch, &mut cmd);
    let info = ProcInfo::read(daemon.pid).unwrap();
    assert_eq!(info.gids, [1; 4]);
    assert!(info.groups.contains(&1));
    assert!(!info.groups.contains(&0));
}

#[test]
fn stdio_points_at_dev_null_by_default() {
    let scratch = Scratch::new("stdio-null");
    let mut cmd = probe(&scratch);
    cmd.arg("--daemon");
    let daemon = start(&scratch, &mut cmd);
    let info = ProcInfo::read(daemon.pid).unwrap();
    for fd in 0..3 {
        assert_eq!(info.fd(fd), Some("/dev/null"), "fd {fd}");
    }
}

#[test]
fn stdout_and_stderr_go_to_the_log_file() {
    let scratch = Scratch::new("stdio-log");
    let log = scratch.join("probe.log");
    let mut cmd = probe(&scratch);
    cmd.args(["--daemon", "--ready-when-started", "--log"])
        .arg(&log);
    let daemon = start(&scratch, &mut cmd);
    let info = ProcInfo::read(daemon.pid).unwrap();
    assert_eq!(info.fd(0), Some("/dev/null"));
    let log_name = log.display().to_string();
    assert_eq!(info.fd(1), Some(log_name.as_str()));
    assert_eq!(info.fd(2), Some(log_name.as_str()));
    // Written before readiness, so it is there once the launcher has exited.
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains(&format!("started pid={} detached=true", daemon.pid)),
        "{text}"
    );
    assert_eq!(
        std::fs::metadata(&log).unwrap().permissions().mode() & 0o777,
        0o640
    );
}

#[test]
fn leaked_descriptor_is_closed_and_kept_one_stays() {
    let scratch = Scratch::new("fds");
    let leaked = scratch.join("leaked");
    let kept = scratch.join("kept");
    std::fs::write(&leaked, "x").unwrap();
    std::fs::write(&kept, "y").unwrap();
    let mut cmd = probe(&scratch);
    cmd.arg("--daemon")
        .arg("--leak-fd")
        .arg(&leaked)
        .arg("--keep-fd")
        .arg(&kept);
    let daemon = start(&scratch, &mut cmd);
    let info = ProcInfo::read(daemon.pid).unwrap();
    let targets: Vec<&str> = info.fds.iter().map(|(_, t)| t.as_str()).collect();
    let leaked = leaked.display().to_string();
    let kept = kept.display().to_string();
    assert!(
        !targets.contains(&leaked.as_str()),
        "leaked fd survived: {targets:?}"
    );
    assert!(
        targets.contains(&kept.as_str()),
        "kept fd was closed: {targets:?}"
    );
    // Everything else is accounted for: stdio, the PID file, its lock and its directory,
    // the signal self-pipes.
    let pid_file = pid_file(&scratch).display().to_string();
    let lock = format!("{pid_file}.lock");
    let dir = scratch.marker();
    for (fd, target) in &info.fds {
        let known = *fd <= 2
            || *target == pid_file
            || *target == lock
            || *target == dir
            || *target == kept
            || target.starts_with("pipe:");
        assert!(known, "unexpected fd {fd} -> {target}");
    }
    let pipes = targets.iter().filter(|t| t.starts_with("pipe:")).count();
    assert_eq!(
        pipes, 4,
        "the readiness pipe must be closed once ready: {targets:?}"
    );
}

#[test]
fn launcher_signal_mask_and_ignored_signals_do_not_leak() {
    let scratch = Scratch::new("signals");
    let mut cmd = probe(&scratch);
    // Launched directly, not through sh (dash clears the mask of what it runs).
    cmd.args([
        "--daemon",
        "--block-signal",
        &libc::SIGUSR1.to_string(),
        "--ignore-signal",
        &libc::SIGUSR2.to_string(),
    ]);
    let daemon = start(&scratch, &mut cmd);
    let info = ProcInfo::read(daemon.pid).unwrap();
    assert_eq!(
        info.sig_blocked, 0,
        "blocked mask leaked: {:x}",
        info.sig_blocked
    );
    // The C library keeps the signals between 31 and SIGRTMIN for itself and refuses
    // to change them (this machine's init leaves them ignored); only the rest are the
    // program's to reset.
    let reserved: u64 = (32..libc::SIGRTMIN()).map(sig_bit).sum();
    assert_eq!(
        info.sig_ignored & !reserved,
        sig_bit(libc::SIGPIPE),
        "only SIGPIPE stays ignored: {:x}",
        info.sig_ignored
    );
    assert_eq!(
        info.sig_caught & !reserved,
        sig_bit(libc::SIGTERM) | sig_bit(libc::SIGINT) | sig_bit(libc::SIGHUP),
        "caught: {:x}",
        info.sig_caught
    );
}

#[test]
fn chroot_then_dir_inside_it() {
    if !require_root("chroot_then_dir_inside_it") {
        return;
    }
    let scratch = Scratch::new("chroot");
    let jail = scratch.join("jail");
    std::fs::create_dir_all(jail.join("srv")).unwrap();
    let mut cmd = probe(&scratch);
    cmd.arg("--daemon")
        .arg("--chroot")
        .arg(&jail)
        .args(["--dir", "/srv", "--user", "nobody"]);
    let daemon = start(&scratch, &mut cmd);
    let info = ProcInfo::read(daemon.pid).unwrap();
    // /proc shows the cwd as seen from our root: inside the jail.
    assert_eq!(info.cwd, jail.join("srv"));
    let root = std::fs::read_link(format!("/proc/{}/root", daemon.pid)).unwrap();
    assert_eq!(root, jail);
    assert_eq!(info.uids[0], nobody().0);
    // The PID file, outside the jail, is still handled through the descriptors
    // opened before: SIGTERM leaves it empty (nobody may not unlink in scratch).
    daemon_tests::send_signal(daemon.pid, libc::SIGTERM);
    assert!(wait_exit(daemon.pid, daemon_tests::DEADLINE));
    let left = std::fs::read_to_string(pid_file(&scratch)).unwrap_or_default();
    assert_eq!(left, "", "PID file after the chrooted daemon exited");
}

#[test]
fn not_root_cannot_switch_user() {
    if is_root() {
        daemon_tests::skipped(
            "not_root_cannot_switch_user",
            "it checks the error a user other than root gets",
        );
        return;
    }
    let scratch = Scratch::new("noperm");
    let out = daemon_tests::run(probe(&scratch).args(["--daemon", "--user", "root"]));
    daemon_tests::expect_code(&out, 77);
    let stderr = daemon_tests::text(&out.stderr);
    assert!(
        stderr.starts_with("probe: cannot switch to root (uid 0, gid 0): only root, or a process with the CAP_SETUID and CAP_SETGID capabilities, may switch users, and this runs as uid "),
        "{stderr}"
    );
    assert!(!pid_file(&scratch).exists());
}

#[test]
fn each_step_is_logged_at_debug_level() {
    let scratch = Scratch::new("logging");
    let log = scratch.join("log");
    let mut cmd = probe(&scratch);
    cmd.args(["--daemon", "--verbose", "--log"]).arg(&log);
    if is_root() {
        cmd.args(["--user", "nobody"]);
    }
    let daemon = start(&scratch, &mut cmd);
    // Before the fork, on the launcher's stderr.
    let launcher = daemon_tests::text(&daemon.launcher.stderr);
    assert!(
        launcher.contains(&format!(
            "DEBUG: locked PID file {}",
            pid_file(&scratch).display()
        )),
        "{launcher}"
    );
    assert!(launcher.contains("DEBUG: daemon ready (pid "), "{launcher}");
    // After the fork, the daemon's log file: stdio points there first thing.
    let text = std::fs::read_to_string(&log).unwrap();
    for needle in [
        "DEBUG: working directory is /".to_owned(),
        "DEBUG: umask is 027".to_owned(),
        format!("DEBUG: detached: pid {}", daemon.pid),
        format!(
            "DEBUG: wrote pid {} to {}",
            daemon.pid,
            pid_file(&scratch).display()
        ),
        "DEBUG: reported ready to the launching process".to_owned(),
    ] {
        assert!(text.contains(&needle), "missing {needle:?} in:\n{text}");
    }
    if is_root() {
        assert!(
            text.contains("DEBUG: switched to nobody (uid 65534"),
            "{text}"
        );
    }
}
