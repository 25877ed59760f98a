//! Signals in the daemon: SIGTERM and SIGINT for shutdown, SIGHUP for reload.
//!
//! The handlers only do what a signal handler may do: atomic loads and stores, and
//! async-signal-safe system calls (`write`, `open`, `dup2`, `close`, `fstat`,
//! `unlinkat`, `ftruncate`, `sigaction`, `raise`) on data prepared before they were
//! installed. No locks, no allocation. Everything else happens in threads or in the
//! program, woken through self-pipes.
//!
//! SIGTERM and SIGINT: until the program takes a [`Shutdown`] handle, the handler
//! removes the PID file and lets the signal kill the process as it would have, so a
//! program that never thinks about shutdown still leaves no PID file behind. Once the
//! program holds a handle, the first signal only sets the flag and wakes the waiters;
//! a second one ends the process at once (the "press Ctrl-C twice" convention).
//!
//! As PID 1 (a container without an init), a signal's default action is dropped by the
//! kernel, so "die of the signal" cannot work: the process exits with the status a
//! shell reports for it instead (143 for SIGTERM, 130 for SIGINT).
//!
//! SIGHUP: the daemon's log files are reopened at their paths (for logrotate), then
//! the hooks registered with [`on_reload`] run on a dedicated thread, between
//! `RELOADING=1` and `READY=1` to a service manager (systemd's `Type=notify-reload`).
//!
//! Under a service manager, the first SIGTERM or SIGINT also sends it `STOPPING=1`,
//! from the handler itself (one `send` on the already connected socket).

use std::future::Future;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

use crate::error::Error;
use crate::logfile::{LogFile, Reopen};
use crate::sys::fd;
use crate::sys::time::Deadline;

static SHUTDOWN: AtomicBool = AtomicBool::new(false);
static SHUTDOWN_SIGNAL: AtomicI32 = AtomicI32::new(0);
/// The program holds a [`Shutdown`] handle and will exit by itself.
static GRACEFUL: AtomicBool = AtomicBool::new(false);
static PIPES: OnceLock<Pipes> = OnceLock::new();
static LOGS: OnceLock<LogPaths> = OnceLock::new();
/// The service manager's socket (`-1`: none), for `STOPPING=1` from the handler.
static MANAGER_FD: AtomicI32 = AtomicI32::new(-1);

struct Pipes {
    /// Readable once shutdown was requested; never drained, so it stays readable.
    shutdown_read: OwnedFd,
    shutdown_write: OwnedFd,
    /// One byte per SIGHUP; drained by the reload thread.
    reload_read: OwnedFd,
    reload_write: OwnedFd,
}

/// The daemon's log files, reopened on SIGHUP by name in their directories.
struct LogPaths {
    stdout: Option<Reopen>,
    stderr: Option<Reopen>,
}

fn pipes() -> Result<&'static Pipes, Error> {
    if let Some(p) = PIPES.get() {
        return Ok(p);
    }
    // Above the numbers a program's own files get: a descriptor the program closes
    // late (one the daemon's close-all freed) cannot hit these.
    let pipe = || {
        nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)
            .map(|(read, write)| (fd::raise(read), fd::raise(write)))
            .map_err(|e| Error::sys("pipe", e))
    };
    let (shutdown_read, shutdown_write) = pipe()?;
    let (reload_read, reload_write) = pipe()?;
    // If another thread won the race, its pipes are used and these are closed.
    let _ = PIPES.set(Pipes {
        shutdown_read,
        shutdown_write,
        reload_read,
        reload_write,
    });
    Ok(PIPES.get().expect("just set"))
}

/// Remembers the log files (each as its directory and name) so SIGHUP can reopen
/// them. Called once, by the daemon, once they are on descriptors 1 and 2.
pub(crate) fn set_log_files(stdout: Option<LogFile>, stderr: Option<LogFile>) {
    let _ = LOGS.set(LogPaths {
        stdout: stdout.and_then(LogFile::into_reopen),
        stderr: stderr.and_then(LogFile::into_reopen),
    });
}

/// The descriptors the signal machinery owns, which the daemon must not close.
pub(crate) fn fds() -> Vec<std::os::fd::RawFd> {
    use std::os::fd::AsRawFd;
    PIPES.get().map_or_else(Vec::new, |p| {
        vec![
            p.shutdown_read.as_raw_fd(),
            p.shutdown_write.as_raw_fd(),
            p.reload_read.as_raw_fd(),
            p.reload_write.as_raw_fd(),
        ]
    })
}

/// Creates the pipes the handlers write to: before the fork, so that the daemon keeps
/// them with the descriptors it inherits rather than making them afterwards.
pub(crate) fn prepare() -> Result<(), Error> {
    pipes().map(drop)
}

/// Installs the SIGTERM, SIGINT and SIGHUP handlers. Safe to call again (the daemon
/// resets every disposition after the fork and then calls this). Under a service
/// manager, also starts the reload thread, which tells it when a reload is done.
pub(crate) fn install() -> Result<(), Error> {
    pipes()?;
    if let Some(&fd) = crate::notify::raw_fds().first() {
        MANAGER_FD.store(fd, Ordering::SeqCst);
        start_reload_thread();
    }
    let mut mask = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        mask.add(s);
    }
    let terminate = SigAction::new(SigHandler::Handler(on_terminate), SaFlags::SA_RESTART, mask);
    let hangup = SigAction::new(SigHandler::Handler(on_hangup), SaFlags::SA_RESTART, mask);
    for (signal, action) in [
        (Signal::SIGTERM, &terminate),
        (Signal::SIGINT, &terminate),
        (Signal::SIGHUP, &hangup),
    ] {
        // SAFETY: both handlers are async-signal-safe (see the module docs), and they
        // only read statics that are fully initialised before this call.
        unsafe { sigaction(signal, action) }
            .map_err(|e| Error::sys(format!("sigaction({signal})"), e))?;
    }
    log::debug!("installed handlers for SIGTERM, SIGINT and SIGHUP");
    Ok(())
}

extern "C" fn on_terminate(signo: libc::c_int) {
    let saved = Errno::last_raw();
    let first = !STOPPING.swap(true, Ordering::SeqCst);
    if first {
        tell_manager(b"STOPPING=1");
    }
    if GRACEFUL.load(Ordering::SeqCst) && !SHUTDOWN.swap(true, Ordering::SeqCst) {
        SHUTDOWN_SIGNAL.store(signo, Ordering::SeqCst);
        wake_shutdown_waiters();
    } else {
        crate::pidfile::remove_active();
        die_of(signo);
    }
    Errno::set_raw(saved);
}

/// `STOPPING=1` went out already.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// Sends `message` to the service manager, if there is one: one `send` on a socket
/// connected at start, so async-signal-safe; never blocks.
fn tell_manager(message: &[u8]) {
    let fd = MANAGER_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: send(2) reads `message.len()` bytes from a live slice; `fd` is the
        // runtime's datagram socket, open for the life of the process.
        unsafe {
            libc::send(
                fd,
                message.as_ptr().cast(),
                message.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
    }
}

/// Ends the process as `signo` would: its default action, raised again (pending until
/// the handler returns). As PID 1 the kernel drops a default action, so the process
/// exits with the status a shell shows for the signal, 128 + its number.
fn die_of(signo: libc::c_int) {
    if std::process::id() == 1 {
        crate::sys::process::exit_now(128 + signo);
    }
    // SAFETY: installing SIG_DFL runs no code of ours; signal(2) is async-signal-safe.
    unsafe { libc::signal(signo, libc::SIG_DFL) };
    // SAFETY: raise(3) is async-signal-safe.
    unsafe { libc::raise(signo) };
}

extern "C" fn on_hangup(_: libc::c_int) {
    let saved = Errno::last_raw();
    if let Some(logs) = LOGS.get() {
        if let Some(log) = &logs.stdout {
            reopen(log, libc::STDOUT_FILENO);
        }
        if let Some(log) = &logs.stderr {
            reopen(log, libc::STDERR_FILENO);
        }
    }
    if let Some(p) = PIPES.get() {
        // A full pipe already says "reload pending".
        let _ = nix::unistd::write(&p.reload_write, b"h");
    }
    Errno::set_raw(saved);
}

/// Reopens a log file by name in its directory onto `target` (1 or 2), with the checks
/// it was first opened with (a symlink planted at the name is refused); on failure the
/// old file stays.
fn reopen(log: &Reopen, target: libc::c_int) {
    let Ok(fd) = crate::sys::fs::reopen_at(log.dir.as_fd(), &log.name, &log.how) else {
        return;
    };
    let _ = if target == libc::STDOUT_FILENO {
        nix::unistd::dup2_stdout(&fd)
    } else {
        nix::unistd::dup2_stderr(&fd)
    };
}

fn wake_shutdown_waiters() {
    if let Some(p) = PIPES.get() {
        let _ = nix::unistd::write(&p.shutdown_write, b"s");
    }
}

/// A handle on the daemon's shutdown request: SIGTERM, SIGINT, or [`Shutdown::request`].
///
/// Taking one tells the runtime that the program will exit by itself: from then on the
/// first SIGTERM or SIGINT only sets the flag and wakes the waiters, and the program
/// returns from `main` (which removes the PID file). A second signal ends the process
/// at once. Handles are cheap to clone and can be sent to other threads.
///
/// Wait with [`wait`](Self::wait) or [`wait_timeout`](Self::wait_timeout), check
/// [`requested`](Self::requested) between steps, await [`wait_async`](Self::wait_async)
/// in async code (any executor), or poll the descriptor ([`AsFd`]).
///
/// ```no_run
/// let shutdown = daemon_runtime::shutdown();
/// while !shutdown.requested() {
///     // work in small steps
///     # break;
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Shutdown {
    read: BorrowedFd<'static>,
}

/// Returns the process's shutdown handle, installing the signal handlers if needed.
///
/// # Panics
///
/// If the self-pipe or the handlers cannot be set up (no file descriptors left), which
/// a daemon cannot run without.
pub fn shutdown() -> Shutdown {
    let pipes = pipes().expect("cannot create the shutdown pipe");
    static HANDLERS: Once = Once::new();
    HANDLERS.call_once(|| {
        // The daemon installs them when it starts; this covers programs that ask first.
        if let Err(e) = install() {
            panic!("cannot install signal handlers: {e}");
        }
    });
    GRACEFUL.store(true, Ordering::SeqCst);
    Shutdown {
        read: pipes.shutdown_read.as_fd(),
    }
}

impl Shutdown {
    /// Whether shutdown was requested.
    pub fn requested(&self) -> bool {
        SHUTDOWN.load(Ordering::SeqCst)
    }

    /// The signal that requested shutdown, if a signal did.
    pub fn signal(&self) -> Option<Signal> {
        Signal::try_from(SHUTDOWN_SIGNAL.load(Ordering::SeqCst)).ok()
    }

    /// Requests shutdown from the program itself, waking every waiter.
    pub fn request(&self) {
        if !SHUTDOWN.swap(true, Ordering::SeqCst) {
            wake_shutdown_waiters();
        }
    }

    /// Blocks until shutdown is requested.
    pub fn wait(&self) {
        while !self.wait_until(Deadline::NEVER) {}
    }

    /// Blocks until shutdown is requested or `timeout` passes; returns whether it was
    /// requested.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = Deadline::after(timeout);
        loop {
            if self.wait_until(deadline) || deadline.passed() {
                return self.requested();
            }
        }
    }

    fn wait_until(&self, deadline: Deadline) -> bool {
        if self.requested() {
            return true;
        }
        let mut fds = [PollFd::new(self.read, PollFlags::POLLIN)];
        match poll(&mut fds, deadline.poll_timeout()) {
            Ok(_) | Err(Errno::EINTR) => self.requested(),
            Err(e) => panic!("poll on the shutdown pipe failed: {e}"),
        }
    }

    /// A future that completes once shutdown is requested; works with any executor.
    ///
    /// The first time one is polled, a small thread starts that waits on the signal
    /// pipe and wakes the futures. Programs with a reactor can watch
    /// [`as_fd`](AsFd::as_fd) instead (readable once shutdown is requested).
    ///
    /// ```no_run
    /// # async fn serve() {}
    /// # async fn run() {
    /// let shutdown = daemon_runtime::shutdown();
    /// tokio::select! {
    ///     _ = serve() => {}
    ///     _ = shutdown.wait_async() => {}
    /// }
    /// # }
    /// ```
    pub fn wait_async(&self) -> ShutdownFuture {
        ShutdownFuture { _priv: () }
    }
}

impl AsFd for Shutdown {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.read
    }
}

/// Completes once shutdown is requested. See [`Shutdown::wait_async`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ShutdownFuture {
    _priv: (),
}

static WAKERS: Mutex<Vec<Waker>> = Mutex::new(Vec::new());

impl Future for ShutdownFuture {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if SHUTDOWN.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        {
            let mut wakers = WAKERS.lock().unwrap_or_else(|e| e.into_inner());
            if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                wakers.push(cx.waker().clone());
            }
        }
        start_waker_thread();
        // The flag is set before the pipe is written, and the waker thread drains the
        // list after it reads the pipe: checking again here cannot miss a wake-up.
        if SHUTDOWN.load(Ordering::SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

fn start_waker_thread() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let shutdown = shutdown();
        std::thread::Builder::new()
            .name("daemon-shutdown".into())
            .spawn(move || {
                shutdown.wait();
                let wakers = std::mem::take(&mut *WAKERS.lock().unwrap_or_else(|e| e.into_inner()));
                wakers.into_iter().for_each(Waker::wake);
            })
            .expect("cannot start the shutdown waker thread");
    });
}

type Hook = Arc<dyn Fn() + Send + Sync + 'static>;
static HOOKS: Mutex<Vec<Hook>> = Mutex::new(Vec::new());

/// Registers `hook` to run after each SIGHUP, once the log files were reopened.
///
/// Hooks run one after another on a thread of the runtime's (started by the first
/// call), never inside the signal handler, so they may lock, allocate, log, and register
/// more hooks (which run from the next reload on). Several SIGHUPs arriving while the
/// hooks run are folded into one more run. Under a service manager, `RELOADING=1` goes
/// out before the hooks run and `READY=1` after.
pub fn on_reload(hook: impl Fn() + Send + Sync + 'static) {
    HOOKS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Arc::new(hook));
    start_reload_thread();
}

fn start_reload_thread() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let pipes = pipes().expect("cannot create the reload pipe");
        std::thread::Builder::new()
            .name("daemon-reload".into())
            .spawn(move || reload_loop(pipes))
            .expect("cannot start the reload thread");
    });
}

fn reload_loop(pipes: &'static Pipes) {
    loop {
        let mut fds = [PollFd::new(pipes.reload_read.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => {
                log::error!("reload thread: poll failed: {e}");
                return;
            }
        }
        let mut drained = false;
        let mut buf = [0u8; 64];
        while let Ok(n) = nix::unistd::read(&pipes.reload_read, &mut buf) {
            if n == 0 {
                break;
            }
            drained = true;
        }
        if drained {
            reload();
        }
    }
}

/// One reload: the manager told, the hooks run (a snapshot: a hook may register more),
/// the manager told it is done.
fn reload() {
    let _ = crate::notify::reloading();
    log::debug!("SIGHUP: running reload hooks");
    let hooks: Vec<Hook> = HOOKS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for hook in &hooks {
        hook();
    }
    let _ = crate::notify::ready(None);
}
