use daemon_runtime::{DaemonArgs, daemonize};

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    daemon: DaemonArgs,
}

#[daemonize]
fn serve(args: ServeArgs) -> u8 {
    let _ = args;
    0
}

fn main() {
    let _ = serve;
}
