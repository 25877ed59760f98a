//! `#[daemonize] fn main(cli: Cli)`: the program's parser plus the daemon flags.

mod common;

use common::Example;
use daemon_tests::{expect_code, read_pid_file, text};

fn own_parser(label: &str) -> Example {
    Example::new(label, env!("CARGO_BIN_EXE_own_parser"), "")
}

#[test]
fn detaches_with_its_own_arguments() {
    let example = own_parser("own-parser-detached");
    let daemon = example.start_detached(&mut example.command(&[
        "--greeting",
        "bonjour",
        "--interval-ms",
        "50",
        "--daemon",
    ]));
    // The body got the parsed `Cli`.
    example.wait_for_log("bonjour #1");
    example.stop(&daemon);
}

#[test]
fn runs_in_the_foreground_with_its_own_arguments() {
    let example = own_parser("own-parser-foreground");
    let mut running = example.foreground(
        &mut example.command(&["--greeting", "hi", "--interval-ms", "20"]),
        "own_parser started",
    );
    assert_eq!(read_pid_file(&example.pid_file), Some(running.pid()));
    running.wait_for("hi #1");
    assert!(running.terminate().success());
    assert!(!example.pid_file.exists());
}

#[test]
fn help_shows_both_sets_of_flags() {
    let example = own_parser("own-parser-help");
    let help = example.launch(&mut example.raw(&["--help"])).1;
    expect_code(&help, 0);
    let help = text(&help.stdout);
    for expected in [
        "Prints a greeting on every tick until stopped",
        "Usage: own_parser",
        "--greeting",
        "--daemon",
        "--stop",
    ] {
        assert!(help.contains(expected), "{expected:?} not in {help}");
    }
    let bad = example
        .launch(&mut example.raw(&["--interval-ms", "soon"]))
        .1;
    expect_code(&bad, 2);
}
