//! `#[daemonize] fn main()`: the `hello` example, detached and in the foreground.

mod common;

use common::{Example, file_record};
use daemon_tests::managers::NotifySocket;
use daemon_tests::{DEADLINE, Pidfd, expect_code, is_locked, read_pid_file, send_signal, text};
use nix::sys::signal::Signal;
use nix::time::{ClockId, clock_gettime};

fn hello(label: &str) -> Example {
    Example::new(label, env!("CARGO_BIN_EXE_hello"), "")
}

#[test]
fn detaches_reports_status_refuses_a_second_start_and_stops() {
    let hello = hello("hello-detached");
    let daemon = hello.start_detached(&mut hello.command(&["--daemon"]));
    assert!(is_locked(&hello.pid_file));

    let again = hello.run(&["--daemon"]);
    expect_code(&again, 75);
    assert!(
        text(&again.stderr).contains(&format!("already running (pid {})", daemon.pid())),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(read_pid_file(&hello.pid_file), Some(daemon.pid()));

    // The body runs in the daemon; with an `stderr` file set, the logger's `file`
    // target writes its records there, timestamped.
    let started = format!("hello started (pid {})", daemon.pid());
    let log = hello.wait_for_log(&started);
    file_record(&log, "INFO", "hello", &started);
    hello.stop(&daemon);
    let status = hello.run(&["--status"]);
    expect_code(&status, 3);
    // It took the shutdown handle: SIGTERM let it finish its loop.
    assert!(
        hello.log().contains("hello stopping after"),
        "{}",
        hello.log()
    );
}

#[test]
fn runs_in_the_foreground_until_sigterm() {
    let hello = hello("hello-foreground");
    let running = hello.foreground(&mut hello.command(&[]), "hello started");
    // In the foreground the logger writes plain records to standard error.
    assert_eq!(
        running.seen.last(),
        Some(&format!(
            "INFO hello: hello started (pid {})",
            running.pid()
        ))
    );
    assert_eq!(read_pid_file(&hello.pid_file), Some(running.pid()));
    let status = running.terminate();
    assert!(status.success(), "{status:?}");
    assert!(!hello.pid_file.exists());
}

#[test]
fn help_and_version_name_the_binary() {
    let hello = hello("hello-help");
    let help = hello.launch(&mut hello.raw(&["--help"])).1;
    expect_code(&help, 0);
    let help = text(&help.stdout);
    assert!(help.contains("Usage: hello"), "{help}");
    assert!(help.contains("--daemon"), "{help}");
    let version = hello.launch(&mut hello.raw(&["--version"])).1;
    assert_eq!(
        text(&version.stdout).trim(),
        format!("hello {}", env!("CARGO_PKG_VERSION"))
    );
}

/// What a systemd `Type=notify` service hears from hello, captured on a socket of the
/// test's own: readiness with its pid, the watchdog fed, the status line, a reload
/// (`RELOADING=1` stamped with the monotonic clock, as `Type=notify-reload` requires,
/// then `READY=1`) and `STOPPING=1`.
#[test]
fn speaks_sd_notify_in_the_foreground() {
    let hello = hello("hello-notify");
    let notify = NotifySocket::bind(&hello.scratch.join("notify.sock")).expect("bind");
    let mut cmd = hello.command(&[]);
    // A 400 ms watchdog: hello ticks every 200 ms to feed it.
    cmd.env("NOTIFY_SOCKET", notify.path())
        .env("WATCHDOG_USEC", "400000");
    let mut running = hello.foreground(&mut cmd, "hello started");
    let pid = running.pid();
    let process = Pidfd::open(pid).expect("pidfd");
    let next = |key| {
        notify
            .wait_for(key, &process, DEADLINE)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(next("READY"), "1");
    assert_eq!(next("MAINPID"), pid.to_string());
    assert_eq!(next("WATCHDOG"), "1");
    assert_eq!(next("STATUS"), "serving, tick 1");

    let before = monotonic_usec();
    send_signal(pid, Signal::SIGHUP as i32);
    assert_eq!(next("RELOADING"), "1");
    let stamp: u64 = next("MONOTONIC_USEC").parse().expect("a number");
    assert!(
        (before..=monotonic_usec()).contains(&stamp),
        "MONOTONIC_USEC={stamp} is not the time of the reload (after {before})"
    );
    assert_eq!(next("READY"), "1", "no READY=1 after the reload");
    running.wait_for("reloaded: log file reopened");

    assert!(running.terminate().success());
    assert_eq!(next("STOPPING"), "1");
}

/// `CLOCK_MONOTONIC` in microseconds, the clock of `MONOTONIC_USEC=`.
fn monotonic_usec() -> u64 {
    let now = clock_gettime(ClockId::CLOCK_MONOTONIC).expect("clock_gettime");
    let micros = now.tv_sec() * 1_000_000 + now.tv_nsec() / 1_000;
    u64::try_from(micros).expect("a monotonic clock after boot")
}
