// The README's own-parser form with only the dependencies it lists: `daemon-runtime`,
// whose re-exports bring clap and serde, and tokio for `async fn main`. The `use` below
// shadows the clap this test project also has, so clap's derive (which writes
// `clap::...`) goes through `daemon_runtime::clap`; nothing here has serde but the
// runtime's.
use std::path::PathBuf;

use daemon_runtime::{clap, daemonize, serde};

#[derive(clap::Parser)]
#[command(version, about = "Serves")]
struct Cli {
    /// Where to write
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, default_value = "hi")]
    greeting: String,
}

/// The config file's `[hello]` table.
#[derive(serde::Deserialize)]
#[serde(crate = "daemon_runtime::serde")]
struct Hello {
    greeting: String,
}

#[daemonize(pid_file = false)]
#[tokio::main(flavor = "current_thread")]
async fn main(cli: Cli) -> Result<(), daemon_runtime::Error> {
    // No config file: `None`; a file without `[hello]`: `Ok(None)`.
    let hello: Option<Hello> = match daemon_runtime::config() {
        Some(config) => config.section("hello")?,
        None => None,
    };
    let greeting = hello.map_or(cli.greeting, |h| h.greeting);
    let _ = (cli.out, greeting);
    let shutdown = daemon_runtime::shutdown();
    tokio::select! {
        _ = shutdown.wait_async() => {}
        _ = tokio::task::yield_now() => {}
    }
    Ok(())
}
