// `privileged = f`: `f` runs as the original user; the last parameter gets its value.
use std::net::TcpListener;

use daemon_runtime::{DaemonArgs, daemonize};

fn bind() -> std::io::Result<TcpListener> {
    TcpListener::bind("127.0.0.1:0")
}

#[derive(clap::Parser)]
struct Cli {
    #[arg(long)]
    verbose: bool,
}

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    daemon: DaemonArgs,
}

// In a handler, the value comes after the arguments.
#[daemonize(privileged = bind)]
fn serve(_args: ServeArgs, listener: TcpListener) {
    drop(listener);
}

// A closure works too, and the parameter may be a pattern.
#[daemonize(privileged = || Ok::<_, std::io::Error>((1, 2)))]
fn pair(_args: ServeArgs, (one, two): (u8, u8)) {
    assert_eq!((one, two), (1, 2));
}

// With the program's parser, the value comes after `Cli`.
#[daemonize(privileged = bind, ready = "manual")]
fn main(cli: Cli, listener: TcpListener) -> std::io::Result<()> {
    assert!(!cli.verbose);
    listener.local_addr()?;
    daemon_runtime::ready();
    let _ = (serve, pair);
    Ok(())
}
