//! `#[daemonize]` on one subcommand handler: `serve` detaches, `status` never does.

mod common;

use common::Example;
use daemon_tests::{expect_code, read_pid_file, text};

fn app(label: &str) -> Example {
    let mut app = Example::new(label, env!("CARGO_BIN_EXE_app"), "");
    app.control = &["serve"];
    app
}

#[test]
fn serve_detaches_and_status_reports_without_detaching() {
    let app = app("app-serve");
    let daemon =
        app.start_detached(&mut app.command(&["serve", "--interval-ms", "50", "--daemon"]));

    // `status` is an ordinary subcommand: it answers from this very process.
    let pid_file = app.pid_file.display().to_string();
    let (_, status) = app.launch(&mut app.raw(&["status", "--pid-file", &pid_file]));
    expect_code(&status, 0);
    assert!(
        text(&status.stdout).contains(&format!("app is running (pid {})", daemon.pid())),
        "{}",
        text(&status.stdout)
    );

    app.wait_for_log("serving #1");
    app.stop(&daemon);
    let (_, status) = app.launch(&mut app.raw(&["status", "--pid-file", &pid_file]));
    expect_code(&status, 3);
}

#[test]
fn start_sets_the_flag_in_code() {
    let app = app("app-start");
    let daemon = app.start_detached(&mut app.command(&["start"]));
    app.stop(&daemon);
}

#[test]
fn serve_runs_in_the_foreground_without_the_flag() {
    let app = app("app-foreground");
    let running = app.foreground(&mut app.command(&["serve"]), "app serve started");
    assert_eq!(read_pid_file(&app.pid_file), Some(running.pid()));
    assert!(running.terminate().success());
    assert!(!app.pid_file.exists());
}

#[test]
fn only_serve_takes_the_daemon_flags() {
    let app = app("app-flags");
    let help = app.launch(&mut app.raw(&["serve", "--help"])).1;
    expect_code(&help, 0);
    let help = text(&help.stdout);
    assert!(help.contains("--daemon"), "{help}");
    assert!(help.contains("--interval-ms"), "{help}");

    let status_help = app.launch(&mut app.raw(&["status", "--help"])).1;
    expect_code(&status_help, 0);
    assert!(!text(&status_help.stdout).contains("--daemon"));

    let rejected = app.launch(&mut app.raw(&["status", "--daemon"])).1;
    expect_code(&rejected, 2);
    assert!(
        text(&rejected.stderr).contains("unexpected argument '--daemon'"),
        "{}",
        text(&rejected.stderr)
    );
    assert!(!app.pid_file.exists());

    let top = app.launch(&mut app.raw(&["--daemon"])).1;
    expect_code(&top, 2);
}
