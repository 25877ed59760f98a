//! Issue 13, items 1 to 13: each attack of a local user on a daemon started as root,
//! built for real (as `nobody` where the attacker is an unprivileged user), and
//! refused with one line naming the path and what is wrong, with nothing written
//! where the attacker pointed; and the ordinary setups the rule must keep working.
//!
//! The test names carry the item's number. Items 14 to 19 are in `races.rs`.

mod common;

use std::io::BufRead;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{
    Secret, fails, in_pid_namespace, nobodys_dir, one_line, pid_file, plant_symlink, probe, start,
    stranger,
};
use daemon_tests::{
    DEADLINE, Fifo, Killer, ProcInfo, Scratch, Stranger, as_nobody, cpu_ticks, expect_code,
    is_alive, is_locked, nobody, reachable, read_pid_file, require_root, run, run_within,
    send_signal, text, wait_exit,
};

/// What the symlink rule says at the end of a refusal, as root.
const RULE: &str = "only root's symlinks in directories only root can write are followed";

// Item 1: log files follow symlinks.

#[test]
fn item01_log_file_symlinked_to_a_root_file_is_refused() {
    if !require_root("item01_log_file_symlinked_to_a_root_file_is_refused") {
        return;
    }
    let scratch = Scratch::new("i01-log-link");
    let secret = Secret::new(&scratch);
    let logs = nobodys_dir(&scratch, "logs");
    let log = logs.join("probe.log");
    plant_symlink(&secret.path, &log);
    let line = fails(
        &scratch,
        probe(&scratch)
            .args(["--daemon", "--user", "nobody", "--log"])
            .arg(&log),
        73,
    );
    assert_eq!(
        line,
        format!(
            "probe: refusing stdout log file {}: it is a symlink owned by uid 65534; {RULE}",
            log.display()
        )
    );
    secret.assert_untouched();
}

#[test]
fn item01_dangling_log_symlink_creates_nothing() {
    if !require_root("item01_dangling_log_symlink_creates_nothing") {
        return;
    }
    let scratch = Scratch::new("i01-dangling");
    let secret = Secret::new(&scratch);
    let logs = nobodys_dir(&scratch, "logs");
    let log = logs.join("probe.log");
    plant_symlink(&secret.dir.join("planted"), &log);
    let line = fails(
        &scratch,
        probe(&scratch)
            .args(["--daemon", "--user", "nobody", "--log"])
            .arg(&log),
        73,
    );
    assert!(
        line.starts_with("probe: refusing stdout log file "),
        "{line}"
    );
    assert!(line.ends_with(RULE), "{line}");
    secret.assert_untouched();
}

/// Without `user`, the daemon stays root and reopens its log on SIGHUP as root.
#[test]
fn item01_reopen_on_sighup_refuses_a_symlink_planted_after_the_start() {
    if !require_root("item01_reopen_on_sighup_refuses_a_symlink_planted_after_the_start") {
        return;
    }
    let scratch = Scratch::new("i01-reopen");
    let secret = Secret::new(&scratch);
    let logs = nobodys_dir(&scratch, "logs");
    let log = logs.join("probe.log");
    let mut notes = Fifo::create(&scratch.join("notes"), None);
    let daemon = start(
        &scratch,
        probe(&scratch)
            .args(["--daemon", "--ready-when-started", "--reload-hook"])
            .arg("--reload-notify")
            .arg(notes.path())
            .arg("--log")
            .arg(&log),
    );
    // The service user "rotates" root's log out of its own directory and plants a link.
    let moved = logs.join("probe.log.1");
    common::as_attacker("mv", &[log.as_os_str(), moved.as_os_str()]);
    plant_symlink(&secret.path, &log);
    expect_code(&run(probe(&scratch).arg("--reload")), 0);
    assert_eq!(notes.line(DEADLINE).as_deref(), Some("reloaded 1"));
    secret.assert_untouched();
    // The reopen was refused: the daemon still writes to the file it had.
    let old = std::fs::read_to_string(&moved).unwrap();
    assert!(old.contains("reloaded 1"), "{old}");
    assert!(std::fs::symlink_metadata(&log).unwrap().is_symlink());
    assert!(is_alive(daemon.pid));
}

// Item 2: the PID file written without checking what it is.

#[test]
fn item02_pid_file_hard_linked_to_a_root_file_is_refused() {
    if !require_root("item02_pid_file_hard_linked_to_a_root_file_is_refused") {
        return;
    }
    let scratch = Scratch::new("i02-hardlink");
    let secret = Secret::new(&scratch);
    let run_dir = nobodys_dir(&scratch, "run");
    let path = run_dir.join("probe.pid");
    // Any user can make this link where protected_hardlinks is off (and on the BSDs
    // and macOS); here root makes it for the attacker, who cannot reach the secret.
    std::fs::hard_link(&secret.path, &path).unwrap();
    let line = fails(
        &scratch,
        Command::new(env!("CARGO_BIN_EXE_probe"))
            .args(["--daemon", "--log-target", "none", "--pid-file"])
            .arg(&path),
        73,
    );
    assert_eq!(
        line,
        format!(
            "probe: refusing PID file {}: it has 2 links; a file written while privileged \
             must have exactly one, or the write lands in a file elsewhere too",
            path.display()
        )
    );
    secret.assert_untouched();
}

#[test]
fn item02_pid_file_under_a_symlinked_directory_of_another_user_is_refused() {
    if !require_root("item02_pid_file_under_a_symlinked_directory_of_another_user_is_refused") {
        return;
    }
    let scratch = Scratch::new("i02-dirlink");
    let secret = Secret::new(&scratch);
    let run_dir = nobodys_dir(&scratch, "run");
    let link = run_dir.join("app");
    plant_symlink(&secret.dir, &link);
    let path = link.join("probe.pid");
    let line = fails(
        &scratch,
        Command::new(env!("CARGO_BIN_EXE_probe"))
            .args(["--daemon", "--log-target", "none", "--pid-file"])
            .arg(&path),
        73,
    );
    assert_eq!(
        line,
        format!(
            "probe: refusing PID file {}: {} is a symlink owned by uid 65534; {RULE}",
            path.display(),
            link.display()
        )
    );
    secret.assert_untouched();
}

#[test]
fn item02_pid_file_symlinked_to_a_root_file_is_refused() {
    if !require_root("item02_pid_file_symlinked_to_a_root_file_is_refused") {
        return;
    }
    let scratch = Scratch::new("i02-link");
    let secret = Secret::new(&scratch);
    let run_dir = nobodys_dir(&scratch, "run");
    let path = run_dir.join("probe.pid");
    plant_symlink(&secret.path, &path);
    let line = fails(
        &scratch,
        Command::new(env!("CARGO_BIN_EXE_probe"))
            .args(["--daemon", "--log-target", "none", "--pid-file"])
            .arg(&path),
        73,
    );
    assert_eq!(
        line,
        format!(
            "probe: refusing PID file {}: it is a symlink owned by uid 65534; {RULE}",
            path.display()
        )
    );
    secret.assert_untouched();
}

// The same walk for the directories (`dir`, `chroot`) and for `/dev/null`.

#[test]
fn item02_dir_and_chroot_through_another_users_symlink_are_refused() {
    if !require_root("item02_dir_and_chroot_through_another_users_symlink_are_refused") {
        return;
    }
    let scratch = Scratch::new("i02-dirs");
    let secret = Secret::new(&scratch);
    let run_dir = nobodys_dir(&scratch, "run");
    let link = run_dir.join("app");
    plant_symlink(&secret.dir, &link);
    for key in ["dir", "chroot"] {
        let line = fails(
            &scratch,
            probe(&scratch)
                .arg("--daemon")
                .arg(format!("--{key}"))
                .arg(&link),
            66,
        );
        assert_eq!(
            line,
            format!(
                "probe: cannot use {key} {} (from --{key}): it is a symlink owned by uid 65534; \
                 {RULE}",
                link.display()
            )
        );
    }
    secret.assert_untouched();
}

#[test]
fn a_regular_file_in_place_of_dev_null_is_refused() {
    if !require_root("a_regular_file_in_place_of_dev_null_is_refused") {
        return;
    }
    let scratch = Scratch::new("dev-null");
    let fake = scratch.join("fake-null");
    std::fs::write(&fake, "not the null device\n").unwrap();
    // In a mount namespace of its own, where the bind mount ends with the process.
    let line = fails(
        &scratch,
        Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg("mount --bind \"$0\" /dev/null && exec \"$@\"")
            .arg(&fake)
            .arg(env!("CARGO_BIN_EXE_probe"))
            .args(["--daemon", "--log-target", "none", "--pid-file"])
            .arg(pid_file(&scratch)),
        73,
    );
    assert_eq!(
        line,
        "probe: refusing null device /dev/null: it is a regular file, not the null device"
    );
    assert_eq!(
        std::fs::read_to_string(&fake).unwrap(),
        "not the null device\n"
    );
}

// Item 3: chroot escape through a directory descriptor from outside the jail.

#[test]
fn item03_no_directory_descriptor_from_outside_survives_into_the_chroot() {
    if !require_root("item03_no_directory_descriptor_from_outside_survives_into_the_chroot") {
        return;
    }
    let scratch = Scratch::new("i03-chroot");
    let jail = scratch.join("jail");
    std::fs::create_dir(&jail).unwrap();
    // Readable by nobody: only the jail keeps the daemon from it.
    let outside = scratch.join("outside.txt");
    std::fs::write(&outside, "outside the jail\n").unwrap();
    // The PID file and the log outside the jail: their directories were kept open once.
    let log = scratch.join("probe.log");
    let daemon = start(
        &scratch,
        probe(&scratch)
            .args(["--daemon", "--ready-when-started", "--user", "nobody"])
            .arg("--chroot")
            .arg(&jail)
            .arg("--log")
            .arg(&log)
            .arg("--escape")
            .arg(&outside),
    );
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(!said.contains("escaped"), "{said}");
    assert!(said.contains("no way out: "), "{said}");
    // And from the outside: no descriptor of the daemon is a directory outside the jail.
    for (fd, target) in ProcInfo::read(daemon.pid).unwrap().fds {
        let link = format!("/proc/{}/fd/{fd}", daemon.pid);
        if std::fs::metadata(&link).is_ok_and(|m| m.is_dir()) {
            assert!(
                Path::new(&target).starts_with(&jail),
                "fd {fd} is directory {target}, outside the jail {}",
                jail.display()
            );
        }
    }
    // Nothing outside is reachable, yet the PID file is still handled: emptied.
    send_signal(daemon.pid, libc::SIGTERM);
    assert!(wait_exit(daemon.pid, DEADLINE));
    assert_eq!(std::fs::read_to_string(pid_file(&scratch)).unwrap(), "");
}

#[test]
fn item03_pid_file_inside_the_jail_is_removed_from_inside() {
    if !require_root("item03_pid_file_inside_the_jail_is_removed_from_inside") {
        return;
    }
    let scratch = Scratch::new("i03-inside");
    let jail = scratch.join("jail");
    std::fs::create_dir(&jail).unwrap();
    let run_dir = jail.join("run");
    std::fs::create_dir(&run_dir).unwrap();
    let (uid, gid) = nobody();
    std::os::unix::fs::chown(&run_dir, Some(uid), Some(gid)).unwrap();
    let path = run_dir.join("probe.pid");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_probe"));
    cmd.args(["--daemon", "--log-target", "none", "--user", "nobody"])
        .arg("--pid-file")
        .arg(&path)
        .arg("--chroot")
        .arg(&jail);
    expect_code(&run(&mut cmd), 0);
    let pid = read_pid_file(&path).expect("the PID file names the daemon");
    let _killer = Killer::new(pid);
    send_signal(pid, libc::SIGTERM);
    assert!(wait_exit(pid, DEADLINE));
    assert!(!path.exists(), "the PID file in the jail was not removed");
}

// Item 4: the PID file's lock taken by whoever can read the file.

#[test]
fn item04_a_reader_of_the_pid_file_can_neither_block_a_start_nor_fake_status() {
    if !require_root("item04_a_reader_of_the_pid_file_can_neither_block_a_start_nor_fake_status") {
        return;
    }
    let scratch = Scratch::new("i04-reader");
    let path = pid_file(&scratch);
    // A stale file naming a pid above pid_max, world-readable as PID files are.
    std::fs::write(&path, "4000000\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _flock = hold_flock(&path, true);

    let out = run(probe(&scratch).arg("--status"));
    expect_code(&out, 1);
    assert_eq!(
        text(&out.stdout).trim_end(),
        format!(
            "probe is not running, but its PID file {} is still there; it names pid 4000000, \
             which is not the daemon (the file's lock is free)",
            path.display()
        )
    );
    let daemon = start(&scratch, probe(&scratch).arg("--daemon"));
    let out = run(probe(&scratch).arg("--status"));
    expect_code(&out, 0);
    assert_eq!(
        text(&out.stdout).trim_end(),
        format!("probe is running (pid {})", daemon.pid)
    );
    // The lock file is root's, mode 0600: nobody cannot even open it to lock it. (It
    // must exist: nobody could not create it in this root-owned directory either.)
    assert!(
        is_locked(&path),
        "the daemon holds no lock beside its PID file"
    );
    let mut lock = path.into_os_string();
    lock.push(".lock");
    let meta = std::fs::metadata(&lock).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o777), (0, 0o600), "{lock:?}");
    let out = run(as_nobody(
        Command::new("flock")
            .args(["--nonblock", "--exclusive"])
            .arg(&lock)
            .arg("true"),
    ));
    assert_ne!(out.status.code(), Some(0), "nobody took the lock");
    assert!(text(&out.stderr).contains("Permission denied"), "{out:?}");
}

#[test]
fn item04_a_lock_held_by_another_process_is_named_with_its_command_and_user() {
    let scratch = Scratch::new("i04-holder");
    let path = pid_file(&scratch);
    std::fs::write(&path, "4000000\n").unwrap();
    let mut lock = path.clone().into_os_string();
    lock.push(".lock");
    let holder = hold_flock(Path::new(&lock), false);
    let me = nix::unistd::geteuid().as_raw();
    let user = nix::unistd::User::from_uid(me.into())
        .unwrap()
        .unwrap()
        .name;
    let named = format!("pid {} (`sleep`, user {user} (uid {me}))", holder.pid());

    let out = run(probe(&scratch).arg("--status"));
    expect_code(&out, 4);
    assert_eq!(
        text(&out.stdout).trim_end(),
        format!(
            "cannot tell whether probe runs: the lock of PID file {} is held by {named}, which \
             is not the pid the file names (4000000)",
            path.display()
        )
    );
    let out = run(probe(&scratch).arg("--daemon"));
    expect_code(&out, 75);
    assert_eq!(
        one_line(&out),
        format!(
            "cannot start probe: the lock of PID file {} is held by {named}, which is not \
             probe; refusing to start",
            path.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "4000000\n");
}

/// `flock --exclusive FILE` holding the lock (as `nobody` if asked) in one process that
/// becomes `sleep` (`--no-fork`: no child of it can outlive it), which prints "locked"
/// once it has the lock. Killed and reaped on drop.
fn hold_flock(file: &Path, as_attacker: bool) -> Stranger {
    let mut cmd = Command::new("flock");
    cmd.args(["--nonblock", "--exclusive", "--no-fork"])
        .arg(file)
        .args(["sh", "-c", "echo locked; exec sleep 600"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if as_attacker {
        as_nobody(&mut cmd);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let holder = Stranger::adopt(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "locked\n", "flock did not get the lock");
    holder
}

// Item 5: huge durations.

#[test]
fn item05_durations_above_a_day_are_refused_where_they_come_from() {
    let scratch = Scratch::new("i05-durations");
    let line = fails(
        &scratch,
        probe(&scratch).args(["--daemon", "--start-timeout", "1e19"]),
        78,
    );
    assert_eq!(
        line,
        "probe: invalid start_timeout `10000000000000000000` (from --start-timeout): at most \
         86400 seconds (a day) are allowed"
    );
    let config = scratch.join("huge.toml");
    for key in ["start_timeout", "stop_timeout"] {
        std::fs::write(&config, format!("[daemon]\n{key} = 1e19\n")).unwrap();
        for action in ["--daemon", "--stop"] {
            let line = fails(
                &scratch,
                probe(&scratch).arg(action).arg("--config").arg(&config),
                78,
            );
            assert_eq!(
                line,
                format!(
                    "probe: invalid {key} `10000000000000000000` (from {}, line 2): at most \
                     86400 seconds (a day) are allowed",
                    config.display()
                )
            );
        }
    }
    assert!(!pid_file(&scratch).exists());
    // A day is allowed.
    let out = run(probe(&scratch).args(["--print-settings", "--stop-timeout", "86400"]));
    expect_code(&out, 0);
    assert!(text(&out.stdout).contains("stop_timeout = 86400s  # from --stop-timeout"));
}

#[test]
fn item05_a_huge_stop_timeout_does_not_signal_before_it_is_refused() {
    let scratch = Scratch::new("i05-stop");
    let daemon = start(&scratch, probe(&scratch).arg("--daemon"));
    let out = run(probe(&scratch).args(["--stop", "--stop-timeout", "1e19"]));
    expect_code(&out, 78);
    assert!(is_alive(daemon.pid), "the daemon was stopped anyway");
    assert_eq!(read_pid_file(&pid_file(&scratch)), Some(daemon.pid));
}

// Item 6: LISTEN_FDS trusted.

/// The probe in the foreground with `LISTEN_PID` set to its own pid (a shell's `$$`,
/// kept by `exec`) and `LISTEN_FDS` to `count`.
fn socket_activated(scratch: &Scratch, count: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!(
            "LISTEN_PID=$$ LISTEN_FDS={count} exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_probe"))
        .args(["--log-target", "none", "--pid-file"])
        .arg(pid_file(scratch));
    cmd
}

/// Makes `fd` descriptor 3 of the command's process. The command owns `fd` from now
/// on: it stays open for every spawn and closes when the command is dropped.
fn pass_as_fd3(cmd: &mut Command, fd: std::os::fd::OwnedFd) {
    use std::os::fd::AsRawFd;
    let dup = move || {
        let raw = fd.as_raw_fd();
        let r = if raw == 3 {
            // Already 3: dup2 would do nothing and leave it close-on-exec.
            // SAFETY: fcntl(2) F_SETFD on a descriptor this child owns; async-signal-safe.
            unsafe { libc::fcntl(3, libc::F_SETFD, 0) }
        } else {
            // SAFETY: dup2(2) of a descriptor this child inherited onto 3.
            unsafe { libc::dup2(raw, 3) }
        };
        match r {
            -1 => Err(std::io::Error::last_os_error()),
            _ => Ok(()),
        }
    };
    // SAFETY: the closure only calls dup2(2) or fcntl(2), which are async-signal-safe.
    unsafe { cmd.pre_exec(dup) };
}

#[test]
fn item06_a_huge_listen_fds_is_refused_at_once() {
    let scratch = Scratch::new("i06-huge");
    for count in ["300000000", "2147483645", "99999999999999999999"] {
        let out = run_within(
            &mut socket_activated(&scratch, count),
            Duration::from_secs(10),
        );
        expect_code(&out, 78);
        assert_eq!(
            one_line(&out),
            format!(
                "probe: invalid LISTEN_FDS `{count}`: more than the 1024 descriptors the \
                 runtime accepts"
            )
        );
    }
}

#[test]
fn item06_listen_fds_that_are_not_sockets_are_refused() {
    let scratch = Scratch::new("i06-not-socket");
    let file = std::fs::File::open(env!("CARGO_BIN_EXE_probe")).unwrap();
    let mut cmd = socket_activated(&scratch, "1");
    pass_as_fd3(&mut cmd, file.into());
    let out = run_within(&mut cmd, Duration::from_secs(10));
    expect_code(&out, 78);
    assert_eq!(
        one_line(&out),
        "probe: invalid LISTEN_FDS `1`: fd 3 is not a socket but a regular file"
    );
    assert!(!pid_file(&scratch).exists());
}

#[test]
fn item06_a_passed_socket_is_made_close_on_exec_and_the_variables_go() {
    let scratch = Scratch::new("i06-socket");
    let listener = std::os::unix::net::UnixListener::bind(scratch.join("sock")).unwrap();
    let mut cmd = socket_activated(&scratch, "1");
    cmd.args(["--print-env", "LISTEN_"]);
    pass_as_fd3(&mut cmd, listener.into());
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let killer = Killer::new(child.id());
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        if line.is_empty() || line.starts_with("started pid=") {
            break;
        }
        lines.push(line);
    }
    assert_eq!(
        lines,
        ["env: end\n"],
        "LISTEN_* left for the program's children"
    );
    let info = ProcInfo::read(child.id()).unwrap();
    assert!(
        info.fd(3).is_some_and(|t| t.starts_with("socket:")),
        "{info:?}"
    );
    let fdinfo = std::fs::read_to_string(format!("/proc/{}/fdinfo/3", child.id())).unwrap();
    let flags = fdinfo
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .map(|f| u32::from_str_radix(f.trim(), 8).unwrap())
        .unwrap();
    assert_ne!(
        flags & libc::O_CLOEXEC as u32,
        0,
        "fd 3 is inherited by exec"
    );
    drop(killer);
    let _ = child.wait();
}

// Item 7: the start-timeout kill sent to the last pid reported.

#[test]
fn item07_the_start_timeout_kill_never_hits_a_process_that_took_the_daemons_pid() {
    if !require_root("item07_the_start_timeout_kill_never_hits_a_process_that_took_the_daemons_pid")
    {
        return;
    }
    let scratch = Scratch::new("i07-timeout");
    let pid_path = pid_file(&scratch);
    // The daemon reports its pid, hands the readiness channel to a child and exits; the
    // stranger gets its pid; then the start timeout runs out.
    let out = in_pid_namespace(&[
        "--".as_ref(),
        env!("CARGO_BIN_EXE_probe").as_ref(),
        "--daemon".as_ref(),
        "--log-target".as_ref(),
        "none".as_ref(),
        "--orphan-start".as_ref(),
        "--start-timeout".as_ref(),
        "0.5".as_ref(),
        "--pid-file".as_ref(),
        pid_path.as_os_str(),
    ]);
    expect_code(&out, 0);
    let report = text(&out.stdout);
    let pid = stranger(&report);
    assert!(report.contains("command exit=69\n"), "{report}");
    assert!(
        report.contains(&format!("stranger {pid} alive\n")),
        "the launcher killed the process that took the daemon's pid:\n{report}"
    );
    assert_eq!(
        one_line(&out),
        format!("probe: the daemon (pid {pid}) did not report ready within 500ms (start_timeout)")
    );
}

// Item 8: PID 1 ignores SIGTERM.

/// The probe as PID 1 of a new PID namespace, in the foreground; returns `unshare`,
/// the probe's pid as seen from here, and its standard output.
fn as_pid_1(scratch: &Scratch, args: &[&str]) -> (std::process::Child, u32, impl BufRead) {
    let mut child = Command::new("unshare")
        .args(["--pid", "--fork", "--kill-child"])
        .arg(env!("CARGO_BIN_EXE_probe"))
        .args(["--log-target", "none", "--pid-file"])
        .arg(pid_file(scratch))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "started pid=1 detached=false\n");
    let children =
        std::fs::read_to_string(format!("/proc/{}/task/{}/children", child.id(), child.id()))
            .unwrap();
    let probe: u32 = children.trim().parse().expect("unshare's one child");
    (child, probe, stdout)
}

/// Waits for `unshare` (which exits with its child's status) and returns its exit code;
/// kills it if it does not exit.
fn exit_code_of(mut unshare: std::process::Child) -> Option<i32> {
    let _killer = Killer::new(unshare.id());
    assert!(
        wait_exit(unshare.id(), Duration::from_secs(10)),
        "PID 1 ignored the signal"
    );
    unshare.wait().unwrap().code()
}

#[test]
fn item08_as_pid_1_sigterm_and_sigint_end_the_program_with_143_and_130() {
    if !require_root("item08_as_pid_1_sigterm_and_sigint_end_the_program_with_143_and_130") {
        return;
    }
    for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGINT, 130)] {
        let scratch = Scratch::new("i08-pid1");
        let (unshare, probe, _) = as_pid_1(&scratch, &[]);
        assert_eq!(read_pid_file(&pid_file(&scratch)), Some(1));
        send_signal(probe, signal);
        assert_eq!(exit_code_of(unshare), Some(code), "signal {signal}");
        assert!(!pid_file(&scratch).exists(), "PID file left behind");
    }
}

#[test]
fn item08_as_pid_1_a_second_signal_ends_a_hung_graceful_shutdown() {
    if !require_root("item08_as_pid_1_a_second_signal_ends_a_hung_graceful_shutdown") {
        return;
    }
    let scratch = Scratch::new("i08-second");
    let (unshare, probe, mut stdout) = as_pid_1(&scratch, &["--graceful", "--hang-after-shutdown"]);
    send_signal(probe, libc::SIGTERM);
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "shutdown requested by Some(SIGTERM)\n");
    send_signal(probe, libc::SIGTERM);
    assert_eq!(exit_code_of(unshare), Some(143));
    assert!(!pid_file(&scratch).exists(), "PID file left behind");
}

// Item 9: a descriptor owned by a live object, closed at start, its number reused.

#[test]
fn item09_a_file_dropped_after_the_start_does_not_break_the_shutdown_pipe() {
    for wait in [&["--wait-timeout"][..], &[]] {
        let scratch = Scratch::new("i09-late-drop");
        let log = scratch.join("probe.log");
        let daemon = start(
            &scratch,
            probe(&scratch)
                // Ready once the shutdown handle is taken: a SIGTERM before would
                // take the runtime's default way out.
                .args(["--daemon", "--ready-when-started", "--graceful"])
                .args(wait)
                .arg("--late-drop")
                .arg(env!("CARGO_BIN_EXE_probe"))
                .arg("--log")
                .arg(&log),
        );
        // CPU time, not wall time, tells a wait from a spin on POLLNVAL. The sleep is
        // the measuring interval, not a synchronisation.
        let before = cpu_ticks(daemon.pid);
        std::thread::sleep(Duration::from_millis(500));
        let used = cpu_ticks(daemon.pid) - before;
        assert!(
            used <= 10,
            "{wait:?}: the daemon used {used} ticks in 0.5 s waiting"
        );
        send_signal(daemon.pid, libc::SIGTERM);
        assert!(
            wait_exit(daemon.pid, DEADLINE),
            "{wait:?}: no graceful exit"
        );
        let said = std::fs::read_to_string(&log).unwrap();
        assert!(
            said.contains("shutdown requested by Some(SIGTERM)"),
            "{wait:?}: {said}"
        );
        assert!(!pid_file(&scratch).exists());
    }
}

// Item 10: the thread check after files were created.

#[test]
fn item10_a_refused_fork_leaves_no_file_at_all() {
    let scratch = Scratch::new("i10-threads");
    let log = scratch.join("probe.log");
    let out = run(probe(&scratch)
        .args(["--daemon", "--spawn-thread", "--log"])
        .arg(&log));
    expect_code(&out, 70);
    assert!(one_line(&out).starts_with("probe: refusing to fork: the process has 2 threads"));
    let left: Vec<_> = std::fs::read_dir(scratch.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        left.is_empty(),
        "files created before the thread check: {left:?}"
    );
}

// Item 11: hardening.

/// `Max core file size` of `pid`, soft limit, from `/proc/PID/limits`.
fn core_limit(pid: u32) -> String {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    line["Max core file size".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

fn status_field(pid: u32, name: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
        .trim()
        .to_owned()
}

/// Starts the launcher with a core size limit of 1 MiB, so that "not prevented" shows.
fn with_core_limit(cmd: &mut Command) -> &mut Command {
    let limit = || {
        nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_CORE, 1 << 20, 1 << 20)
            .map_err(std::io::Error::from)
    };
    // SAFETY: setrlimit(2) is async-signal-safe; the closure allocates nothing.
    unsafe { cmd.pre_exec(limit) }
}

#[test]
fn item11_core_dumps_are_prevented_unless_allowed_and_no_new_privs_on_request() {
    let scratch = Scratch::new("i11-defaults");
    let daemon = start(&scratch, with_core_limit(probe(&scratch).arg("--daemon")));
    assert_eq!(core_limit(daemon.pid), "0");
    assert_eq!(status_field(daemon.pid, "NoNewPrivs"), "0");
    drop(daemon);

    let scratch = Scratch::new("i11-set");
    let daemon = start(
        &scratch,
        with_core_limit(probe(&scratch).args(["--daemon", "--core-dumps", "--no-new-privs"])),
    );
    assert_eq!(core_limit(daemon.pid), "1048576");
    assert_eq!(status_field(daemon.pid, "NoNewPrivs"), "1");
}

#[test]
fn item11_a_launcher_with_cap_setuid_but_not_root_may_switch_users() {
    if !require_root("item11_a_launcher_with_cap_setuid_but_not_root_may_switch_users") {
        return;
    }
    let scratch = Scratch::new("i11-caps");
    let run_dir = nobodys_dir(&scratch, "run");
    let path = run_dir.join("probe.pid");
    let probe = reachable(Path::new(env!("CARGO_BIN_EXE_probe")));
    // nobody, with CAP_SETUID and CAP_SETGID and nothing else, switching to `daemon`.
    let out = run(Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .args([
            "--inh-caps=-all,+setuid,+setgid",
            "--ambient-caps=+setuid,+setgid",
        ])
        .arg(&probe)
        .args(["--daemon", "--log-target", "none", "--user", "daemon"])
        .arg("--pid-file")
        .arg(&path));
    expect_code(&out, 0);
    let pid = read_pid_file(&path).expect("the PID file names the daemon");
    let _killer = Killer::new(pid);
    let daemon = nix::unistd::User::from_name("daemon").unwrap().unwrap();
    let info = ProcInfo::read(pid).unwrap();
    assert_eq!(info.uids, [daemon.uid.as_raw(); 4]);
    assert_eq!(info.gids, [daemon.gid.as_raw(); 4]);
    assert!(!info.groups.contains(&65534), "{:?}", info.groups);
    // The switch took the capabilities along with the ids: nothing to switch back with.
    for set in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert_eq!(
            u64::from_str_radix(&status_field(pid, set), 16).unwrap(),
            0,
            "{set} after the switch"
        );
    }
}

#[test]
fn item11_a_launcher_without_the_capabilities_is_refused() {
    if !require_root("item11_a_launcher_without_the_capabilities_is_refused") {
        return;
    }
    let scratch = Scratch::new("i11-nocaps");
    let run_dir = nobodys_dir(&scratch, "run");
    let path = run_dir.join("probe.pid");
    let probe = reachable(Path::new(env!("CARGO_BIN_EXE_probe")));
    let out = run(Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .args(["--inh-caps=-all,+setuid", "--ambient-caps=+setuid"])
        .arg(&probe)
        .args(["--daemon", "--log-target", "none", "--user", "daemon"])
        .arg("--pid-file")
        .arg(&path));
    expect_code(&out, 77);
    assert_eq!(
        one_line(&out),
        "probe: cannot switch to daemon (uid 1, gid 1): only root, or a process with the \
         CAP_SETUID and CAP_SETGID capabilities, may switch users, and this runs as uid 65534 \
         without them"
    );
}

// Item 12: on_reload from inside a reload hook.

#[test]
fn item12_a_reload_hook_can_register_another_hook() {
    let scratch = Scratch::new("i12-nested");
    let mut notes = Fifo::create(&scratch.join("notes"), None);
    let daemon = start(
        &scratch,
        probe(&scratch)
            .args(["--daemon", "--ready-when-started", "--nested-reload-hook"])
            .arg("--reload-hook")
            .arg("--reload-notify")
            .arg(notes.path()),
    );
    let timeout = Duration::from_secs(10);
    expect_code(&run(probe(&scratch).arg("--reload")), 0);
    assert_eq!(notes.line(timeout).as_deref(), Some("reloaded 1"));
    expect_code(&run(probe(&scratch).arg("--reload")), 0);
    assert_eq!(
        notes.line(timeout).as_deref(),
        Some("reloaded 2"),
        "the first reload hook deadlocked"
    );
    assert_eq!(notes.line(timeout).as_deref(), Some("nested 1"));
    assert!(is_alive(daemon.pid));
}

// Item 13: the suite in a checkout that nobody cannot traverse.

#[test]
fn item13_binaries_run_as_nobody_are_copied_where_nobody_can_reach_them() {
    if !require_root("item13_binaries_run_as_nobody_are_copied_where_nobody_can_reach_them") {
        return;
    }
    let scratch = Scratch::new("i13-reach");
    // A checkout under root's home: mode 0700.
    let home = scratch.join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    let inside = home.join("probe");
    expect_code(
        &run(Command::new("cp")
            .arg(env!("CARGO_BIN_EXE_probe"))
            .arg(&inside)),
        0,
    );
    let err = as_nobody(&mut Command::new(&inside))
        .arg("--version")
        .output()
        .expect_err("nobody ran a binary in a directory it cannot traverse");
    assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);

    let copy = reachable(&inside);
    assert_eq!(reachable(&inside), copy, "copied once");
    for dir in copy.ancestors().skip(1) {
        let mode = std::fs::metadata(dir).unwrap().mode();
        assert_ne!(
            mode & 0o001,
            0,
            "{} cannot be searched by others",
            dir.display()
        );
    }
    let out = run(as_nobody(&mut Command::new(&copy)).arg("--version"));
    expect_code(&out, 0);
    assert!(text(&out.stdout).starts_with("probe "), "{out:?}");
}

// What the rule must keep working: root's own symlinks.

#[test]
fn debian_var_run_symlink_still_works_for_the_pid_file() {
    if !require_root("debian_var_run_symlink_still_works_for_the_pid_file") {
        return;
    }
    if !std::fs::symlink_metadata("/var/run").is_ok_and(|m| m.is_symlink()) {
        daemon_tests::skipped(
            "debian_var_run_symlink_still_works_for_the_pid_file",
            "/var/run is not a symlink here",
        );
        return;
    }
    let scratch = Scratch::new("var-run");
    let name = format!(
        "{}.pid",
        scratch.path().file_name().unwrap().to_string_lossy()
    );
    let path = Path::new("/var/run").join(&name);
    let real = std::fs::canonicalize("/var/run").unwrap().join(&name);
    // Outside the scratch directory: removed on the way out, even from a failed test.
    let _cleanup = [real.clone(), real.with_added_extension("lock")]
        .map(|path| tempfile::TempPath::try_from_path(path).unwrap());
    let probe = |action: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_probe"));
        cmd.args([action, "--log-target", "none", "--pid-file"])
            .arg(&path);
        run(&mut cmd)
    };
    expect_code(&probe("--daemon"), 0);
    let pid = read_pid_file(&real).expect("the PID file lies where /var/run leads");
    let _killer = Killer::new(pid);
    let status = probe("--status");
    expect_code(&status, 0);
    expect_code(&probe("--stop"), 0);
    assert!(!real.exists());
}

#[test]
fn root_symlinked_config_file_and_log_directory_still_work() {
    if !require_root("root_symlinked_config_file_and_log_directory_still_work") {
        return;
    }
    let scratch = Scratch::new("root-links");
    // As NixOS links /etc into its store, and a log directory moved to another disk.
    let store = scratch.join("store");
    std::fs::create_dir(&store).unwrap();
    let real_logs = scratch.join("disk/logs");
    std::fs::create_dir_all(&real_logs).unwrap();
    let logs = scratch.join("logs");
    std::os::unix::fs::symlink(&real_logs, &logs).unwrap();
    let stored = store.join("probe.toml");
    std::fs::write(
        &stored,
        format!(
            "[daemon]\nstdout = \"{}\"\n",
            logs.join("probe.log").display()
        ),
    )
    .unwrap();
    let config = scratch.join("probe.toml");
    std::os::unix::fs::symlink(&stored, &config).unwrap();
    let daemon = start(
        &scratch,
        probe(&scratch)
            .args(["--daemon", "--ready-when-started", "--config"])
            .arg(&config),
    );
    let said = std::fs::read_to_string(real_logs.join("probe.log")).unwrap();
    assert!(
        said.contains(&format!("started pid={}", daemon.pid)),
        "{said}"
    );
}
