//! The floor: what the kernel and hardware allow. Fork, `setsid`, fork, write the pid to
//! the PID file, acknowledge over a pipe; no validation, no locking, no descriptor or
//! signal hygiene. `tick_floor --pid-file PATH` returns once the daemon has written
//! its pid. SIGTERM kills the daemon (default disposition); its file stays.

use std::os::fd::OwnedFd;

use nix::fcntl::OFlag;
use nix::unistd::{ForkResult, fork, pause, pipe2, read, setsid, write};

fn main() {
    let pid_file = daemon_bench::pid_file_arg();
    let (ack_read, ack_write): (OwnedFd, OwnedFd) = pipe2(OFlag::O_CLOEXEC).expect("pipe2");
    // SAFETY: the process is single-threaded (nothing here starts a thread), so the
    // child inherits no lock held by another thread.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Parent { .. } => {
            drop(ack_write);
            let mut byte = [0u8; 1];
            let code = match read(&ack_read, &mut byte) {
                Ok(1) => 0,
                _ => 1,
            };
            std::process::exit(code);
        }
        ForkResult::Child => {}
    }
    drop(ack_read);
    setsid().expect("setsid");
    // SAFETY: still single-threaded, as above.
    match unsafe { fork() }.expect("fork") {
        // SAFETY: `_exit` is always safe to call; it never returns.
        ForkResult::Parent { .. } => unsafe { libc::_exit(0) },
        ForkResult::Child => {}
    }
    std::fs::write(&pid_file, format!("{}\n", std::process::id())).expect("write pid file");
    let _ = write(&ack_write, b"r");
    drop(ack_write);
    loop {
        pause();
    }
}
