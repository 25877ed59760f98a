// Descriptors 0 to 2 are stdio, not a readiness descriptor.
use daemon_runtime::daemonize;

#[daemonize(notify_fd = 1)]
fn main() {}
