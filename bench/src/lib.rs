//! Support for the benchmark daemons and their harness (`cargo bench -p daemon-bench`).
//!
//! The bins in `src/bin/` are the systems under test, all the same tiny daemon: start,
//! write a PID file, wait for SIGTERM, exit. `tick_builder` and `tick_macro` use
//! daemon-runtime as a user would; `tick_daemonize` and `tick_blivet` use the crates
//! users would pick instead; `tick_floor` is a bare fork, setsid, fork with a pipe
//! acknowledgement and nothing else. `tick_plain`, `clap_plain` and `clap_toml` are the
//! baselines for memory and binary size, and `stop_pidfd` is the stop command of the
//! daemons that have none. `tick_macro` without daemon-runtime's `config` feature is
//! `tick_macro_noconfig`, in the package `bench/lean` (features are unified per build).
//!
//! This library holds what the peers, the floor, the stop command and the harness
//! share: the `--pid-file` argument and waiting for SIGTERM. Pidfds come from
//! `daemon_tests::Pidfd`, shared with the integration tests. The benchmark itself needs
//! Linux (pidfds, `/proc`); the daemons build on any Unix.

use std::path::{Path, PathBuf};

/// Exit status for a bad command line (`EX_USAGE`).
pub const EX_USAGE: i32 = 64;

/// The `--pid-file PATH` argument of the peers, the floor and `stop_pidfd`; prints the
/// usage and exits 64 without one. Deliberately not clap: the peers stand for the
/// libraries alone, and the floor for what the kernel allows.
pub fn pid_file_arg() -> PathBuf {
    let mut args = std::env::args_os().skip(1);
    match (args.next(), args.next(), args.next()) {
        (Some(flag), Some(path), None) if flag == "--pid-file" => PathBuf::from(path),
        _ => {
            let name = std::env::args().next().unwrap_or_default();
            eprintln!("usage: {name} --pid-file PATH");
            std::process::exit(EX_USAGE)
        }
    }
}

/// The pid a PID file names, if it names one.
pub fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path)
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&pid| pid > 0)
}

/// SIGTERM and SIGINT, blocked so that [`TermSignals::wait`] receives them with
/// `sigwait` instead of their killing the process: the peers' and the plain programs'
/// graceful exit, the equivalent of daemon-runtime's `Shutdown::wait`.
#[derive(Debug)]
pub struct TermSignals(nix::sys::signal::SigSet);

impl TermSignals {
    /// Blocks SIGTERM and SIGINT in this (single-threaded) process.
    ///
    /// # Panics
    ///
    /// If `sigprocmask` fails, which it cannot with a valid set.
    pub fn block() -> TermSignals {
        use nix::sys::signal::{SigSet, Signal};
        let mut set = SigSet::empty();
        set.add(Signal::SIGTERM);
        set.add(Signal::SIGINT);
        set.thread_block().expect("block SIGTERM and SIGINT");
        TermSignals(set)
    }

    /// Waits until SIGTERM or SIGINT arrives.
    pub fn wait(&self) {
        while self.0.wait().is_err() {}
    }
}
