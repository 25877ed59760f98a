use daemon_runtime::daemonize;

#[daemonize(daemon, umask = 0o027)]
fn main() {}
