// Subcommand handlers: only the annotated ones take `--daemon`.
use clap::{Args, Parser, Subcommand};
use daemon_runtime::{DaemonArgs, daemonize};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    Serve(ServeArgs),
    Work(WorkArgs),
    Status,
}

#[derive(Args)]
struct ServeArgs {
    #[arg(long)]
    port: Option<u16>,
    #[command(flatten)]
    daemon: DaemonArgs,
}

#[derive(Args)]
struct WorkArgs {
    #[command(flatten)]
    flags: DaemonArgs,
}

#[daemonize(umask = 0o027)]
fn serve(args: ServeArgs) -> Result<(), String> {
    let _ = args.port;
    Ok(())
}

/// The flags may live in a field of another name, and the handler may borrow.
#[daemonize(args = flags)]
pub(crate) fn work(_args: &WorkArgs) {}

fn main() {
    match Cli::parse().command {
        Some(Command::Serve(mut args)) => {
            // Setting the flag in code before the runtime call: always detach.
            args.daemon.daemon = true;
            serve(args).unwrap();
        }
        Some(Command::Work(args)) => work(&args),
        Some(Command::Status) | None => {}
    }
}
