use daemon_runtime::daemonize;

#[daemonize(usr = "nobody")]
fn main() {}
