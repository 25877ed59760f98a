//! `#[daemonize]` on one subcommand's handler: `app serve` runs as a daemon (with
//! `--daemon`, `--stop`, `--status` ...), `app status` is an ordinary command that never
//! detaches and does not take the daemon flags. Wiring `serve` costs one field:
//! `#[command(flatten)] daemon: DaemonArgs`.
//!
//! ```text
//! app serve --daemon      # detaches
//! app start               # the same: it sets the flag in code before the call
//! app status              # ordinary subcommand: reads the PID file, reports
//! app serve --stop
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use daemon_examples::{state_path, tick_until_shutdown};
use daemon_runtime::{Daemon, DaemonArgs, daemonize};

/// A program with subcommands, one of which is a daemon
#[derive(Parser)]
#[command(name = "app", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve (in the background with --daemon)
    Serve(ServeArgs),
    /// Serve in the background: `serve --daemon`
    Start(ServeArgs),
    /// Report whether the server runs
    Status(StatusArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Milliseconds between ticks
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,

    #[command(flatten)]
    daemon: DaemonArgs,
}

#[derive(Args)]
struct StatusArgs {
    /// The server's PID file (default: the one `serve` uses)
    #[arg(long, value_name = "FILE")]
    pid_file: Option<PathBuf>,
}

#[daemonize(
    pid_file = state_path("app.pid"),
    stdout = state_path("app.log"),
    stderr = state_path("app.log"),
)]
fn serve(args: ServeArgs) {
    let shutdown = daemon_runtime::shutdown();
    log::info!("app serve started (pid {})", std::process::id());
    tick_until_shutdown(&shutdown, Duration::from_millis(args.interval_ms), |n| {
        log::info!("serving #{n}");
    });
}

/// Not annotated: runs in the foreground, and uses the builder only to read the status.
fn status(args: StatusArgs) -> ExitCode {
    let pid_file = args.pid_file.unwrap_or_else(|| state_path("app.pid"));
    let builder = Daemon::builder().name("app").pid_file(&pid_file);
    match builder.status() {
        Ok(status) => {
            println!("{}", status.describe("app", &pid_file));
            ExitCode::from(status.exit_code() as u8)
        }
        Err(e) => {
            eprintln!("app: {e}");
            ExitCode::from(4)
        }
    }
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve(args) => serve(args),
        Command::Start(mut args) => {
            // The seeds' `app.pargs.daemon = True`: set the flag in code, then call.
            args.daemon.daemon = true;
            serve(args);
        }
        Command::Status(args) => return status(args),
    }
    ExitCode::SUCCESS
}
