// `args = field` names a field the type does not have: the error is at that name.
use daemon_runtime::{DaemonArgs, daemonize};

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    daemon: DaemonArgs,
}

#[daemonize(args = flags)]
fn serve(args: ServeArgs) {
    let _ = args;
}

fn main() {
    let _ = serve;
}
