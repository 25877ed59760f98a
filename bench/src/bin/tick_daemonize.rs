//! The benchmark daemon with knsd's `daemonize` 0.5: `tick_daemonize --pid-file PATH`.
//!
//! `daemonize` 0.5 returns in the launcher as soon as the intermediate process exits,
//! before the daemon has written its PID file; the benchmark reports how often the
//! file names the daemon when the launcher returns. It has no stop command: the
//! benchmark stops it with `stop_pidfd`.

use daemon_bench::TermSignals;

fn main() {
    let pid_file = daemon_bench::pid_file_arg();
    // Before the fork: daemonize 0.5 keeps the signal mask, and a SIGTERM that came
    // before the wait would kill the daemon without removing its file.
    let term = TermSignals::block();
    if let Err(e) = daemonize::Daemonize::new().pid_file(&pid_file).start() {
        eprintln!("tick_daemonize: {e}");
        std::process::exit(1);
    }
    term.wait();
    // daemonize 0.5 never removes the file itself.
    let _ = std::fs::remove_file(&pid_file);
}
