// A handler's argument type must carry the daemon flags: the error is rustc's, at the type.
use daemon_runtime::daemonize;

#[derive(clap::Args)]
struct ServeArgs {
    #[arg(long)]
    port: u16,
}

#[daemonize]
fn serve(args: ServeArgs) {
    let _ = args.port;
}

fn main() {
    let _ = serve;
}
