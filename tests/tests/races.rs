//! Issue 13, items 14 to 19: what a fault campaign found (a FIFO at the PID path,
//! deadlines, signals in the start-up window, stop racing a start, the pid quoted by a
//! refused start, a trailing slash). Each is driven until the race shows: hundreds of
//! tries where one hit in four or in twenty-five was enough to see it before.

mod common;

use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{one_line, pid_file, probe, start};
use daemon_tests::{
    DEADLINE, Killer, Pidfd, Scratch, expect_code, is_locked, left_running, processes_mentioning,
    race, read_pid_file, run, run_within, text, wait_exit, wait_output,
};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use nix::sys::signal::Signal;

// Item 14: a FIFO at the PID path.

#[test]
fn item14_a_fifo_at_the_pid_path_is_refused_at_once_by_every_action() {
    let scratch = Scratch::new("i14-fifo");
    let path = pid_file(&scratch);
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    let refusal = format!(
        "refusing PID file {}: it is a FIFO (named pipe), not a regular file",
        path.display()
    );
    let quick = Duration::from_secs(5);
    let out = run_within(probe(&scratch).arg("--status"), quick);
    expect_code(&out, 4);
    assert_eq!(
        text(&out.stdout).trim_end(),
        format!("cannot tell whether probe runs: {refusal}")
    );
    for action in ["--stop", "--reload", "--daemon"] {
        let out = run_within(probe(&scratch).arg(action), quick);
        expect_code(&out, 73);
        assert_eq!(one_line(&out), format!("probe: {refusal}"), "{action}");
    }
    assert!(processes_mentioning(&scratch.marker()).is_empty());
}

#[test]
fn item14_a_fifo_at_the_lock_path_is_refused_at_once() {
    let scratch = Scratch::new("i14-lock-fifo");
    let lock = scratch.join("probe.pid.lock");
    nix::unistd::mkfifo(&lock, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let quick = Duration::from_secs(5);
    let out = run_within(probe(&scratch).arg("--status"), quick);
    expect_code(&out, 4);
    for action in ["--stop", "--daemon"] {
        let out = run_within(probe(&scratch).arg(action), quick);
        expect_code(&out, 73);
        assert_eq!(
            one_line(&out),
            format!(
                "probe: refusing PID file {}: it is a FIFO (named pipe), not a regular file",
                lock.display()
            ),
            "{action}"
        );
    }
}

// Item 15: a start timeout that expires before the daemon's first report.

#[test]
fn item15_a_start_timeout_before_the_first_report_leaves_nothing_running() {
    let scratch = Scratch::new("i15-tiny-timeout");
    for _ in 0..20 {
        let out =
            run(probe(&scratch).args(["--daemon", "--never-ready", "--start-timeout", "1e-9"]));
        expect_code(&out, 69);
        let line = one_line(&out);
        assert!(line.contains("did not report ready within 1ns"), "{line}");
        // Killed by the launcher, which need not have waited for the death.
        let strays = left_running(&scratch.marker(), Duration::from_secs(5));
        assert!(
            strays.is_empty(),
            "running after the launcher gave up: {strays:?}\n{line}"
        );
        assert!(!is_locked(&pid_file(&scratch)), "{line}");
    }
}

// Item 16: a signal in the start-up window.

/// Watches the scratch directory, to see the PID file written without polling it.
fn watch(scratch: &Scratch) -> Inotify {
    let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).unwrap();
    inotify
        .add_watch(
            scratch.path(),
            AddWatchFlags::IN_MODIFY | AddWatchFlags::IN_CREATE | AddWatchFlags::IN_CLOSE_WRITE,
        )
        .unwrap();
    inotify
}

/// Sends `signal` to the daemon the moment the PID file names it; returns its pid, or
/// `None` if the launcher exited first.
fn signal_when_named(
    inotify: &Inotify,
    path: &Path,
    launcher: &Child,
    signal: Signal,
) -> Option<u32> {
    let deadline = Instant::now() + DEADLINE;
    let exit = Pidfd::open(launcher.id()).expect("a pidfd on the launcher");
    loop {
        // Looked at before the file: a launcher that exits right after the look has
        // left the file naming its daemon. Through the pidfd, not `try_wait`, which
        // would reap the launcher and free its pid before `wait_output` looks at it.
        let exited = exit.exited();
        if let Some(pid) = read_pid_file(path) {
            // Pinned before the signal: the pid cannot be someone else's by then.
            let daemon = Pidfd::open(pid).ok()?;
            let _ = daemon.signal(signal);
            return Some(pid);
        }
        if exited {
            return None;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "the PID file never named a daemon");
        // Woken by a change in the directory, or by the launcher's exit.
        let mut fds = [
            PollFd::new(inotify.as_fd(), PollFlags::POLLIN),
            PollFd::new(exit.as_fd(), PollFlags::POLLIN),
        ];
        let _ = poll(
            &mut fds,
            PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX),
        );
        while inotify.read_events().is_ok_and(|e| !e.is_empty()) {}
    }
}

fn launch_detached(scratch: &Scratch) -> Child {
    probe(scratch)
        .arg("--daemon")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn item16_sighup_as_soon_as_the_pid_file_names_the_daemon_never_kills_it() {
    let scratch = Scratch::new("i16-hup");
    let path = pid_file(&scratch);
    let inotify = watch(&scratch);
    for round in 0..200 {
        let launcher = launch_detached(&scratch);
        let pid = signal_when_named(&inotify, &path, &launcher, Signal::SIGHUP)
            .unwrap_or_else(|| panic!("round {round}: the launcher exited first"));
        let daemon = Killer::new(pid);
        let out = wait_output(launcher, DEADLINE);
        expect_code(&out, 0);
        assert!(
            daemon_tests::is_alive(pid),
            "round {round}: SIGHUP in the start-up window killed the daemon"
        );
        assert_eq!(read_pid_file(&path), Some(pid), "round {round}");
        drop(daemon);
        // Its zombie may wait for init a while: the next round must not take the pid
        // left in the file for the new daemon's.
        std::fs::remove_file(&path).unwrap();
    }
}

#[test]
fn item16_sigterm_as_soon_as_the_pid_file_names_the_daemon_leaves_no_stale_file() {
    let scratch = Scratch::new("i16-term");
    let path = pid_file(&scratch);
    let inotify = watch(&scratch);
    for round in 0..200 {
        let launcher = launch_detached(&scratch);
        let pid = signal_when_named(&inotify, &path, &launcher, Signal::SIGTERM)
            .unwrap_or_else(|| panic!("round {round}: the launcher exited first"));
        let _daemon = Killer::new(pid);
        let out = wait_output(launcher, DEADLINE);
        // Ready before the signal was handled (0), or ended by it first (70).
        assert!(
            matches!(out.status.code(), Some(0 | 70)),
            "round {round}: {out:?}"
        );
        assert!(
            wait_exit(pid, DEADLINE),
            "round {round}: SIGTERM did not end the daemon"
        );
        let left = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(left, "", "round {round}: a stale PID file was left behind");
        assert!(!is_locked(&path), "round {round}");
    }
}

// Item 17: --stop racing concurrent starts.

#[test]
fn item17_stop_succeeds_when_a_new_daemon_takes_the_file_as_the_old_one_exits() {
    let scratch = Scratch::new("i17-stop-race");
    let path = pid_file(&scratch);
    for trial in 0..40 {
        let old = start(&scratch, probe(&scratch).arg("--daemon"));
        let stop = probe(&scratch)
            .arg("--stop")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Each launcher waits a few milliseconds for a held lock: the one running when
        // the old daemon lets go takes the file while --stop still looks at it. Bounded:
        // a --stop that never stops the old daemon must fail the test, not hang it.
        let until = Instant::now() + DEADLINE;
        let started = loop {
            let out = run(probe(&scratch).arg("--daemon"));
            match out.status.code() {
                Some(0) => break out,
                Some(75) => assert!(
                    Instant::now() < until,
                    "trial {trial}: still refused {DEADLINE:?} after --stop began: {out:?}"
                ),
                _ => panic!("trial {trial}: {out:?}"),
            }
        };
        let new = read_pid_file(&path).unwrap_or_else(|| {
            let named: Vec<u32> = processes_mentioning(&scratch.marker());
            panic!(
                "trial {trial}: the new daemon ({named:?} running) has no PID file at {} \
                 (exists: {}); launcher: {started:?}",
                path.display(),
                path.exists()
            )
        });
        let _new = Killer::new(new);
        let out = wait_output(stop, DEADLINE);
        expect_code(&out, 0);
        assert_eq!(
            text(&out.stdout).trim_end(),
            format!("probe stopped (pid {})", old.pid),
            "trial {trial}"
        );
        assert_ne!(new, old.pid);
        assert!(
            daemon_tests::is_alive(new),
            "trial {trial}: --stop hit the new daemon"
        );
    }
}

// Item 18: a refused start quoting a stale pid.

#[test]
fn item18_a_refused_start_never_quotes_a_pid_that_does_not_hold_the_lock() {
    let scratch = Scratch::new("i18-quote");
    let path = pid_file(&scratch);
    let stranger = daemon_tests::Stranger::start();
    let quoted = format!("(pid {})", stranger.pid());
    for round in 0..40 {
        std::fs::write(&path, format!("{}\n", stranger.pid())).unwrap();
        let outs = race(probe(&scratch).arg("--daemon"), 12, DEADLINE);
        let winner = read_pid_file(&path).expect("a daemon won");
        let _winner = Killer::new(winner);
        let won = outs.iter().filter(|o| o.status.code() == Some(0)).count();
        assert_eq!(won, 1, "round {round}: {outs:?}");
        for out in outs.iter().filter(|o| o.status.code() != Some(0)) {
            expect_code(out, 75);
            let line = one_line(out);
            assert!(
                !line.contains(&quoted),
                "round {round}: quotes the stranger: {line}"
            );
            assert!(
                line.contains(&format!("(pid {winner})")) || line.contains("running or starting"),
                "round {round}: {line}"
            );
        }
        assert!(daemon_tests::is_alive(stranger.pid()));
    }
}

// Item 19: a trailing slash on the PID file's path.

#[test]
fn item19_a_pid_file_path_with_a_trailing_slash_is_refused_by_every_action() {
    let scratch = Scratch::new("i19-slash");
    let dir = format!("{}/", scratch.marker());
    let expected =
        format!("probe: invalid pid_file `{dir}` (from --pid-file): the path does not name a file");
    for (action, code) in [
        ("--daemon", 78),
        ("--status", 4),
        ("--stop", 78),
        ("--reload", 78),
    ] {
        let out = run(Command::new(env!("CARGO_BIN_EXE_probe")).args([
            action,
            "--log-target",
            "none",
            "--pid-file",
            &dir,
        ]));
        expect_code(&out, code);
        assert_eq!(one_line(&out), expected, "{action}");
    }
    assert!(processes_mentioning(&scratch.marker()).is_empty());
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
}
