// `#[tokio::main]` above `#[daemonize]`: tokio's expansion is a plain `fn main` whose
// body builds the runtime, and that body runs after the fork.
use std::time::Duration;

use daemon_runtime::daemonize;

#[tokio::main]
#[daemonize(umask = 0o027)]
async fn main() -> Result<(), std::io::Error> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    Ok(())
}
