//! The daemon's log files (`stdout`, `stderr`): opened once before the fork, while still
//! privileged, through [`sys::fs`](crate::sys::fs) (no planted symlink or hard link is
//! followed, a new file is the service user's), and reopened by name on SIGHUP (for
//! logrotate) by the same rules, without allocating, from the signal handler.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::sys::stat::Mode;

use crate::error::Error;
use crate::sys::fs::{Access, Create, Parent, Trusted};
use crate::sys::procfs::FileId;
use crate::sys::user::Identity;

/// A log file opened before the fork, with its directory and name, so that SIGHUP can
/// reopen it by name.
#[derive(Debug)]
pub(crate) struct LogFile {
    pub(crate) file: File,
    path: PathBuf,
    /// `None` once given up for a `chroot` that leaves the file outside: it is then
    /// not reopened.
    parent: Option<Parent>,
    how: Create,
}

impl LogFile {
    /// Opens the log file at `path` (absolute) for appending. A file this call creates
    /// is handed to the daemon's user (on the open descriptor, never by path) so that
    /// it can reopen it on SIGHUP; an existing one must belong to root, this user or
    /// the daemon's.
    pub(crate) fn open(
        key: &'static str,
        path: &Path,
        identity: Option<&Identity>,
    ) -> Result<LogFile, Error> {
        let what = match key {
            "stdout" => "stdout log file",
            _ => "stderr log file",
        };
        let how = Create {
            access: Access::Append,
            mode: Mode::from_bits_truncate(0o640),
            owner: identity.map(|id| (id.uid, id.gid)),
            trusted: Trusted::new(identity.map(|id| id.uid)),
        };
        let refused = |r| Error::refused(what, r);
        let parent = Parent::walk(path).map_err(refused)?;
        let file = parent.create_or_open(&how).map_err(refused)?.file;
        Ok(LogFile {
            file,
            path: path.to_owned(),
            parent: Some(parent),
            how,
        })
    }

    /// The descriptors the daemon keeps until stdio points at the file.
    pub(crate) fn fds(&self) -> impl Iterator<Item = RawFd> + '_ {
        let dir = self.parent.as_ref().map(|p| p.dir().as_raw_fd());
        std::iter::once(self.file.as_raw_fd()).chain(dir)
    }

    /// Before `chroot`: lets go of the directory, opened outside the jail, where it
    /// could be used to climb out.
    pub(crate) fn leave_dir(&mut self) {
        self.parent = None;
    }

    /// After `chroot(jail)`: the file's directory seen from inside the jail, if the file
    /// is there, so that SIGHUP can still reopen it.
    pub(crate) fn reopen_dir_in_jail(&mut self, jail: &Path) {
        let Ok(inside) = self.path.strip_prefix(jail) else {
            return;
        };
        let Ok(parent) = Parent::walk(&Path::new("/").join(inside)) else {
            return;
        };
        let same =
            parent.stat().ok().flatten().map(|st| FileId::of(&st)) == FileId::of_file(&self.file);
        if same {
            self.parent = Some(parent);
        }
    }

    /// What SIGHUP needs to reopen the file: its directory, its name, and how; `None`
    /// if the file is out of reach (outside a chroot).
    pub(crate) fn into_reopen(self) -> Option<Reopen> {
        let (dir, name) = self.parent?.into_parts();
        Some(Reopen {
            dir,
            name,
            how: self.how,
        })
    }
}

/// A log file as SIGHUP reopens it: everything prepared, so that the handler only makes
/// system calls.
#[derive(Debug)]
pub(crate) struct Reopen {
    pub(crate) dir: OwnedFd,
    pub(crate) name: CString,
    pub(crate) how: Create,
}
