//! Issue 12, stumble 1: the program's own parser requires `--out FILE` to start, and
//! `--stop`, `--status`, `--reload` and `--print-service` still work without it. The
//! runtime reads the daemon flags first with every requirement relaxed; only a start
//! (or `--restart`) is held to the program's requirements.
//!
//! ```text
//! stumble_required --out /tmp/pid --daemon --pid-file /tmp/s.pid
//! stumble_required --status --pid-file /tmp/s.pid    # no --out needed
//! stumble_required --stop --pid-file /tmp/s.pid
//! ```

use std::io;
use std::path::PathBuf;

use clap::Parser;
use daemon_runtime::daemonize;

/// Writes its pid to a file, then waits to be stopped
#[derive(Parser)]
struct Cli {
    /// File to write the daemon's pid to (required to start)
    #[arg(long)]
    out: PathBuf,
}

// Ready once `--out` is written: the launcher returns after that.
#[daemonize(ready = "manual")]
fn main(cli: Cli) -> io::Result<()> {
    let shutdown = daemon_runtime::shutdown();
    std::fs::write(&cli.out, format!("{}\n", std::process::id()))?;
    daemon_runtime::ready();
    shutdown.wait();
    Ok(())
}
