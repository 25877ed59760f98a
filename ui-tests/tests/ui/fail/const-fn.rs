use daemon_runtime::daemonize;

#[daemonize]
const fn main() {}
