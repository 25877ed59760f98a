//! Signal state inherited from the launcher: dispositions and the blocked mask.

use nix::sys::signal::{SigSet, SigmaskHow, sigprocmask};

use crate::error::Error;

/// Resets every signal's disposition to the default and clears the blocked mask, as
/// daemon(7) asks: a launcher's ignored SIGHUP or blocked SIGTERM must not leak into
/// the daemon. SIGPIPE stays ignored if it was: Rust programs ignore it on purpose so
/// that writes to a closed pipe return an error instead of killing the process.
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
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
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
