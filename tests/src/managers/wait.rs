//! Waiting for a manager without sleeping: its `sd_notify` messages, a file appearing
//! or growing (inotify), a FIFO opened by its reader (inotify's `IN_OPEN`), or a line
//! in a following command's output (`journalctl -f`, `docker logs -f`).

use std::cell::{Cell, RefCell};
use std::io::{self, BufRead, BufReader};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

use crate::{Killer, Pidfd};

/// A datagram socket speaking the receiving side of the `sd_notify` protocol: what
/// systemd listens on as `NOTIFY_SOCKET`. `systemd-nspawn`, `dockerd` and `rsyslogd`
/// report their readiness to it; so does a daemon started with it in its environment.
#[derive(Debug)]
pub struct NotifySocket {
    path: PathBuf,
    socket: UnixDatagram,
    seen: RefCell<Vec<String>>,
    /// How many of `seen` earlier waits went past.
    consumed: Cell<usize>,
}

impl NotifySocket {
    /// Binds a socket at `path`.
    pub fn bind(path: &Path) -> io::Result<NotifySocket> {
        Ok(NotifySocket {
            path: path.to_owned(),
            socket: UnixDatagram::bind(path)?,
            seen: RefCell::new(Vec::new()),
            consumed: Cell::new(0),
        })
    }

    /// Its path, the value for `NOTIFY_SOCKET`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every `KEY=value` field received so far, in order.
    pub fn fields(&self) -> Vec<String> {
        self.seen.borrow().clone()
    }

    /// Waits for field `key` (`READY`, `MAINPID`, ...) in a message and returns its
    /// value: the first such field after those that earlier waits returned, so that
    /// `RELOADING` then `READY` finds the `READY=1` that ends the reload. Gives up
    /// after `timeout`, or once `process` (the one that should send it) has exited.
    pub fn wait_for(
        &self,
        key: &str,
        process: &Pidfd,
        timeout: Duration,
    ) -> Result<String, String> {
        let prefix = format!("{key}=");
        let deadline = Instant::now() + timeout;
        loop {
            let found = self.seen.borrow()[self.consumed.get()..]
                .iter()
                .enumerate()
                .find_map(|(i, field)| Some((i, field.strip_prefix(&prefix)?.to_owned())));
            if let Some((i, value)) = found {
                self.consumed.set(self.consumed.get() + i + 1);
                return Ok(value);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "no {key}= within {timeout:?}; got {:?}",
                    self.fields()
                ));
            }
            let mut fds = [
                PollFd::new(self.socket.as_fd(), PollFlags::POLLIN),
                PollFd::new(process.as_fd(), PollFlags::POLLIN),
            ];
            match poll(
                &mut fds,
                PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX),
            ) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return Err(format!("poll the notify socket: {e}")),
            }
            let readable = |fd: &PollFd<'_>| fd.revents().is_some_and(|r| !r.is_empty());
            if readable(&fds[0]) {
                self.receive();
            } else if readable(&fds[1]) {
                return Err(format!("it exited before sending {key}="));
            }
        }
    }

    fn receive(&self) {
        let mut buf = vec![0u8; 64 * 1024];
        if let Ok(n) = self.socket.recv(&mut buf) {
            let message = String::from_utf8_lossy(&buf[..n]).into_owned();
            self.seen.borrow_mut().extend(
                message
                    .split('\n')
                    .filter(|field| !field.is_empty())
                    .map(str::to_owned),
            );
        }
    }
}

/// An inotify instance with a poll that honours a deadline.
struct Watch {
    inotify: Inotify,
}

impl Watch {
    fn new() -> io::Result<Watch> {
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)?;
        Ok(Watch { inotify })
    }

    fn add(&self, path: &Path, flags: AddWatchFlags) -> io::Result<()> {
        self.inotify.add_watch(path, flags)?;
        Ok(())
    }

    /// Waits for an event until `deadline`; returns `false` once it has passed.
    fn wait(&self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let mut fds = [PollFd::new(self.inotify.as_fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, timeout) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => panic!("poll inotify: {e}"),
        }
        // Drain: the caller looks at the file system again, which says what changed.
        let _ = self.inotify.read_events();
        true
    }
}

const CHANGES: AddWatchFlags = AddWatchFlags::IN_CREATE
    .union(AddWatchFlags::IN_MOVED_TO)
    .union(AddWatchFlags::IN_MODIFY)
    .union(AddWatchFlags::IN_CLOSE_WRITE)
    .union(AddWatchFlags::IN_ATTRIB);

/// Waits until `path` exists (as anything, a dangling symlink included), watching
/// its deepest existing ancestor; returns whether it appeared within `timeout`.
pub fn wait_for_path(path: &Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let watch = Watch::new().expect("inotify_init");
    loop {
        let Some(ancestor) = path.ancestors().skip(1).find(|a| a.is_dir()) else {
            return false;
        };
        // Watch first, then look: a creation cannot slip between the two.
        if watch.add(ancestor, CHANGES).is_err() {
            return path.symlink_metadata().is_ok();
        }
        if path.symlink_metadata().is_ok() {
            return true;
        }
        if !watch.wait(deadline) {
            return false;
        }
    }
}

/// Waits until the file at `path` contains `needle`, woken by inotify whenever its
/// directory changes. Returns the content then, or (on timeout) the content so far.
pub fn wait_for_text(path: &Path, needle: &str, timeout: Duration) -> Result<String, String> {
    let deadline = Instant::now() + timeout;
    let dir = path.parent().unwrap_or(Path::new("/"));
    if !wait_for_path(dir, timeout) {
        return Err(format!("(no directory {})", dir.display()));
    }
    let watch = Watch::new().expect("inotify_init");
    watch.add(dir, CHANGES).expect("watch the directory");
    loop {
        let content = std::fs::read_to_string(path).unwrap_or_default();
        if content.contains(needle) {
            return Ok(content);
        }
        if !watch.wait(deadline) {
            return Err(content);
        }
    }
}

/// Waits until some process has opened the FIFO at `path` for reading, so that a
/// writer's non-blocking open succeeds (`sv` needs `runsv` to read `supervise/ok`).
/// Creation is not enough: a supervisor makes the FIFO, then opens it.
pub fn wait_until_opened(path: &Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    if !wait_for_path(path, timeout) {
        return false;
    }
    let watch = Watch::new().expect("inotify_init");
    watch
        .add(path, AddWatchFlags::IN_OPEN)
        .expect("watch the FIFO");
    loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
        {
            Ok(_) => return true,
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {}
            Err(_) => return false,
        }
        if !watch.wait(deadline) {
            return false;
        }
    }
}

/// Runs `cmd`, a command that follows a log (`journalctl -f`, `docker logs -f`),
/// until a line of its output (standard output and error together) contains
/// `needle`; then kills it and what it started (`nsenter` forks the command it runs). Returns the lines read, `Err` with them if none matched
/// within `timeout` or the output ended.
pub fn follow(
    cmd: &mut Command,
    needle: &str,
    timeout: Duration,
) -> Result<Vec<String>, Vec<String>> {
    let (reader, writer) = io::pipe().expect("pipe");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(writer.try_clone().expect("dup pipe"))
        .stderr(writer)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    // The pipe's write ends must live in the child only, so that its exit ends the
    // reading thread: the command's copies go.
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let killer = Killer::new(child.id());
    let (send, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    let result = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(needle);
                seen.push(line);
                if found {
                    break Ok(seen);
                }
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break Err(seen),
        }
    };
    for pid in descendants(child.id()) {
        crate::kill_hard(pid);
    }
    drop(killer);
    let mut child = child;
    let _ = child.wait();
    result
}

/// The processes below `pid`, deepest last, from `/proc/PID/task/TID/children`.
fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut next = vec![pid];
    while let Some(parent) = next.pop() {
        let tasks = std::fs::read_dir(format!("/proc/{parent}/task"))
            .into_iter()
            .flatten()
            .flatten();
        for task in tasks {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                found.push(child);
                next.push(child);
            }
        }
    }
    found
}
