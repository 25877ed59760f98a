//! Issue 12, stumble 7: a bare `--restart` (no settings of its own, so the default PID
//! file) that finds nothing there while this same program runs under another PID file
//! is refused: it would start a second daemon beside the first. A binary of its own, so
//! that no other test's daemon is "the same program".

use daemon_runtime::daemonize;

#[daemonize]
fn main() {
    daemon_runtime::shutdown().wait();
}
