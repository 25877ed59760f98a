use daemon_runtime::daemonize;

#[daemonize(umask = 0o1000)]
fn main() {}
