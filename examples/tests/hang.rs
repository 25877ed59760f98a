//! The watchdog example: it feeds the watchdog once a round, and after `--hang-after N`
//! rounds logs an error and feeds it no more, until stopped. (Under systemd, which then
//! kills and restarts it: `tests/managers/systemd.rs`.)

mod common;

use common::Example;
use daemon_tests::managers::NotifySocket;
use daemon_tests::{DEADLINE, Pidfd};

#[test]
fn stops_feeding_the_watchdog_after_the_rounds_given() {
    let example = Example::new("hang", env!("CARGO_BIN_EXE_hang"), "");
    let notify = NotifySocket::bind(&example.scratch.join("notify.sock")).expect("bind");
    let mut cmd = example.command(&["--hang-after", "3"]);
    // A 200 ms watchdog: a round every 100 ms.
    cmd.env("NOTIFY_SOCKET", notify.path())
        .env("WATCHDOG_USEC", "200000");
    let running = example.foreground(&mut cmd, "ERROR hang: stuck after 3 rounds");
    let process = Pidfd::open(running.pid()).expect("pidfd");
    assert_eq!(
        running
            .seen
            .iter()
            .filter(|line| line.starts_with("INFO hang: round "))
            .count(),
        2,
        "{:?}",
        running.seen
    );
    assert!(running.terminate().success());
    let stopping = notify.wait_for("STOPPING", &process, DEADLINE);
    assert_eq!(stopping.as_deref(), Ok("1"));
    // `watchdog = "manual"`: no keep-alive thread, so the feeds are the two rounds'.
    let fields = notify.fields();
    let feeds = fields.iter().filter(|f| *f == "WATCHDOG=1").count();
    assert_eq!(feeds, 2, "{fields:?}");
}
