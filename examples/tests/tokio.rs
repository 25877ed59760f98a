//! `#[daemonize]` with `#[tokio::main]`, in both orders: the fork comes before the
//! runtime (a multi-threaded process cannot fork, so a launcher that exits 0 proves
//! it), and the daemon's runtime works: readiness is reported from a timer tick.

mod common;

use common::Example;
use daemon_tests::read_pid_file;

fn runtime_threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("read the daemon's threads")
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.starts_with("tokio-rt"))
        })
        .count()
}

fn detached(label: &str, exe: &'static str, name: &str) {
    let example = Example::new(label, exe, "");
    let daemon = example.start_detached(&mut example.command(&["--daemon"]));
    // Manual readiness came after the first timer tick, so the tick is in the log.
    assert!(
        example.log().contains(&format!("{name}: tick 1")),
        "{}",
        example.log()
    );
    assert!(
        runtime_threads(daemon.pid()) >= 1,
        "no tokio worker thread in the daemon"
    );
    example.stop(&daemon);
    // The shutdown future woke the `select!`.
    assert!(
        example.log().contains(&format!("{name}: stopping after")),
        "{}",
        example.log()
    );
}

fn foreground(label: &str, exe: &'static str, name: &str) {
    let example = Example::new(label, exe, "");
    let mut running = example.foreground(&mut example.command(&[]), &format!("{name}: tick 1"));
    assert_eq!(read_pid_file(&example.pid_file), Some(running.pid()));
    assert!(runtime_threads(running.pid()) >= 1);
    let status = {
        running.wait_for(&format!("{name}: tick 2"));
        running.terminate()
    };
    assert!(status.success(), "{status:?}");
    assert!(!example.pid_file.exists());
}

#[test]
fn daemonize_above_tokio_main_detaches() {
    detached(
        "tokio-outer-detached",
        env!("CARGO_BIN_EXE_tokio_outer"),
        "tokio_outer",
    );
}

#[test]
fn daemonize_below_tokio_main_detaches() {
    detached(
        "tokio-inner-detached",
        env!("CARGO_BIN_EXE_tokio_inner"),
        "tokio_inner",
    );
}

#[test]
fn daemonize_above_tokio_main_in_the_foreground() {
    foreground(
        "tokio-outer-foreground",
        env!("CARGO_BIN_EXE_tokio_outer"),
        "tokio_outer",
    );
}

#[test]
fn daemonize_below_tokio_main_in_the_foreground() {
    foreground(
        "tokio-inner-foreground",
        env!("CARGO_BIN_EXE_tokio_inner"),
        "tokio_inner",
    );
}
