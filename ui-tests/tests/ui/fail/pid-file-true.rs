// `pid_file = false` turns the PID file off; `true` is not a path.
use daemon_runtime::daemonize;

#[daemonize(pid_file = true)]
fn main() {}
