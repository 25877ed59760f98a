//! The PID file and its lock: opened without truncation, locked, written by the daemon
//! itself, and removed on the way out only if it still names this process.
//!
//! The lock, not the file's existence, says whether the daemon runs: `flock` locks
//! belong to the open file description, so the lock taken by the launching process is
//! inherited by the daemon across both forks and dies with it, SIGKILL included. A PID
//! file whose lock is free is stale and is reused.
//!
//! **Who can hold the lock.** `flock` works on any descriptor, a read-only one too, so a
//! lock on the PID file itself could be taken by every user who can read that file
//! (and PID files are world-readable: tools read them), blocking the start or making
//! `--status` lie. The lock is therefore taken on a file beside it, `<pid file>.lock`,
//! mode 0600: only root and the launching user can open it, so only they can block a
//! start. The lock file is left in place when the daemon exits (it holds nothing), and
//! `--status` of a user who cannot open it reads the lock's state from `/proc/locks`.
//! A lock held by a process that is not the daemon is reported with that process's
//! pid, command and user; `--status` says "running" only for the live process the PID
//! file names that holds the lock.
//!
//! Both files are opened through [`sys::fs`](crate::sys::fs): no symlink or hard link
//! an unprivileged user planted is followed or written, and a FIFO cannot hang a look.

use std::ffi::CString;
use std::fs::{File, TryLockError};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::fcntl::AtFlags;
use nix::sys::stat::{Mode, fstat, fstatat};
use nix::unistd::{UnlinkatFlags, ftruncate, unlinkat};

use crate::error::{Error, Holder};
use crate::sys::fs::{Access, Create, Parent, Refused, Trusted};
use crate::sys::procfs::{self, FileId};
use crate::sys::time::Deadline;

/// What the lock file's name adds to the PID file's.
pub(crate) const LOCK_SUFFIX: &str = ".lock";

/// A locked PID file, held by the launching process and then by the daemon.
#[derive(Debug)]
pub(crate) struct PidFile {
    path: PathBuf,
    /// The PID file's directory and name; `None` once given up for a `chroot` that
    /// leaves the file outside.
    parent: Option<Parent>,
    name: CString,
    file: File,
    /// The lock file, locked: the daemon keeps it open as long as it runs.
    lock: File,
    /// Whether this start made the PID file.
    created: bool,
}

impl PidFile {
    /// Takes the lock beside `path`, then opens (creating it with mode 0644 if needed)
    /// the PID file at `path`; `trusted` are the owners an existing file may have.
    ///
    /// The PID file is truncated only once the lock is held, so a running daemon's file
    /// is never touched: a held lock gives [`Error::AlreadyRunning`] with the daemon's
    /// pid, or [`Error::LockHeld`] naming whoever else holds it.
    ///
    /// The lock is taken before the PID file is opened: a stale PID file is removed only
    /// under the lock (by `--stop`), so the file opened once the lock is held is the one
    /// at the path. Opened before, it could be unlinked while this process waited for
    /// the lock, and the daemon would then write its pid into a file nobody can find.
    pub(crate) fn acquire(path: &Path, name: &str, trusted: Trusted) -> Result<PidFile, Error> {
        let path = crate::plan::absolute(path);
        let refused = |r: Refused| Error::refused("PID file", r);
        let parent = Parent::walk(&path).map_err(refused)?;
        let how = |mode| Create {
            access: Access::ReadWrite,
            mode: Mode::from_bits_truncate(mode),
            owner: None,
            trusted,
        };
        let lock_parent = parent.sibling(lock_name(parent.name())).map_err(refused)?;
        let lock = lock_parent
            .create_or_open(&how(0o600))
            .map_err(refused)?
            .file;
        if let Err(held) = take(&lock) {
            // Only read, to name the holder: a file that cannot be read names nobody.
            let named = parent.open_to_read().ok().and_then(|(f, _)| read_pid(&f));
            return Err(held.into_error(name, &path, named, &lock));
        }
        let opened = parent.create_or_open(&how(0o644)).map_err(refused)?;
        let (file, created) = (opened.file, opened.created);
        // Ours now: whatever a dead daemon left in it must not be read as the pid of the
        // process holding the lock. (A new, empty file is left alone: on ext4 a file cut
        // to zero and then written is flushed on its next close, which costs a stop.)
        if file.metadata().is_ok_and(|meta| meta.len() > 0) {
            ftruncate(&file, 0).map_err(|e| Error::PidFile {
                action: "truncate",
                path: path.clone(),
                source: e.into(),
            })?;
        }
        log::debug!("locked PID file {}", path.display());
        Ok(PidFile {
            name: parent.name().to_owned(),
            parent: Some(parent),
            path,
            file,
            lock,
            created,
        })
    }

    /// Gives the file up before the daemon started: removed if this start created it
    /// (it is empty), so that a start refused later leaves nothing behind.
    pub(crate) fn abandon(self) {
        if self.created
            && let Some(parent) = &self.parent
        {
            let _ = parent.unlink_if_same(&self.file);
        }
    }

    /// The descriptors the daemon must keep open.
    pub(crate) fn fds(&self) -> Vec<RawFd> {
        let mut fds = vec![self.file.as_raw_fd(), self.lock.as_raw_fd()];
        fds.extend(self.parent.iter().map(|p| p.dir().as_raw_fd()));
        fds
    }

    /// Before `chroot(jail)`: lets go of the directory, opened outside the jail, where
    /// it could be used to climb out (`openat(dir, "../..")`); if the file lies inside
    /// the jail, [`reopen_dir_in_jail`](Self::reopen_dir_in_jail) finds it again from
    /// there. The PID file and lock descriptors stay: they are files, not a way out.
    pub(crate) fn leave_dir(&mut self) {
        self.parent = None;
    }

    /// After `chroot(jail)`: the file's directory, seen from inside the jail, if the
    /// file is there; so that the daemon can still remove it on the way out.
    pub(crate) fn reopen_dir_in_jail(&mut self, jail: &Path) {
        self.parent = reopen_in_jail(&self.path, jail, &self.file);
    }

    /// Step 9: writes the daemon's pid and makes this the process's PID file (see
    /// [`activate`](Self::activate)).
    pub(crate) fn write_and_activate(self, pid: u32) -> Result<ActiveGuard, Error> {
        self.write_pid(pid)?;
        Ok(self.activate(pid))
    }

    /// Writes `"<pid>\n"` through the locked descriptor: written over the start, then
    /// cut to its length (the file is empty by now; nothing is ever truncated to zero
    /// and rewritten, which ext4 flushes on close).
    pub(crate) fn write_pid(&self, pid: u32) -> Result<(), Error> {
        let err = |source| Error::PidFile {
            action: "write the pid to",
            path: self.path.clone(),
            source,
        };
        let text = format!("{pid}\n");
        self.file.write_all_at(text.as_bytes(), 0).map_err(err)?;
        self.file.set_len(text.len() as u64).map_err(err)?;
        log::debug!("wrote pid {pid} to {}", self.path.display());
        Ok(())
    }

    /// Makes this the process's PID file: removed when the returned guard drops, or by
    /// the signal handlers on a fatal SIGTERM or SIGINT.
    pub(crate) fn activate(self, pid: u32) -> ActiveGuard {
        let active = Active {
            file: self.file,
            lock: self.lock,
            dir: self.parent.map(|p| p.into_parts().0),
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

/// `<name>.lock`.
fn lock_name(name: &std::ffi::CStr) -> CString {
    let mut bytes = name.to_bytes().to_vec();
    bytes.extend_from_slice(LOCK_SUFFIX.as_bytes());
    // The name had no NUL, and the suffix has none.
    CString::new(bytes).unwrap_or_default()
}

/// The directory of `path` seen from inside `jail`, if `path` lies there and still
/// names `file` seen from there.
fn reopen_in_jail(path: &Path, jail: &Path, file: &File) -> Option<Parent> {
    let inside = Path::new("/").join(path.strip_prefix(jail).ok()?);
    let parent = Parent::walk(&inside).ok()?;
    let named = parent.stat().ok()??;
    (FileId::of(&named) == FileId::of_file(file)?).then_some(parent)
}

/// Why [`take`] did not get the lock.
enum NotLocked {
    Held,
    Failed(io::Error),
}

/// Takes the exclusive lock.
///
/// A `--status` or `--stop` run looks at the lock by taking a shared one for an
/// instant; such a look must not turn a start away, so a held lock is tried a few more
/// times over a few milliseconds before the start is refused.
fn take(lock: &File) -> Result<(), NotLocked> {
    let deadline = Deadline::after(Duration::from_millis(60));
    let mut wait = Duration::from_millis(1);
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(()),
            Err(TryLockError::Error(e)) => return Err(NotLocked::Failed(e)),
            Err(TryLockError::WouldBlock) if deadline.passed() => return Err(NotLocked::Held),
            Err(TryLockError::WouldBlock) => {
                std::thread::sleep(wait);
                wait *= 2;
            }
        }
    }
}

impl NotLocked {
    fn into_error(self, name: &str, path: &Path, named: Option<u32>, lock: &File) -> Error {
        match self {
            NotLocked::Failed(source) => Error::PidFile {
                action: "lock",
                path: path.to_owned(),
                source,
            },
            NotLocked::Held => match holder(named, lock) {
                Holder::Daemon(pid) => Error::AlreadyRunning {
                    name: name.to_owned(),
                    pid: Some(pid),
                    path: path.to_owned(),
                },
                Holder::Unknown => Error::AlreadyRunning {
                    name: name.to_owned(),
                    pid: None,
                    path: path.to_owned(),
                },
                other => Error::LockHeld {
                    name: name.to_owned(),
                    path: path.to_owned(),
                    holder: other,
                },
            },
        }
    }
}

/// Who holds a lock: the pid the PID file names, if it is a live process holding the
/// lock file; otherwise a live process that `/proc/locks` names for it.
pub(crate) fn holder(named: Option<u32>, lock: &File) -> Holder {
    let Some(id) = FileId::of_file(lock) else {
        return Holder::Unknown;
    };
    holder_of(named, id)
}

/// [`holder`] by the lock file's identity (for a user who cannot open it).
pub(crate) fn holder_of(named: Option<u32>, id: FileId) -> Holder {
    let holds = |pid: u32| procfs::is_live(pid) && procfs::holds_open(pid, id) != Some(false);
    if let Some(pid) = named.filter(|&pid| holds(pid)) {
        return Holder::Daemon(pid);
    }
    let me = procfs::exe(std::process::id());
    let taker = procfs::lock_takers(id)
        .into_iter()
        .find(|&pid| pid != std::process::id() && holds(pid));
    match taker {
        // A launcher of this very program that has not written its pid yet.
        Some(pid) if me.is_some() && procfs::exe(pid) == me => Holder::Daemon(pid),
        Some(pid) => Holder::Other {
            pid,
            command: procfs::command(pid),
            uid: procfs::uid(pid),
        },
        None => Holder::Unknown,
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
/// exits) or `deadline` passes, looking every few milliseconds: `flock` has no timeout of
/// its own. Used only where there are no pidfds, which wait without looking.
pub(crate) fn wait_unlocked(file: &File, deadline: Deadline) -> bool {
    loop {
        match lock_state(file) {
            Ok(LockState::Free) => return true,
            Ok(LockState::Held) if !deadline.passed() => {
                std::thread::sleep(Duration::from_millis(5));
            }
            _ => return false,
        }
    }
}

/// The lock file as a process that does not hold it sees it.
#[derive(Debug)]
pub(crate) struct Lock {
    /// Open if this process may open it (root, or the user who made it).
    pub(crate) file: Option<File>,
    pub(crate) id: FileId,
}

/// A PID file's state as seen by a process that does not hold it (stop, status).
#[derive(Debug)]
pub(crate) enum Observed {
    /// There is no PID file, and no lock held.
    Missing,
    /// Nobody holds the lock: no daemon runs. The PID file is stale: `pid` is what it
    /// still says.
    Free { stale: FileId, pid: Option<u32> },
    /// A process holds the lock. `pid` is what the PID file says; `None` while the
    /// daemon is starting and has not written it yet.
    Locked { lock: Lock, pid: Option<u32> },
}

/// Looks at the PID file at `path` without disturbing a daemon that holds it. Refuses
/// what [`sys::fs`](crate::sys::fs) refuses (a FIFO, a device, a symlink planted at
/// the name) rather than reading it.
pub(crate) fn observe(path: &Path) -> Result<Observed, Error> {
    observe_at(&walk(path)?)
}

/// Walks to the directory of the PID file at `path`, for [`observe_at`] and
/// [`remove_stale_at`]: a caller that looks more than once (`--stop`, before the signal
/// and after the exit) walks once.
pub(crate) fn walk(path: &Path) -> Result<Parent, Error> {
    Parent::walk(path).map_err(|r| Error::refused("PID file", r))
}

/// [`observe`] in a directory already walked to.
pub(crate) fn observe_at(parent: &Parent) -> Result<Observed, Error> {
    let refused = |r: Refused| Error::refused("PID file", r);
    let pid_file = match parent.open_to_read() {
        Ok((file, st)) => Some((read_pid(&file), FileId::of(&st))),
        Err(r) if r.is_missing() => None,
        Err(r) => return Err(refused(r)),
    };
    let lock_parent = parent.sibling(lock_name(parent.name())).map_err(refused)?;
    let (held, lock) = look_at_lock(&lock_parent).map_err(refused)?;
    let pid = pid_file.and_then(|(pid, _)| pid);
    Ok(match (held, lock, pid_file) {
        (LockState::Held, Some(lock), _) => Observed::Locked { lock, pid },
        (_, _, Some((pid, stale))) => Observed::Free { stale, pid },
        _ => Observed::Missing,
    })
}

/// Whether the lock file is locked, and the lock file itself.
fn look_at_lock(lock: &Parent) -> Result<(LockState, Option<Lock>), Refused> {
    let Some(st) = lock.stat()? else {
        return Ok((LockState::Free, None));
    };
    let id = FileId::of(&st);
    match lock.open_to_read() {
        Ok((file, _)) => {
            let state = lock_state(&file).map_err(|e| io_refusal(lock, e))?;
            let file = Some(file);
            Ok((state, Some(Lock { file, id })))
        }
        // Not ours to open (mode 0600): /proc/locks tells whether anyone holds it.
        Err(r) if r.errno() == Some(nix::errno::Errno::EACCES) => {
            let state = match procfs::lock_takers(id).is_empty() {
                true => LockState::Free,
                false => LockState::Held,
            };
            Ok((state, Some(Lock { file: None, id })))
        }
        Err(r) => Err(r),
    }
}

fn io_refusal(at: &Parent, e: io::Error) -> Refused {
    at.refused(crate::sys::fs::Fault::Sys {
        op: crate::sys::fs::Op::Inspect,
        errno: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    })
}

/// Removes a stale PID file: takes the lock so that no daemon can be starting with it,
/// and unlinks the PID file only if its name still refers to `stale`, the file that was
/// seen stale.
pub(crate) fn remove_stale(path: &Path, stale: FileId) -> Result<bool, Error> {
    remove_stale_at(&walk(path)?, stale)
}

/// [`remove_stale`] in a directory already walked to.
pub(crate) fn remove_stale_at(parent: &Parent, stale: FileId) -> Result<bool, Error> {
    let refused = |r: Refused| Error::refused("PID file", r);
    let path = parent.path();
    let lock_parent = parent.sibling(lock_name(parent.name())).map_err(refused)?;
    let lock = match lock_parent.open_to_read() {
        Ok((file, _)) => Some(file),
        Err(r) if r.is_missing() => None,
        Err(r) => return Err(refused(r)),
    };
    if let Some(lock) = &lock {
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(false),
            Err(TryLockError::Error(e)) => return Err(pid_file_error("lock", path, e)),
        }
    }
    let removed = match parent.stat().map_err(refused)? {
        Some(named) if FileId::of(&named) == stale => {
            unlinkat(parent.dir(), parent.name(), UnlinkatFlags::NoRemoveDir)
                .map(|()| true)
                .map_err(|e| pid_file_error("remove", path, e.into()))?
        }
        _ => false,
    };
    if let Some(lock) = lock {
        let _ = lock.unlock();
    }
    Ok(removed)
}

fn pid_file_error(action: &'static str, path: &Path, source: io::Error) -> Error {
    Error::PidFile {
        action,
        path: path.to_owned(),
        source,
    }
}

/// The PID file of this process, once it is the daemon (or the foreground program).
static ACTIVE: OnceLock<Active> = OnceLock::new();

struct Active {
    file: File,
    /// Held open for the daemon's life: closing it would release the lock.
    #[allow(dead_code)]
    lock: File,
    /// `None` under a chroot that leaves the file outside: it is then only emptied.
    dir: Option<OwnedFd>,
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
    if !active.names_us() {
        return;
    }
    let unlinked = active.dir.as_ref().is_some_and(|dir| {
        active.still_named(dir)
            && unlinkat(dir, active.name.as_c_str(), UnlinkatFlags::NoRemoveDir).is_ok()
    });
    if !unlinked {
        let _ = ftruncate(&active.file, 0);
    }
}

impl Active {
    /// Whether the file still says `"<our pid>\n"`.
    fn names_us(&self) -> bool {
        let mut expected = [0u8; 12];
        let expected = format_pid(self.pid, &mut expected);
        let mut content = [0u8; 16];
        let read = nix::sys::uio::pread(self.file.as_fd(), &mut content, 0);
        matches!(read, Ok(n) if &content[..n] == expected)
    }

    /// Whether the name in `dir` still refers to our file (not one put in its place).
    fn still_named(&self, dir: &OwnedFd) -> bool {
        let named = fstatat(dir, self.name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW);
        match (fstat(&self.file), named) {
            (Ok(held), Ok(named)) => held.st_dev == named.st_dev && held.st_ino == named.st_ino,
            _ => false,
        }
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

    fn trusted() -> Trusted {
        Trusted::new(None)
    }

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
        let first = PidFile::acquire(&path, "x", trusted()).unwrap();
        let me = std::process::id();
        first.write_pid(me).unwrap();
        let err = PidFile::acquire(&path, "x", trusted()).unwrap_err();
        assert!(
            matches!(err, Error::AlreadyRunning { pid: Some(pid), .. } if pid == me),
            "{err:?}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{me}\n"));
        assert!(matches!(
            observe(&path).unwrap(),
            Observed::Locked { pid: Some(pid), .. } if pid == me
        ));
    }

    #[test]
    fn a_pid_that_does_not_hold_the_lock_is_not_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pid");
        let first = PidFile::acquire(&path, "x", trusted()).unwrap();
        // A pid above any pid_max: not a live process, so not the holder.
        first.write_pid(4_000_000_000).unwrap();
        let err = PidFile::acquire(&path, "x", trusted()).unwrap_err();
        assert!(!err.to_string().contains("4000000000"), "{err}");
        assert_eq!(err.exit_code(), crate::error::exit::TEMPFAIL);
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
        let file = PidFile::acquire(&path, "x", trusted()).unwrap();
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
    fn the_lock_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pid");
        let _held = PidFile::acquire(&path, "x", trusted()).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o644);
        assert_eq!(mode(&dir.path().join("x.pid.lock")), 0o600);
    }

    #[test]
    fn symlinked_pid_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "keep").unwrap();
        let path = dir.path().join("x.pid");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        let err = PidFile::acquire(&path, "x", trusted()).unwrap_err();
        assert!(err.to_string().starts_with("refusing PID file"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    }

    #[test]
    fn remove_stale_only_when_unlocked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pid");
        let held = PidFile::acquire(&path, "x", trusted()).unwrap();
        let id = FileId::of(&fstat(&held.file).unwrap());
        assert!(!remove_stale(&path, id).unwrap());
        assert!(path.exists());
        drop(held);
        assert!(remove_stale(&path, id).unwrap());
        assert!(!path.exists());
    }
}
