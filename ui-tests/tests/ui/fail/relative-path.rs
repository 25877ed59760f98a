use daemon_runtime::daemonize;

#[daemonize(pid_file = "hello.pid")]
fn main() {}
