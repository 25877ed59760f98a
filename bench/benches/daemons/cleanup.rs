//! Nothing the harness starts outlives it.
//!
//! The harness makes itself a child subreaper, so every daemon, once its launcher has
//! exited, becomes a child of the harness instead of init's. Its children are then
//! everything it started: [`Guard`] kills them on the way out, panic included, and a
//! thread woken by SIGINT, SIGTERM or SIGHUP does the same. A child's pid cannot be
//! reused before the harness reaps it, so killing children by pid is safe.

use std::os::fd::{IntoRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, kill, sigaction};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::procfs;

/// The write end of the pipe the signal handler wakes the cleanup thread through.
static WAKE: AtomicI32 = AtomicI32::new(-1);

/// Makes the harness the reaper of everything it starts, and arranges for SIGINT,
/// SIGTERM and SIGHUP to kill it all. Call first, before any other thread starts.
///
/// A handler and a self-pipe rather than blocked signals and `sigwait`: a blocked mask
/// is inherited by every process the harness spawns (std's `Command` keeps it), and
/// the floor would then ignore its SIGTERM. Handlers go back to the default on exec.
pub(crate) fn install() -> Guard {
    nix::sys::prctl::set_child_subreaper(true).expect("PR_SET_CHILD_SUBREAPER");
    let (read, write): (OwnedFd, OwnedFd) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).expect("signal pipe");
    // Owned by the handler for the rest of the process.
    WAKE.store(write.into_raw_fd(), Ordering::SeqCst);
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: `on_signal` only loads an atomic and calls write(2), both
        // async-signal-safe.
        unsafe { sigaction(signal, &action) }.expect("install signal handler");
    }
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut byte = [0u8; 1];
            let _ = nix::unistd::read(&read, &mut byte);
            let signal = Signal::try_from(i32::from(byte[0])).unwrap_or(Signal::SIGTERM);
            eprintln!("\n{signal}: stopping every daemon the benchmark started");
            kill_all();
            std::process::exit(128 + signal as i32);
        })
        .expect("start the signal thread");
    Guard(())
}

extern "C" fn on_signal(signo: libc::c_int) {
    let byte = signo as u8;
    // SAFETY: write(2) is async-signal-safe; it reads one byte from a local. A bad
    // descriptor only makes it fail.
    unsafe { libc::write(WAKE.load(Ordering::SeqCst), (&raw const byte).cast(), 1) };
}

/// Kills everything the harness started when dropped.
#[derive(Debug)]
pub(crate) struct Guard(());

impl Drop for Guard {
    fn drop(&mut self) {
        kill_all();
    }
}

/// Reaps every child that has exited (daemons and intermediate processes handed to the
/// harness). Only call it while no `Command` child is being waited for.
pub(crate) fn reap_orphans() {
    while let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
        if status == WaitStatus::StillAlive {
            break;
        }
    }
}

/// SIGKILLs every child of the harness and reaps them, until none is left (killing a
/// launcher hands its daemon to the harness, so this can take a few rounds).
pub(crate) fn kill_all() {
    for _ in 0..100 {
        let children = procfs::children();
        if children.is_empty() {
            return;
        }
        for pid in children {
            if let Ok(pid) = i32::try_from(pid) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        std::thread::sleep(Duration::from_millis(5));
        reap_orphans();
    }
}
