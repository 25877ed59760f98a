use daemon_runtime::daemonize;

#[daemonize(user = "nobody", umask = 0o027, user = "daemon")]
fn main() {}
