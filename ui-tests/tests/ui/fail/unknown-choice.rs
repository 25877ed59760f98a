// A choice literal that is not one of the choices lists them.
use daemon_runtime::daemonize;

#[daemonize(log_target = "journald", watchdog = "on")]
fn main() {}
