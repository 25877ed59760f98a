use daemon_runtime::daemonize;

#[daemonize(ready = "later")]
fn main() {}
