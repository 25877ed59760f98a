//! Issue 12, stumbles 1 and 3 for a subcommand handler. The program's own
//! `Cli::parse()` runs before the handler, and clap's derive insists on a value for a
//! required field that is not an `Option`; so `--out`, needed to start, is an
//! `Option` required unless one of `DaemonArgs::CONTROL_IDS` (`--stop`, `--status`,
//! `--reload`, `--print-service`) is given. `serve --stop` then needs no `--out`.
//!
//! Its `--help` is built by `Cli::parse()` too, before the attribute's values are
//! known: `serve --help` lists the daemon flags with the runtime's built-in defaults
//! (`--umask` shows 0o027 here, though the attribute sets 0o077 for the start).
//!
//! ```text
//! stumble_handler serve --out /tmp/pid --daemon --pid-file /tmp/s.pid
//! stumble_handler serve --stop --pid-file /tmp/s.pid
//! ```

use std::io;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use daemon_runtime::{DaemonArgs, daemonize};

/// A program with a daemon subcommand
#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// `DaemonArgs` is large (every setting's override); the enum is built once.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve (in the background with --daemon)
    Serve(ServeArgs),
    /// An ordinary command, without the daemon flags
    Check,
}

#[derive(Args)]
struct ServeArgs {
    /// File to write the daemon's pid to (required to start)
    #[arg(long, required_unless_present_any = DaemonArgs::CONTROL_IDS)]
    out: Option<PathBuf>,

    #[command(flatten)]
    daemon: DaemonArgs,
}

// Ready once `--out` is written: the launcher returns after that.
#[daemonize(umask = 0o077, ready = "manual")]
fn serve(args: ServeArgs) -> io::Result<()> {
    let shutdown = daemon_runtime::shutdown();
    // clap required it: only a control action goes without, and those never get here.
    let out = args
        .out
        .ok_or_else(|| io::Error::other("--out is required"))?;
    std::fs::write(out, format!("{}\n", std::process::id()))?;
    daemon_runtime::ready();
    shutdown.wait();
    Ok(())
}

fn main() -> io::Result<()> {
    match Cli::parse().command {
        Command::Serve(args) => serve(args),
        Command::Check => Ok(()),
    }
}
