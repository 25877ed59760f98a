// Seconds literals are at most a day.
use daemon_runtime::daemonize;

#[daemonize(stop_timeout = 86401, start_timeout = 90000.5)]
fn main() {}
