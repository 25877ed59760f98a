use daemon_runtime::daemonize;

#[daemonize(umask = "027")]
fn main() {}
