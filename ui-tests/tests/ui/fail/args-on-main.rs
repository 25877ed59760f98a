use daemon_runtime::daemonize;

#[daemonize(args = daemon)]
fn main() {}
