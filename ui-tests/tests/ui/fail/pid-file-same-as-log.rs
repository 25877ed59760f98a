use daemon_runtime::daemonize;

#[daemonize(pid_file = "/run/hello.pid", stdout = "/run/hello.pid")]
fn main() {}
