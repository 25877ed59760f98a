//! Descriptors: closing every one the daemon inherited except those it keeps.

use std::os::fd::RawFd;

/// Closes every descriptor above 2 except those in `keep`.
pub(crate) fn close_fds_except(keep: &[RawFd]) {
    let mut keep: Vec<RawFd> = keep.iter().copied().filter(|&fd| fd > 2).collect();
    keep.sort_unstable();
    keep.dedup();
    let mut first: RawFd = 3;
    for &fd in &keep {
        if fd > first {
            close_range(first, fd - 1);
        }
        first = fd + 1;
    }
    close_range(first, RawFd::MAX);
}

/// Closes descriptors `first..=last`.
fn close_range(first: RawFd, last: RawFd) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: close_range(2) takes plain integers. Closing descriptors owned by
        // Rust objects is what this step is for; the builder's docs say that only
        // descriptors passed to `keep_fd` stay usable.
        let r = unsafe { libc::syscall(libc::SYS_close_range, first, last as libc::c_uint, 0) };
        if r == 0 {
            return;
        }
        // ENOSYS before Linux 5.9: fall through to the loop.
    }
    let limit = nix::unistd::sysconf(nix::unistd::SysconfVar::OPEN_MAX)
        .ok()
        .flatten()
        .and_then(|n| RawFd::try_from(n).ok())
        .unwrap_or(1024);
    for fd in first..=last.min(limit) {
        // SAFETY: as above; EBADF for descriptors that are not open is harmless.
        unsafe { libc::close(fd) };
    }
}
