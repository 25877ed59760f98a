use daemon_runtime::daemonize;

#[daemonize(crate = ::daemon_runtim)]
fn main() {}
