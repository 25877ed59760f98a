// `log_level` is checked directive by directive, and the error lists the levels.
use daemon_runtime::daemonize;

#[daemonize(log_level = "info,hyper=verbose")]
fn main() {}
