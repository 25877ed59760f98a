//! The benchmark program without daemonizing and without a command line, the memory
//! baseline: prints `up` once running, then waits for SIGTERM in the foreground.

use std::io::Write;

use daemon_bench::TermSignals;

fn main() {
    let term = TermSignals::block();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "up {}", std::process::id());
    let _ = out.flush();
    drop(out);
    term.wait();
}
