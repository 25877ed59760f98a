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

/// The lowest number the runtime's own descriptors get when it makes them late (after
/// the daemon's close-all): half the soft limit on open files, at most 256. A program's
/// files get the lowest free numbers, so a descriptor the program closes late (a `File`
/// it opened before the start and drops afterwards, whose number the close-all freed)
/// never hits one of the runtime's.
fn floor() -> RawFd {
    use nix::sys::resource::{Resource, getrlimit};
    let soft = getrlimit(Resource::RLIMIT_NOFILE).map_or(1024, |(soft, _)| soft);
    let half = RawFd::try_from(soft / 2).unwrap_or(RawFd::MAX);
    half.clamp(3, 256)
}

/// Moves `fd` to a number at or above [`floor`], close-on-exec; where that fails (no
/// free number there), it stays where it is.
pub(crate) fn raise(fd: std::os::fd::OwnedFd) -> std::os::fd::OwnedFd {
    use nix::fcntl::{FcntlArg, fcntl};
    use std::os::fd::FromRawFd;
    if std::os::fd::AsRawFd::as_raw_fd(&fd) >= floor() {
        return fd;
    }
    match fcntl(&fd, FcntlArg::F_DUPFD_CLOEXEC(floor())) {
        // SAFETY: F_DUPFD_CLOEXEC returned a new descriptor that nothing else owns.
        Ok(raised) => unsafe { std::os::fd::OwnedFd::from_raw_fd(raised) },
        Err(_) => fd,
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    use super::*;

    #[test]
    fn raised_descriptors_are_above_the_floor_and_close_on_exec() {
        let file = std::fs::File::open("/dev/null").unwrap();
        let raised = raise(std::os::fd::OwnedFd::from(file));
        assert!(raised.as_raw_fd() >= floor());
        let flags = nix::fcntl::fcntl(&raised, nix::fcntl::FcntlArg::F_GETFD).unwrap();
        assert_ne!(flags & libc::FD_CLOEXEC, 0);
    }
}
