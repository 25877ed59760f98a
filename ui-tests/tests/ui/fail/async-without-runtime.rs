use daemon_runtime::daemonize;

#[daemonize]
async fn main() {}
