//! Issue 12, stumble 2: no `pid_file` anywhere, yet `--daemon` then `--stop` works. The
//! default PID file is `/run/<name>.pid` as root and `$XDG_RUNTIME_DIR/<name>.pid`
//! otherwise (when that directory is the user's own and no one else may write it);
//! without either there is none, and `--stop` says so. The debug log says which.
//!
//! The binary's name is its own so that, as root, no other test uses
//! `/run/stumble_default_pid.pid`.

use daemon_runtime::daemonize;

#[daemonize]
fn main() {
    daemon_runtime::shutdown().wait();
}
