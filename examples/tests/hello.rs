//! `#[daemonize] fn main()`: the `hello` example, detached and in the foreground.

mod common;

use common::Example;
use daemon_tests::{expect_code, is_locked, read_pid_file, text};

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

    // The body runs in the daemon, its output in the log that the config file names.
    hello.wait_for_log(&format!("hello started (pid {})", daemon.pid()));
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
