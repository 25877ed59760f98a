//! The binary-size baseline: the same clap command line as `tick_builder` (the flags of
//! daemon-runtime's `DaemonArgs`, copied, in `common/cli.rs`), without daemon-runtime. It
//! runs in the foreground, prints `up`, and waits for SIGTERM, like `tick_plain`.

use std::io::Write;

use clap::Parser;
use daemon_bench::TermSignals;

#[path = "common/cli.rs"]
mod cli;

fn main() {
    let cli = cli::Cli::parse();
    let term = TermSignals::block();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "up {} {:?}", std::process::id(), cli.pid_file);
    let _ = out.flush();
    drop(out);
    term.wait();
}
