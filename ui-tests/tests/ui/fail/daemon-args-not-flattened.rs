// A `DaemonArgs` field without `#[command(flatten)]`: one error at the field that says
// to add it, instead of clap's list of unmet bounds.
use daemon_runtime::{DaemonArgs, daemonize};

#[derive(clap::Args)]
struct ServeArgs {
    #[arg(long)]
    port: u16,
    daemon: DaemonArgs,
}

#[daemonize]
fn serve(args: ServeArgs) {
    let _ = args.port;
}

fn main() {
    let _ = serve;
}
