//! `tracing` through the runtime's logger: with tracing's `log` feature and no
//! subscriber, the events of a detached tokio program land in its log file as the
//! runtime's `file` target writes them, level and fields included.

mod common;

use common::{Example, file_record};

#[test]
fn tracing_events_land_in_the_log_file() {
    let example = Example::new("traced", env!("CARGO_BIN_EXE_traced"), "");
    let daemon = example.start_detached(&mut example.command(&["--daemon"]));
    // Manual readiness came after the first event.
    file_record(&example.log(), "INFO", "traced", "tick ticks=1");
    example.stop(&daemon);
    let log = example.log();
    let line = file_record(&log, "WARN", "traced", "stopping ticks=");
    assert!(
        line.rsplit('=')
            .next()
            .is_some_and(|n| n.parse::<u64>().is_ok()),
        "{line}"
    );
}
