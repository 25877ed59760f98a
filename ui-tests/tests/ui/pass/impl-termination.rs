// `-> impl Termination`, by either path: the body's value is reported as `main` would,
// and its exit code is what the function returns.
use std::process::Termination;

use daemon_runtime::{DaemonArgs, daemonize};

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    daemon: DaemonArgs,
}

#[daemonize(pid_file = "/run/serve.pid")]
fn serve(args: ServeArgs) -> impl Termination {
    let _ = args;
}

#[daemonize]
fn main() -> impl std::process::Termination {
    let _ = serve;
    Ok::<(), std::io::Error>(())
}
