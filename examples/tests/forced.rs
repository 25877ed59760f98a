//! `#[daemonize(daemon = true)]`: detaches without `--daemon`.

mod common;

use common::Example;

#[test]
fn detaches_without_the_flag() {
    let example = Example::new("forced", env!("CARGO_BIN_EXE_forced"), "");
    let daemon = example.start_detached(&mut example.command(&[]));
    example.wait_for_log(&format!("forced started (pid {})", daemon.pid()));
    example.stop(&daemon);
}

#[test]
fn restart_keeps_it_detached() {
    let example = Example::new("forced-restart", env!("CARGO_BIN_EXE_forced"), "");
    let first = example.start_detached(&mut example.command(&[]));
    let second = example.start_detached(&mut example.command(&["--restart"]));
    assert_ne!(first.pid(), second.pid());
    assert!(daemon_tests::wait_exit(first.pid(), daemon_tests::DEADLINE));
    example.stop(&second);
}
