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
use crate::logger;
use crate::notify::NotifyFd;
use crate::pidfile::PidFile;
use crate::settings::{Origin, PidFileSetting, Settings, Sourced};
use crate::sys::fs::{self, Trusted};
use crate::sys::user::{self, Identity};

/// Everything the launcher resolves and opens before the fork.
pub(crate) struct Plan {
    /// The logger of the launcher, and of the daemon after the fork.
    pub(crate) logger: logger::setup::Setup,
    /// The supervisor's readiness descriptor (`notify_fd`).
    pub(crate) notify_fd: Option<NotifyFd>,
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
    /// Steps 1 to 4: users, directories, the PID file lock, the log files. The logger
    /// and the supervisor's descriptor were set up before (`logger`, `notify_fd`).
    pub(crate) fn prepare(
        settings: &Settings,
        logger: logger::setup::Setup,
        notify_fd: Option<NotifyFd>,
    ) -> Result<Plan, Error> {
        let identity = user::resolve(settings.user.as_ref(), settings.group.as_ref())?;
        let chroot = settings.chroot.as_ref().map(jail).transpose()?;
        let dir = settings
            .dir
            .as_ref()
            .map(|dir| working_dir(dir, chroot.as_deref()))
            .transpose()?;
        let trusted = Trusted::new(identity.as_ref().map(|id| id.uid));
        say_where_the_default_pid_file_is(&settings.pid_file);
        let pid_file = match settings.pid_file.value.path() {
            Some(path) => Some(PidFile::acquire(path, &settings.name.value, trusted)?),
            None => None,
        };
        let outputs = match Outputs::open(settings, identity.as_ref()) {
            Ok(outputs) => outputs,
            Err(e) => {
                // A start that fails leaves no PID file it made.
                if let Some(pid_file) = pid_file {
                    pid_file.abandon();
                }
                return Err(e);
            }
        };
        Ok(Plan {
            logger,
            notify_fd,
            stdout: outputs.stdout,
            stderr: outputs.stderr,
            dev_null: outputs.dev_null,
            identity,
            chroot,
            dir,
            umask: settings.umask.value,
            pid_file,
        })
    }

    /// Step 7: chroot (then `/` inside it), the working directory, the umask.
    pub(crate) fn enter_directories(&mut self, detached: bool) -> Result<(), Error> {
        if let Some(root) = self.chroot.clone() {
            self.enter_jail(&root)?;
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

/// Where a detached daemon's stdio goes: the log files and `/dev/null`.
struct Outputs {
    stdout: Option<LogFile>,
    stderr: Option<LogFile>,
    dev_null: Option<std::os::fd::OwnedFd>,
}

impl Outputs {
    /// Step 5's files; none in the foreground, where stdio is left alone.
    fn open(settings: &Settings, identity: Option<&Identity>) -> Result<Outputs, Error> {
        let detach = settings.daemon.value;
        let open_log = |key, value: &Option<Sourced<PathBuf>>| match value {
            Some(log) if detach => LogFile::open(key, &absolute(&log.value), identity).map(Some),
            _ => Ok(None),
        };
        Ok(Outputs {
            stdout: open_log("stdout", &settings.stdout)?,
            stderr: open_log("stderr", &settings.stderr)?,
            dev_null: detach.then(open_dev_null).transpose()?,
        })
    }
}

impl Plan {
    /// The descriptors of the plan that the daemon keeps through step 5.
    pub(crate) fn kept_fds(&self) -> Vec<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        let mut fds: Vec<_> = self.pid_file.iter().flat_map(PidFile::fds).collect();
        fds.extend(
            self.stdout
                .iter()
                .chain(&self.stderr)
                .flat_map(LogFile::fds),
        );
        fds.extend(self.dev_null.iter().map(AsRawFd::as_raw_fd));
        fds.extend(self.notify_fd.iter().map(NotifyFd::raw_fd));
        fds
    }

    /// `chroot(root)`, then `/` inside it. No directory opened outside the jail
    /// survives into it: the PID file's and log files' directories are let go before,
    /// and found again from inside where the files lie in the jail.
    fn enter_jail(&mut self, root: &Path) -> Result<(), Error> {
        self.pid_file.iter_mut().for_each(PidFile::leave_dir);
        self.logs_mut().for_each(LogFile::leave_dir);
        chroot(root).map_err(|e| Error::sys(format!("chroot {}", root.display()), e))?;
        chdir("/").map_err(|e| Error::sys("chdir / in the chroot", e))?;
        log::debug!("chrooted to {}", root.display());
        if let Some(pid_file) = &mut self.pid_file {
            pid_file.reopen_dir_in_jail(root);
        }
        self.logs_mut().for_each(|log| log.reopen_dir_in_jail(root));
        Ok(())
    }

    fn logs_mut(&mut self) -> impl Iterator<Item = &mut LogFile> {
        self.stdout.iter_mut().chain(self.stderr.iter_mut())
    }
}

/// The default PID file depends on who runs the program and on `$XDG_RUNTIME_DIR`, so
/// where no source named one, the debug log says which it is (or that there is none,
/// which leaves a detached daemon that `--stop` cannot find).
fn say_where_the_default_pid_file_is(pid_file: &Sourced<PidFileSetting>) {
    if pid_file.origin != Origin::Default {
        return;
    }
    match pid_file.value.path() {
        Some(path) => log::debug!("default PID file {} (no pid_file setting)", path.display()),
        None => log::debug!(
            "no PID file: none is set, and there is no default place for one (/run as root, \
             a private $XDG_RUNTIME_DIR otherwise); --stop and --status cannot find this daemon"
        ),
    }
}

/// `/dev/null`, checked to be the null device.
fn open_dev_null() -> Result<std::os::fd::OwnedFd, Error> {
    fs::open_dev_null()
        .map(std::os::fd::OwnedFd::from)
        .map_err(|r| Error::refused("null device", r))
}

/// The chroot directory: absolute, existing, and only for root.
fn jail(setting: &Sourced<PathBuf>) -> Result<PathBuf, Error> {
    let path = absolute(&setting.value);
    check_dir("chroot", &path, None, &setting.origin)?;
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
    let path = match jail {
        Some(_) => Path::new("/").join(&setting.value),
        None => absolute(&setting.value),
    };
    check_dir("dir", &path, jail, &setting.origin)?;
    Ok(path)
}

/// Checks that the directory `path` exists, walking it under the rules of
/// [`sys::fs`](crate::sys::fs) (no other user's symlink followed), as the daemon will
/// see it: inside `jail` if there is one.
fn check_dir(
    key: &'static str,
    path: &Path,
    jail: Option<&Path>,
    origin: &Origin,
) -> Result<(), Error> {
    let opened = match jail {
        Some(jail) => fs::open_dir_in(jail, path),
        None => fs::open_dir(path),
    };
    opened.map(drop).map_err(|refused| {
        let source = refused.errno().map_or_else(
            || io::Error::other(refused.why().to_string()),
            io::Error::from,
        );
        Error::Directory {
            key,
            path: match jail {
                Some(jail) => jail.join(path.strip_prefix("/").unwrap_or(path)),
                None => path.to_owned(),
            },
            origin: origin.clone(),
            source,
        }
    })
}

/// The absolute form of `path`, against the current directory: every action (start,
/// stop, status, reload) names the same file whatever the directory it runs from.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}
