//! Issue 12, stumble 7: `--restart` starts the daemon again with the restart's own
//! command line (a PID file cannot carry the arguments a daemon was started with), so it
//! is refused when that command line differs from the running daemon's, and goes
//! ahead when it is the same (the action flags aside).
//!
//! ```text
//! stumble_restart --daemon --pid-file /tmp/s.pid
//! stumble_restart --restart --pid-file /tmp/s.pid              # same settings: restarts
//! stumble_restart --restart --pid-file /tmp/s.pid --umask 077  # refused
//! ```

use daemon_runtime::daemonize;

#[daemonize]
fn main() {
    daemon_runtime::shutdown().wait();
}
