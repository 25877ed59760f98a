use daemon_runtime::daemonize;

#[daemonize(start_timeout = 0)]
fn main() {}
