//! The stop command of the daemons that have none (the peers and the floor):
//! `stop_pidfd --pid-file PATH` reads the pid, opens a pidfd, sends SIGTERM through it
//! and waits until the pidfd reports the exit: the mechanism of daemon-runtime's
//! `--stop`, without its checks. A whole process, like `--stop`, so that both stop
//! times include starting a program.
//!
//! `daemonize` 0.5's launcher returns before the daemon writes its PID file, so the
//! file may not name a live process yet: that is retried for up to two seconds.

#[cfg(target_os = "linux")]
fn main() {
    use std::time::{Duration, Instant};

    use daemon_tests::Pidfd;
    use nix::sys::signal::Signal;

    let pid_file = daemon_bench::pid_file_arg();
    let deadline = Instant::now() + Duration::from_secs(2);
    let process = loop {
        if let Some(process) =
            daemon_bench::read_pid(&pid_file).and_then(|pid| Pidfd::open(pid).ok())
        {
            break process;
        }
        if Instant::now() > deadline {
            eprintln!("stop_pidfd: {} names no live process", pid_file.display());
            std::process::exit(1);
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    if let Err(e) = process.signal(Signal::SIGTERM) {
        eprintln!("stop_pidfd: SIGTERM to pid {}: {e}", process.pid());
        std::process::exit(1);
    }
    if !process.wait_exit(Duration::from_secs(10)) {
        eprintln!("stop_pidfd: pid {} did not exit", process.pid());
        std::process::exit(1);
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("stop_pidfd: needs Linux (pidfd_open)");
    std::process::exit(69);
}
