// The generated code is lint-clean: every form, under `deny(warnings)` and the
// workspace's extra lints.
#![deny(warnings, rust_2018_idioms, unused_qualifications, unreachable_pub)]

use daemon_runtime::{DaemonArgs, daemonize};

#[derive(clap::Parser)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    daemon: DaemonArgs,
}

fn bind() -> std::io::Result<std::net::TcpListener> {
    std::net::TcpListener::bind("127.0.0.1:0")
}

#[daemonize(pid_file = "/run/serve.pid", umask = 0o027, stop_timeout = 1.5)]
fn serve(_args: ServeArgs) -> Result<(), std::io::Error> {
    Ok(())
}

#[daemonize(privileged = bind, ready = "manual", daemon = false)]
fn listen(_args: ServeArgs, _listener: std::net::TcpListener) {
    daemon_runtime::ready();
}

#[daemonize(umask = 0o027)]
#[tokio::main(flavor = "current_thread")]
async fn main(cli: Cli) {
    tokio::task::yield_now().await;
    if let Some(Command::Serve(args)) = cli.command {
        if args.daemon.daemon {
            listen(args);
        } else {
            serve(args).unwrap();
        }
    }
}
