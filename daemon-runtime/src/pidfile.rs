//! The PID file: opened without truncation, locked, written by the daemon itself, and
//! removed on the way out only if it still names this process.
//!
//! The lock, not the file's existence, says whether the daemon runs: `flock` locks
//! belong to the open file description, so the lock taken by the launching process is
//! inherited by the daemon across both forks and dies with it, SIGKILL included. A file
//! whose lock is free is stale and is reused.

use std::ffi::{CString, OsStr};
use std::fs::{File, TryLockError};
use std::io;
use std::os::fd::{AsFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::fcntl::{AtFlags, OFlag, open, openat};
use nix::sys::stat::{FileStat, Mode, fstat, fstatat};
use nix::unistd::{Pid, UnlinkatFlags, ftruncate, unlinkat};

use crate::error::Error;
use crate::sys::time::Deadline;

/// A locked PID file, held by the launching process and then by the daemon.
#[derive(Debug)]
pub(crate) struct PidFile {
    path: PathBuf,
    file: File,
    /// The directory holding the file, so it can still be removed after `chroot`.
    dir: OwnedFd,
    name: CString,
}

/// A PID file's state as seen by a process that does not hold it (stop, status).
#[derive(Debug)]
pub(crate) enum Observed {
    /// There is no file.
    Missing,
    /// Nobody holds the lock: no daemon runs. `pid` is what a stale file still says.
    Free { file: File, pid: Option<u32> },
    /// A process holds the lock. `pid` is what the file says; `None` while the daemon
    /// is starting and has not written it yet.
    Locked { file: File, pid: Option<u32> },
}

impl PidFile {
    /// Opens (creating it with mode 0644 if needed) and locks the PID file at `path`.
    ///
    /// The file is truncated only once the lock is held, so a running daemon's file is
    /// never touched: a locked file gives [`Error::AlreadyRunning`] with the pid it names.
    pub(crate) fn acquire(path: &Path, daemon_name: &str) -> Result<PidFile, Error> {
        let path = std::path::absolute(path).map_err(|source| Error::PidFile {
            action: "resolve",
            path: path.to_owned(),
            source,
        })?;
        let err = |action, source: io::Error| Error::PidFile {
            action,
            path: path.clone(),
            source,
        };
        let (dir, name) = open_parent(&path).map_err(|e| err("open the directory of", e))?;
        // A concurrent `stop` may unlink a stale file between our open and our lock; the
        // lock would then be on an orphaned inode. Retry until the locked file is the
        // one the path names.
        for _ in 0..8 {
            let fd = openat(
                &dir,
                name.as_c_str(),
                OFlag::O_RDWR
                    | OFlag::O_CREAT
                    | OFlag::O_CLOEXEC
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_NOCTTY,
                Mode::from_bits_truncate(0o644),
            )
            .map_err(|e| err("open", e.into()))?;
            let file = File::from(fd);
            match lock_or_holder(&file) {
                Ok(()) => {}
                Err(Held(pid)) => {
                    return Err(Error::AlreadyRunning {
                        name: daemon_name.to_owned(),
                        pid,
                        path,
                    });
                }
                Err(Failed(e)) => return Err(err("lock", e)),
            }
            let named = fstatat(&dir, name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW);
            let held = fstat(&file).map_err(|e| err("inspect", e.into()))?;
            if named.is_ok_and(|named| same_inode(&named, &held)) {
                // Ours now: whatever a dead daemon left in it must not be read as the
                // pid of the process holding the lock.
                ftruncate(&file, 0).map_err(|e| err("truncate", e.into()))?;
                log::debug!("locked PID file {}", path.display());
                return Ok(PidFile {
                    path,
                    file,
                    dir,
                    name,
                });
            }
        }
        Err(err(
            "lock",
            io::Error::other("the file keeps being replaced while it is being locked"),
        ))
    }

    /// The descriptors the daemon must keep open.
    pub(crate) fn fds(&self) -> [RawFd; 2] {
        use std::os::fd::AsRawFd;
        [self.file.as_raw_fd(), self.dir.as_raw_fd()]
    }

    /// Step 9: writes the daemon's pid and makes this the process's PID file (see
    /// [`activate`](Self::activate)).
    pub(crate) fn write_and_activate(self, pid: u32) -> Result<ActiveGuard, Error> {
        self.write_pid(pid)?;
        Ok(self.activate(pid))
    }

    /// Writes `"<pid>\n"`: truncate, then write, through the locked descriptor.
    pub(crate) fn write_pid(&self, pid: u32) -> Result<(), Error> {
        let err = |source| Error::PidFile {
            action: "write the pid to",
            path: self.path.clone(),
            source,
        };
        self.file.set_len(0).map_err(err)?;
        self.file
            .write_all_at(format!("{pid}\n").as_bytes(), 0)
            .map_err(err)?;
        log::debug!("wrote pid {pid} to {}", self.path.display());
        Ok(())
    }

    /// Makes this the process's PID file: removed when the returned guard drops, or by
    /// the signal handlers on a fatal SIGTERM or SIGINT.
    pub(crate) fn activate(self, pid: u32) -> ActiveGuard {
        let active = Active {
            file: self.file,
            dir: self.dir,
            name: self.name,
            pid,
            done: AtomicBool::new(false),
        };
        if ACTIVE.set(active).is_err() {
            // A second daemon start in one process: the first one's file stays in charge.
            log::warn!("a PID file is already active in this process");
        }
        ActiveGuard(())
    }
}

/// Why [`lock_or_holder`] did not get the lock.
enum NotLocked {
    /// Someone holds it; the file names this pid.
    Held(Option<u32>),
    Failed(io::Error),
}
use NotLocked::{Failed, Held};

/// Takes the exclusive lock, or says who holds it.
///
/// A `--status` or `--stop` run looks at the lock by taking a shared one for an
/// instant. When the file names no live process, the holder may be such a look
/// rather than a daemon, so the lock is tried a few more times over a few
/// milliseconds before the start is refused. A file naming a live process is refused
/// at once.
fn lock_or_holder(file: &File) -> Result<(), NotLocked> {
    let deadline = Deadline::after(Duration::from_millis(60));
    let mut wait = Duration::from_millis(1);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(TryLockError::Error(e)) => return Err(Failed(e)),
            Err(TryLockError::WouldBlock) => {
                let pid = read_pid(file);
                let live = pid.is_some_and(|pid| {
                    // Only a hint to skip the retries; the lock decides.
                    let r = nix::sys::signal::kill(Pid::from_raw(pid as i32), None);
                    matches!(r, Ok(()) | Err(nix::errno::Errno::EPERM))
                });
                if live || deadline.passed() {
                    return Err(Held(pid));
                }
                std::thread::sleep(wait);
                wait *= 2;
            }
        }
    }
}

/// Whether some process holds a file's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LockState {
    Free,
    Held,
}

/// Looks at a file's lock without disturbing its holder: takes a shared lock for an
/// instant and releases it at once, so that a starting daemon is not turned away.
pub(crate) fn lock_state(file: &File) -> io::Result<LockState> {
    match file.try_lock_shared() {
        Ok(()) => {
            file.unlock()?;
            Ok(LockState::Free)
        }
        Err(TryLockError::WouldBlock) => Ok(LockState::Held),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// Waits until no process holds `file`'s lock (the daemon's descriptors close as it
/// exits) or `deadline` passes, on a helper thread, because `flock` has no timeout of
/// its own. Used where there are no pidfds.
pub(crate) fn wait_unlocked(file: &File, deadline: Deadline) -> bool {
    let Ok(file) = file.try_clone() else {
        return false;
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let got = file.lock_shared().is_ok();
        let _ = file.unlock();
        let _ = tx.send(got);
    });
    match deadline.remaining() {
        Some(left) => rx.recv_timeout(left).unwrap_or(false),
        None => rx.recv().unwrap_or(false),
    }
}

/// Reads the pid a PID file names, if it names one.
pub(crate) fn read_pid(file: &File) -> Option<u32> {
    let mut buf = [0u8; 32];
    let n = file.read_at(&mut buf, 0).ok()?;
    std::str::from_utf8(&buf[..n])
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&pid| pid > 0)
}

/// Looks at the PID file at `path` without disturbing a daemon that holds it.
pub(crate) fn observe(path: &Path) -> io::Result<Observed> {
    let fd = match open(
        path,
        OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW | OFlag::O_NOCTTY,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(nix::errno::Errno::ENOENT) => return Ok(Observed::Missing),
        Err(e) => return Err(e.into()),
    };
    let file = File::from(fd);
    let pid = read_pid(&file);
    Ok(match lock_state(&file)? {
        LockState::Free => Observed::Free { file, pid },
        LockState::Held => Observed::Locked { file, pid },
    })
}

/// Removes a stale PID file: takes its lock so no daemon can be starting with it, and
/// unlinks it only if the path still names the file that was locked.
pub(crate) fn remove_stale(path: &Path, file: &File) -> io::Result<bool> {
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(false),
        Err(TryLockError::Error(e)) => return Err(e),
    }
    let held = fstat(file)?;
    let named = nix::sys::stat::lstat(path);
    let removed = match named {
        Ok(named) if same_inode(&named, &held) => {
            std::fs::remove_file(path)?;
            true
        }
        _ => false,
    };
    file.unlock()?;
    Ok(removed)
}

/// Whether process `pid` has `file` open (Linux: through `/proc/PID/fd`).
///
/// `None` when that cannot be told: no `/proc`, or no permission to look (a daemon
/// that switched user is not dumpable, so only root may read its fd table).
pub(crate) fn holds_open(pid: u32, file: &File) -> Option<bool> {
    if !cfg!(any(target_os = "linux", target_os = "android")) {
        return None;
    }
    let wanted = fstat(file).ok()?;
    let entries = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    let mut any = false;
    for entry in entries.flatten() {
        any = true;
        if let Ok(st) = nix::sys::stat::stat(&entry.path())
            && same_inode(&st, &wanted)
        {
            return Some(true);
        }
    }
    // An empty listing means we could not see the entries, not that there are none.
    any.then_some(false)
}

fn same_inode(a: &FileStat, b: &FileStat) -> bool {
    a.st_dev == b.st_dev && a.st_ino == b.st_ino
}

/// The directory holding `path`, opened, and the file's name in it: enough to find the
/// file again after `chroot`, when the path no longer resolves (log files use it too).
pub(crate) fn open_parent(path: &Path) -> io::Result<(OwnedFd, CString)> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("/"));
    let name = path
        .file_name()
        .map(OsStr::as_bytes)
        .ok_or_else(|| io::Error::other("the path does not name a file"))?;
    let name = CString::new(name).map_err(|_| io::Error::other("the path contains a NUL byte"))?;
    let dir = open(
        parent,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    Ok((dir, name))
}

/// The PID file of this process, once it is the daemon (or the foreground program).
static ACTIVE: OnceLock<Active> = OnceLock::new();

struct Active {
    file: File,
    dir: OwnedFd,
    name: CString,
    pid: u32,
    done: AtomicBool,
}

/// Removes the active PID file when dropped.
#[derive(Debug)]
pub(crate) struct ActiveGuard(());

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        remove_active();
    }
}

/// Removes this process's PID file if it still names this process; where the directory
/// no longer lets us unlink (privileges dropped, or outside a chroot), truncates it
/// so that it reads "not running". Runs at most once.
///
/// Async-signal-safe: the SIGTERM handler calls it. It only loads atomics, reads the
/// `OnceLock` (an atomic load once set) and makes `fstat`, `fstatat`, `pread`,
/// `unlinkat` and `ftruncate` calls on descriptors opened earlier; it never allocates.
pub(crate) fn remove_active() {
    let Some(active) = ACTIVE.get() else { return };
    if active.done.swap(true, Ordering::SeqCst) {
        return;
    }
    if !active.still_names_us() {
        return;
    }
    if unlinkat(
        &active.dir,
        active.name.as_c_str(),
        UnlinkatFlags::NoRemoveDir,
    )
    .is_err()
    {
        let _ = ftruncate(&active.file, 0);
    }
}

impl Active {
    fn still_names_us(&self) -> bool {
        let (Ok(held), Ok(named)) = (
            fstat(&self.file),
            fstatat(
                &self.dir,
                self.name.as_c_str(),
                AtFlags::AT_SYMLINK_NOFOLLOW,
            ),
        ) else {
            return false;
        };
        if !same_inode(&held, &named) {
            return false;
        }
        let mut expected = [0u8; 12];
        let expected = format_pid(self.pid, &mut expected);
        let mut content = [0u8; 16];
        let read = nix::sys::uio::pread(self.file.as_fd(), &mut content, 0);
        matches!(read, Ok(n) if &content[..n] == expected)
    }
}

/// `"<pid>\n"` in `buf`, without allocating (for use in a signal handler).
fn format_pid(mut pid: u32, buf: &mut [u8; 12]) -> &[u8] {
    let mut at = buf.len() - 1;
    buf[at] = b'\n';
    loop {
        at -= 1;
        buf[at] = b'0' + (pid % 10) as u8;
        pid /= 10;
        if pid == 0 {
            break;
        }
    }
    &buf[at..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_pid_matches_display() {
        for pid in [1, 9, 10, 4242, 4_194_304, u32::MAX] {
            let mut buf = [0u8; 12];
            assert_eq!(format_pid(pid, &mut buf), format!("{pid}\n").as_bytes());
        }
    }

    #[test]
    fn second_acquire_reports_the_holder_and_leaves_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pid");
        let first = PidFile::acquire(&path, "x").unwrap();
        first.write_pid(4242).unwrap();
        let err = PidFile::acquire(&path, "x").unwrap_err();
        assert!(
            matches!(
                err,
                Error::AlreadyRunning {
                    pid: Some(4242),
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "4242\n");
        assert!(matches!(
            observe(&path).unwrap(),
            Observed::Locked {
                pid: Some(4242),
                ..
            }
        ));
    }

    #[test]
    fn stale_file_is_reused_and_cleared_under_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pid");
        std::fs::write(&path, "999999\n").unwrap();
        assert!(matches!(
            observe(&path).unwrap(),
            Observed::Free {
                pid: Some(999999),
                ..
            }
        ));
        let file = PidFile::acquire(&path, "x").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        assert!(matches!(
            observe(&path).unwrap(),
            Observed::Locked { pid: None, .. }
        ));
        drop(file);
        assert!(matches!(
            observe(&path).unwrap(),
            Observed::Free { pid: None, .. }
        ));
    }

    #[test]
    fn symlinked_pid_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "keep").unwrap();
        let path = dir.path().join("x.pid");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        let err = PidFile::acquire(&path, "x").unwrap_err();
        assert!(err.to_string().starts_with("cannot open PID file"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    }

    #[test]
    fn remove_stale_only_when_unlocked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pid");
        let held = PidFile::acquire(&path, "x").unwrap();
        let Observed::Locked { file, .. } = observe(&path).unwrap() else {
            panic!("expected a locked file")
        };
        assert!(!remove_stale(&path, &file).unwrap());
        assert!(path.exists());
        drop(held);
        assert!(remove_stale(&path, &file).unwrap());
        assert!(!path.exists());
    }
}
