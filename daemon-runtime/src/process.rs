//! Process-level steps of daemon(7): the fork (only when single-threaded), closing
//! inherited descriptors, resetting signal state, and pointing stdio elsewhere.

use std::fs::File;
use std::os::fd::{OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::signal::{SigSet, SigmaskHow, sigprocmask};
use nix::sys::stat::Mode;
use nix::unistd::{ForkResult, Pid, dup2_stderr, dup2_stdin, dup2_stdout};

use crate::error::Error;

/// How many threads this process has, where the platform can tell.
pub(crate) fn thread_count() -> Option<usize> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // One entry per thread; cheaper and more exact than parsing /proc/self/status.
        std::fs::read_dir("/proc/self/task")
            .ok()
            .map(|tasks| tasks.count())
    }
    #[cfg(target_os = "macos")]
    {
        // SAFETY: `proc_taskinfo` is plain data; all-zero bytes are a valid value.
        let mut info: libc::proc_taskinfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::proc_taskinfo>() as libc::c_int;
        let pid = std::process::id() as libc::c_int;
        // SAFETY: `info` is a writable buffer of exactly `size` bytes for this flavor.
        let n = unsafe {
            libc::proc_pidinfo(pid, libc::PROC_PIDTASKINFO, 0, (&raw mut info).cast(), size)
        };
        (n == size).then(|| info.pti_threadnum as usize)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
    {
        None
    }
}

/// Refuses to go on when the process has more than one thread: a forked child keeps
/// only the calling thread, and any lock another thread held (the allocator's, a
/// logger's, an async runtime's) stays locked forever in it.
pub(crate) fn ensure_single_threaded() -> Result<(), Error> {
    match thread_count() {
        Some(threads) if threads > 1 => Err(Error::MultiThreaded { threads }),
        Some(_) => Ok(()),
        None => {
            log::debug!("cannot count threads on this platform; assuming one");
            Ok(())
        }
    }
}

/// What [`fork`] returned in this process.
pub(crate) enum Forked {
    Parent(Pid),
    Child,
}

/// Forks, after checking that the process is single-threaded.
pub(crate) fn fork() -> Result<Forked, Error> {
    ensure_single_threaded()?;
    fork_single_threaded()
}

/// Forks a process known to be single-threaded: the child of [`fork`], which has only
/// the thread that called it. Saves reading `/proc` again in the middle of the sequence.
pub(crate) fn fork_single_threaded() -> Result<Forked, Error> {
    // SAFETY: the process has exactly one thread (checked by `fork`, or the child of
    // such a fork), so the child inherits no lock held by another thread and may run
    // arbitrary code.
    match unsafe { nix::unistd::fork() } {
        Ok(ForkResult::Parent { child }) => Ok(Forked::Parent(child)),
        Ok(ForkResult::Child) => Ok(Forked::Child),
        Err(e) => Err(Error::sys("fork", e)),
    }
}

/// Ends this process at once: no destructors, no atexit handlers, no flushing of stdio
/// buffers that the parent will flush too.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` is always safe to call; it never returns.
    unsafe { libc::_exit(code) }
}

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

/// Gives the memory the launcher freed (its parsed command line, settings, messages)
/// back to the system: glibc keeps freed memory in its free lists, where a daemon
/// would hold it for as long as it runs.
pub(crate) fn release_freed_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0)
    };
}

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

/// Opens `/dev/null` for [`redirect_stdio`]; done before any `chroot`, since a jail
/// rarely has a `/dev`.
pub(crate) fn open_dev_null() -> Result<OwnedFd, Error> {
    open(
        "/dev/null",
        OFlag::O_RDWR | OFlag::O_CLOEXEC | OFlag::O_NOCTTY,
        Mode::empty(),
    )
    .map_err(|e| Error::sys("open /dev/null", e))
}

/// Points stdin at `/dev/null`, and stdout and stderr at the given log files or
/// `/dev/null`, with `dup2` so that descriptors 0-2 are never left closed for some
/// other file to take their place.
pub(crate) fn redirect_stdio(
    null: &OwnedFd,
    stdout: Option<&File>,
    stderr: Option<&File>,
) -> Result<(), Error> {
    let dup =
        |what: &str, r: Result<(), Errno>| r.map_err(|e| Error::sys(format!("dup2 {what}"), e));
    dup("stdin", dup2_stdin(null))?;
    match stdout {
        Some(file) => dup("stdout", dup2_stdout(file))?,
        None => dup("stdout", dup2_stdout(null))?,
    }
    match stderr {
        Some(file) => dup("stderr", dup2_stderr(file))?,
        None => dup("stderr", dup2_stderr(null))?,
    }
    Ok(())
}
