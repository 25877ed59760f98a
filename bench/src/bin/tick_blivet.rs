//! The benchmark daemon with `blivet`: `tick_blivet --pid-file PATH`. Its launcher
//! returns once the daemon calls `notify_parent`. It has no stop command: the benchmark
//! stops it with `stop_pidfd`.

use daemon_bench::TermSignals;

fn main() {
    let pid_file = daemon_bench::pid_file_arg();
    let mut config = blivet::DaemonConfig::new();
    config.pidfile(pid_file);
    let mut ctx = match blivet::daemonize(&config) {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("tick_blivet: {e}");
            std::process::exit(i32::from(e.exit_code()));
        }
    };
    // After daemonizing (blivet clears the signal mask), before the launcher may
    // send SIGTERM.
    let term = TermSignals::block();
    ctx.notify_parent_or_report();
    term.wait();
    // Dropping `ctx` removes the PID file.
}
