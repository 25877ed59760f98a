use daemon_runtime::{DaemonArgs, daemonize};

fn bind() -> std::io::Result<std::net::TcpListener> {
    std::net::TcpListener::bind("127.0.0.1:0")
}

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    daemon: DaemonArgs,
}

#[daemonize(privileged = bind)]
fn serve(args: ServeArgs) {
    let _ = args;
}

#[daemonize(privileged = bind)]
fn main() {
    let _ = serve;
}
