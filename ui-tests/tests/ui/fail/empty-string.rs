use daemon_runtime::daemonize;

#[daemonize(user = "")]
fn main() {}
