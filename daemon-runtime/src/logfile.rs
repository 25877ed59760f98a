//! The daemon's log files (`stdout`, `stderr`): opened once before the fork, while still
//! privileged, and reopened by name on SIGHUP (for logrotate) by the same function, which
//! allocates nothing so that the signal handler may call it.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid, fchown};

use crate::error::Error;
use crate::sys::user::Identity;

/// A log file opened before the fork, with its directory and name, so that SIGHUP can
/// reopen it by name even inside a chroot.
#[derive(Debug)]
pub(crate) struct LogFile {
    pub(crate) file: File,
    pub(crate) dir: OwnedFd,
    pub(crate) name: CString,
}

impl LogFile {
    /// Opens the log file at `path` for appending. A file this call creates is handed to
    /// the daemon's user (on the open descriptor, never by path) so that it can reopen
    /// it on SIGHUP.
    pub(crate) fn open(
        key: &'static str,
        path: &Path,
        identity: Option<&Identity>,
    ) -> Result<LogFile, Error> {
        let error = |source: io::Error| Error::LogFile {
            key,
            path: path.to_owned(),
            source,
        };
        let (dir, name) = crate::pidfile::open_parent(path).map_err(error)?;
        let owner = identity.map(|id| (id.uid, id.gid));
        let fd = open_in(dir.as_fd(), &name, owner).map_err(|e| error(e.into()))?;
        Ok(LogFile {
            file: File::from(fd),
            dir,
            name,
        })
    }
}

/// Opens log file `name` in directory `dir` for appending, creating it (mode 0640,
/// handed to `owner` if given) if it is missing.
///
/// Async-signal-safe: `openat` and `fchown` on data prepared by the caller; no
/// allocation. The SIGHUP handler reopens rotated logs with it.
pub(crate) fn open_in(
    dir: BorrowedFd<'_>,
    name: &CString,
    owner: Option<(Uid, Gid)>,
) -> Result<OwnedFd, Errno> {
    let flags = OFlag::O_WRONLY | OFlag::O_APPEND | OFlag::O_CLOEXEC | OFlag::O_NOCTTY;
    let mode = Mode::from_bits_truncate(0o640);
    match openat(
        dir,
        name.as_c_str(),
        flags | OFlag::O_CREAT | OFlag::O_EXCL,
        mode,
    ) {
        Ok(fd) => {
            if let Some((uid, gid)) = owner {
                fchown(&fd, Some(uid), Some(gid))?;
            }
            Ok(fd)
        }
        Err(Errno::EEXIST) => openat(dir, name.as_c_str(), flags | OFlag::O_CREAT, mode),
        Err(e) => Err(e),
    }
}
