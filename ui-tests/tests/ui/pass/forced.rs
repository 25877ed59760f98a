// `daemon = true`: detaches without `--daemon` (running this case detaches, and the
// daemon ends at once).
use daemon_runtime::daemonize;

#[daemonize(daemon = true)]
fn main() {}
