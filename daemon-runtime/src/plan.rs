//! The plan made before the fork: steps 1 to 4, in the launching process, where an
//! error still reaches the terminal. Users and groups are resolved to ids, directories
//! checked, the PID file locked, log files and `/dev/null` opened; the forked daemon
//! then only carries the plan out.

use std::io;
use std::path::{Path, PathBuf};

use nix::sys::stat::{Mode, umask};
use nix::unistd::{chdir, chroot};

use crate::error::Error;
use crate::logfile::LogFile;
use crate::pidfile::PidFile;
use crate::settings::{Origin, Settings, Sourced};
use crate::sys::stdio;
use crate::sys::user::{self, Identity};

/// Everything the launcher resolves and opens before the fork.
pub(crate) struct Plan {
    pub(crate) identity: Option<Identity>,
    chroot: Option<PathBuf>,
    dir: Option<PathBuf>,
    umask: u32,
    pub(crate) pid_file: Option<PidFile>,
    pub(crate) stdout: Option<LogFile>,
    pub(crate) stderr: Option<LogFile>,
    /// For the detached daemon's stdio.
    pub(crate) dev_null: Option<std::os::fd::OwnedFd>,
}

impl Plan {
    /// Steps 1 to 4: users, directories, the PID file lock, the log files.
    pub(crate) fn prepare(settings: &Settings) -> Result<Plan, Error> {
        let identity = user::resolve(settings.user.as_ref(), settings.group.as_ref())?;
        let chroot = settings.chroot.as_ref().map(jail).transpose()?;
        let dir = settings
            .dir
            .as_ref()
            .map(|dir| working_dir(dir, chroot.as_deref()))
            .transpose()?;
        let pid_file = match settings.pid_file.value.path() {
            Some(path) => Some(PidFile::acquire(path, &settings.name.value)?),
            None => None,
        };
        let detach = settings.daemon.value;
        let open_log = |key, value: &Option<Sourced<PathBuf>>| match value {
            Some(log) if detach => {
                LogFile::open(key, &absolute(&log.value), identity.as_ref()).map(Some)
            }
            _ => Ok(None),
        };
        Ok(Plan {
            stdout: open_log("stdout", &settings.stdout)?,
            stderr: open_log("stderr", &settings.stderr)?,
            dev_null: detach.then(stdio::open_dev_null).transpose()?,
            identity,
            chroot,
            dir,
            umask: settings.umask.value,
            pid_file,
        })
    }

    /// Step 7: chroot (then `/` inside it), the working directory, the umask.
    pub(crate) fn enter_directories(&self, detached: bool) -> Result<(), Error> {
        if let Some(root) = &self.chroot {
            chroot(root).map_err(|e| Error::sys(format!("chroot {}", root.display()), e))?;
            chdir("/").map_err(|e| Error::sys("chdir / in the chroot", e))?;
            log::debug!("chrooted to {}", root.display());
        }
        let dir = match (&self.dir, detached) {
            (Some(dir), _) => Some(dir.as_path()),
            // A daemon must not keep a mount point busy.
            (None, true) => Some(Path::new("/")),
            (None, false) => None,
        };
        if let Some(dir) = dir {
            chdir(dir).map_err(|e| Error::sys(format!("chdir {}", dir.display()), e))?;
            log::debug!("working directory is {}", dir.display());
        }
        umask(Mode::from_bits_truncate(self.umask as libc::mode_t));
        log::debug!("umask is {:03o}", self.umask);
        Ok(())
    }
}

/// The chroot directory: absolute, existing, and only for root.
fn jail(setting: &Sourced<PathBuf>) -> Result<PathBuf, Error> {
    let path = absolute(&setting.value);
    check_dir("chroot", &path, &setting.origin)?;
    if !nix::unistd::geteuid().is_root() {
        return Err(Error::NotPermitted {
            action: format!("chroot to {}", path.display()),
            reason: "only root may chroot".to_owned(),
        });
    }
    Ok(path)
}

/// The working directory, as the daemon will `chdir` to it: inside the jail it is seen
/// from the jail's root.
fn working_dir(setting: &Sourced<PathBuf>, jail: Option<&Path>) -> Result<PathBuf, Error> {
    let (path, seen_from_here) = match jail {
        Some(root) => {
            let inside = Path::new("/").join(&setting.value);
            let outside = root.join(inside.strip_prefix("/").unwrap_or(&inside));
            (inside, outside)
        }
        None => {
            let path = absolute(&setting.value);
            (path.clone(), path)
        }
    };
    check_dir("dir", &seen_from_here, &setting.origin)?;
    Ok(path)
}

fn check_dir(key: &'static str, path: &Path, origin: &Origin) -> Result<(), Error> {
    let err = |source| Error::Directory {
        key,
        path: path.to_owned(),
        origin: origin.clone(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(err)?;
    if !meta.is_dir() {
        return Err(err(io::Error::from_raw_os_error(libc::ENOTDIR)));
    }
    Ok(())
}

/// The absolute form of `path`, against the current directory: every action (start,
/// stop, status, reload) names the same file whatever the directory it runs from.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}
