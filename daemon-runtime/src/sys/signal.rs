//! Signal state: dispositions and the blocked mask inherited from the launcher, and the
//! start-up window in which the runtime's own signals wait.
//!
//! SIGTERM, SIGINT and SIGHUP are blocked from before the fork until the runtime's
//! handlers are installed: one arriving in between (a `--reload` sent as soon as the PID
//! file names the daemon, a `--stop` racing the start) stays pending and is handled
//! then, instead of killing the daemon with the default action or leaving a stale PID
//! file.

use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};

use crate::error::Error;

/// The signals the runtime handles, blocked while it starts.
fn start_up_set() -> SigSet {
    let mut set = SigSet::empty();
    for signal in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        set.add(signal);
    }
    set
}

/// Blocks the runtime's signals until [`restore`] (or, in the daemon, [`unblock_all`])
/// once the handlers are in place; returns the mask to restore.
pub(crate) fn block_start_up() -> Result<SigSet, Error> {
    let mut old = SigSet::empty();
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&start_up_set()), Some(&mut old))
        .map_err(|e| Error::sys("sigprocmask", e))?;
    Ok(old)
}

/// Puts back the mask [`block_start_up`] returned.
pub(crate) fn restore(mask: &SigSet) {
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(mask), None);
}

/// Clears the blocked mask, as daemon(7) asks: once the daemon's handlers are in place,
/// nothing stays blocked, whatever the launcher had blocked.
pub(crate) fn unblock_all() -> Result<(), Error> {
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
        .map_err(|e| Error::sys("sigprocmask", e))
}

/// Resets every signal's disposition to the default, as daemon(7) asks: a launcher's
/// ignored SIGHUP must not leak into the daemon. The blocked mask keeps only the
/// runtime's signals, until their handlers are installed (see the module docs). SIGPIPE
/// stays ignored if it was: Rust programs ignore it on purpose so that writes to a
/// closed pipe return an error instead of killing the process.
pub(crate) fn reset_signals() -> Result<(), Error> {
    let keep_sigpipe = sigpipe_ignored();
    for signo in 1..=max_signal() {
        if signo == libc::SIGKILL
            || signo == libc::SIGSTOP
            || (signo == libc::SIGPIPE && keep_sigpipe)
        {
            continue;
        }
        // SAFETY: installing SIG_DFL runs no code of ours. The C library refuses the few
        // real-time signals it reserves for itself (EINVAL), which is fine.
        unsafe { libc::signal(signo, libc::SIG_DFL) };
    }
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&start_up_set()), None)
        .map_err(|e| Error::sys("sigprocmask", e))
}

fn sigpipe_ignored() -> bool {
    let mut old = std::mem::MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a null new action only queries; `old` is a valid, writable sigaction.
    let r = unsafe { libc::sigaction(libc::SIGPIPE, std::ptr::null(), old.as_mut_ptr()) };
    if r != 0 {
        return false;
    }
    // SAFETY: sigaction succeeded, so it filled `old` in.
    let old = unsafe { old.assume_init() };
    old.sa_sigaction == libc::SIG_IGN
}

fn max_signal() -> libc::c_int {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        libc::SIGRTMAX()
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        31
    }
}
