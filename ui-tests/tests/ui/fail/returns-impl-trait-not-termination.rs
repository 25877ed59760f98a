// `-> impl Trait` works for `impl Termination`; any other trait is the return-type
// error, at the return type.
use daemon_runtime::{DaemonArgs, daemonize};

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    daemon: DaemonArgs,
}

#[daemonize]
fn serve(args: ServeArgs) -> impl std::fmt::Debug {
    let _ = args;
    1
}

fn main() {
    let _ = serve;
}
