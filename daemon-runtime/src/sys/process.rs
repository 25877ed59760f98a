//! The process itself: counting its threads, forking only when it has one, ending at
//! once with `_exit`, and handing freed memory back.

use nix::unistd::{ForkResult, Pid};

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

/// Proof that the process has one thread, which [`fork`] asks for.
///
/// Made only by [`ensure_single_threaded`] and by [`fork`] in the child (a forked child
/// has only the thread that called `fork`).
#[derive(Debug)]
pub(crate) struct SingleThreaded(());

/// Refuses to go on when the process has more than one thread: a forked child keeps
/// only the calling thread, and any lock another thread held (the allocator's, a
/// logger's, an async runtime's) stays locked forever in it.
pub(crate) fn ensure_single_threaded() -> Result<SingleThreaded, Error> {
    match thread_count() {
        Some(threads) if threads > 1 => Err(Error::MultiThreaded { threads }),
        Some(_) => Ok(SingleThreaded(())),
        None => {
            log::warn!(
                "cannot count this process's threads on this platform; forking on the \
                 assumption that there is one"
            );
            Ok(SingleThreaded(()))
        }
    }
}

impl SingleThreaded {
    /// Removes `name` from the environment: sound because no other thread can be
    /// reading it (`std::env::remove_var` is unsafe for that reason alone).
    pub(crate) fn remove_var(&self, name: &str) {
        // SAFETY: this process has one thread (the token proves it), so nothing reads or
        // writes the environment meanwhile.
        unsafe { std::env::remove_var(name) };
    }
}

/// The token, if the process has exactly one thread now; `None` if it has more, or if
/// they cannot be counted.
pub(crate) fn single_threaded() -> Option<SingleThreaded> {
    (thread_count() == Some(1)).then_some(SingleThreaded(()))
}

/// What [`fork`] returned in this process.
pub(crate) enum Forked {
    Parent(Pid),
    /// The child, which has one thread: it may fork again.
    Child(SingleThreaded),
}

/// Forks a process that has one thread (the token says so).
pub(crate) fn fork(_: &SingleThreaded) -> Result<Forked, Error> {
    // SAFETY: the process has exactly one thread (the token proves it), so the child
    // inherits no lock held by another thread and may run arbitrary code.
    match unsafe { nix::unistd::fork() } {
        Ok(ForkResult::Parent { child }) => Ok(Forked::Parent(child)),
        Ok(ForkResult::Child) => Ok(Forked::Child(SingleThreaded(()))),
        Err(e) => Err(Error::sys("fork", e)),
    }
}

/// Ends this process at once: no destructors, no atexit handlers, no flushing of stdio
/// buffers that the parent will flush too.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` is always safe to call; it never returns.
    unsafe { libc::_exit(code) }
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
