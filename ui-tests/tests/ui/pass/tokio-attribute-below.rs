// `#[daemonize]` above `#[tokio::main]`: the runtime attribute moves into the daemon.
use std::time::Duration;

use daemon_runtime::daemonize;

#[daemonize(umask = 0o027)]
#[tokio::main]
async fn main() {
    tokio::time::sleep(Duration::from_millis(1)).await;
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_millis(1)) => {}
        _ = daemon_runtime::shutdown().wait_async() => {}
    }
}
