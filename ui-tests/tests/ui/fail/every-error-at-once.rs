// Independent errors are all reported in one build.
use daemon_runtime::daemonize;

#[daemonize(usr = "nobody", umask = 0o1000, pid_file = "run/x.pid", daemon = "yes")]
fn main() {}
