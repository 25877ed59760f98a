//! The builder, the start-up sequence of daemon(7), and the running daemon's handle.
//!
//! Every step that can fail for a reason the operator can fix (a user, a directory, the
//! PID file, a log file) happens in the launching process, before the first fork, where
//! the error still reaches the terminal. What can only fail in the daemon (the
//! privileged action, the privilege drop) is reported back through the readiness pipe.

use std::error::Error as StdError;
use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
#[cfg(feature = "config")]
use std::sync::OnceLock;
use std::time::Duration;

use nix::fcntl::{OFlag, openat};
use nix::sys::signal::Signal;
use nix::sys::stat::{Mode, umask};
use nix::unistd::{Pid, chdir, chroot, getpid, setsid};

use crate::cli::{Action, DaemonArgs};
#[cfg(feature = "config")]
use crate::config::{Config, KeyLines};
use crate::control::{self, Status, Stopped};
use crate::error::{Error, exit};
use crate::pidfile::{ActiveGuard, PidFile};
use crate::privileges::{self, Identity};
use crate::process::{self, Forked};
use crate::readiness::{self, Notifier, Report};
use crate::settings::{self, Layer, Options, Settings, Source};
use crate::signals::{self, Shutdown};

type BoxError = Box<dyn StdError + Send + Sync>;
type PrivilegedAction<T> = Box<dyn FnOnce() -> Result<T, BoxError>>;

/// When the launching process is told that the daemon is ready.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Readiness {
    /// As soon as the start-up sequence is done (privileges dropped).
    #[default]
    Auto,
    /// When the program calls [`ready`](crate::ready) (for example once it has bound
    /// its sockets), or fails with [`Daemon::fail`]. Returning from the program before
    /// either also tells the launcher.
    Manual,
}

/// Configures and starts a daemon. Start with [`Daemon::builder`].
///
/// Setters give the values "set in code"; the config file, the command-line flags
/// ([`args`](Self::args)) and [`force`](Self::force) can override them, in that order.
///
/// ```no_run
/// use daemon_runtime::Daemon;
///
/// let daemon = Daemon::builder()
///     .pid_file("/run/hello.pid")
///     .user("nobody")
///     .umask(0o027)
///     .detach(true)
///     .start()
///     .unwrap_or_else(|e| e.exit("hello"));
/// // Only the daemon gets here; the launcher exited 0 once it was ready.
/// let shutdown = daemon.shutdown();
/// shutdown.wait();
/// ```
#[must_use = "a builder does nothing until `start` or `launch` is called"]
pub struct Builder<T = ()> {
    code: Options,
    code_source: Source,
    forced: Options,
    args: Option<DaemonArgs>,
    #[cfg(feature = "config")]
    default_config: Option<PathBuf>,
    default_name: Option<String>,
    keep_fds: Vec<RawFd>,
    readiness: Readiness,
    privileged: PrivilegedAction<T>,
    has_privileged: bool,
}

impl<T> fmt::Debug for Builder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("code", &self.code)
            .field("forced", &self.forced)
            .field("args", &self.args)
            .field("keep_fds", &self.keep_fds)
            .field("readiness", &self.readiness)
            .field("has_privileged", &self.has_privileged)
            .finish_non_exhaustive()
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty => $conv:expr;)*) => {$(
        $(#[$doc])*
        pub fn $name(mut self, value: impl Into<$ty>) -> Self {
            let convert: fn($ty) -> _ = $conv;
            self.code.$name = Some(convert(value.into()));
            self
        }
    )*};
}

impl<T> Builder<T> {
    setters! {
        /// Name used in messages (default: the binary's name).
        name: String => |v| v;
        /// User to run as, by name or uid (default: no change). Needs root.
        user: String => |v| v;
        /// Group to run as, by name or gid (default: the user's primary group).
        group: String => |v| v;
        /// Working directory (default: `/` when detached, unchanged in the foreground).
        dir: PathBuf => |v| v;
        /// PID file (default: none). Relative paths are taken from the launcher's
        /// working directory.
        pid_file: PathBuf => |v| v;
        /// File that receives the daemon's standard output, appended to (default:
        /// `/dev/null` when detached, inherited in the foreground).
        stdout: PathBuf => |v| v;
        /// File that receives the daemon's standard error, appended to.
        stderr: PathBuf => |v| v;
        /// Directory to `chroot` into before dropping privileges (needs root). `dir` is
        /// then taken inside it.
        chroot: PathBuf => |v| v;
        /// How long `stop` waits after SIGTERM before SIGKILL (default: 10 s).
        stop_timeout: Duration => |v| v;
        /// How long the launcher waits for the daemon to report ready (default: 30 s).
        start_timeout: Duration => |v| v;
    }

    /// File mode creation mask (default: `0o027`). At most `0o777`.
    pub fn umask(mut self, mask: u32) -> Self {
        self.code.umask = Some(mask);
        self
    }

    /// Whether to detach (the `--daemon` decision; default: no). A program that always
    /// runs as a daemon sets this to `true`; `--daemon` can turn it on, nothing turns a
    /// `true` off.
    pub fn detach(mut self, detach: bool) -> Self {
        self.code.detach = Some(detach);
        self
    }

    /// The command line's daemon flags: overrides, `--config`, and the control action
    /// that [`launch`](Self::launch) performs.
    pub fn args(mut self, args: DaemonArgs) -> Self {
        self.args = Some(args);
        self
    }

    /// Default config file, read when `--config` is not given. A missing default file
    /// is fine; a missing `--config` file is an error.
    #[cfg(feature = "config")]
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.default_config = Some(path.into());
        self
    }

    /// Values that override every other source, the command line included.
    pub fn force(mut self, options: Options) -> Self {
        self.forced = options;
        self
    }

    /// Keeps descriptor `fd` open in the daemon (everything else above 2 is closed).
    ///
    /// Descriptors opened before [`start`](Self::start) and not kept are closed in the
    /// daemon: objects that own them must not be used there. Sockets inherited through
    /// systemd's `LISTEN_FDS` are kept without asking.
    pub fn keep_fd(mut self, fd: &impl AsRawFd) -> Self {
        self.keep_fds.push(fd.as_raw_fd());
        self
    }

    /// When to tell the launcher the daemon is ready (default: [`Readiness::Auto`]).
    pub fn readiness(mut self, readiness: Readiness) -> Self {
        self.readiness = readiness;
        self
    }

    /// Runs `action` in the daemon, as the original user, after the PID file names the
    /// daemon and before privileges drop; its value is handed to the daemon through
    /// [`Daemon::take_privileged`]. Bind port 80 as root, then serve as `nobody`.
    ///
    /// An error stops the start: the launcher prints it and exits with status 69.
    pub fn privileged_action<U, E, F>(self, action: F) -> Builder<U>
    where
        F: FnOnce() -> Result<U, E> + 'static,
        E: Into<BoxError>,
    {
        Builder {
            code: self.code,
            code_source: self.code_source,
            forced: self.forced,
            args: self.args,
            #[cfg(feature = "config")]
            default_config: self.default_config,
            default_name: self.default_name,
            keep_fds: self.keep_fds,
            readiness: self.readiness,
            privileged: Box::new(move || action().map_err(Into::into)),
            has_privileged: true,
        }
    }

    /// Marks the code-level values as coming from `#[daemonize]`, for messages.
    pub(crate) fn set_by_attribute(mut self) -> Self {
        self.code_source = Source::Attribute;
        self
    }

    /// The name used when no source sets one.
    pub(crate) fn default_name(mut self, name: &str) -> Self {
        self.default_name = Some(name.to_owned());
        self
    }

    fn fallback_name(&self) -> String {
        self.default_name
            .clone()
            .or_else(|| {
                std::env::args_os().next().and_then(|arg0| {
                    Path::new(&arg0)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                })
            })
            .unwrap_or_else(|| "daemon".to_owned())
    }

    /// The name for messages: resolved if the settings resolve, else the fallback.
    fn display_name(&self) -> String {
        self.forced
            .name
            .clone()
            .or_else(|| self.code.name.clone())
            .unwrap_or_else(|| self.fallback_name())
    }

    /// Merges every source into the effective settings, reading the config file.
    pub fn settings(&self) -> Result<Settings, Error> {
        self.load().map(|(settings, _)| settings)
    }

    /// The config file, if one is given: `--config` (required to exist) or the default
    /// path set in code (may be missing), with its `[daemon]` table as options.
    #[cfg(feature = "config")]
    fn read_config(&self) -> Result<Option<ConfigFile>, Error> {
        let config = match (
            self.args.as_ref().and_then(|a| a.config.as_ref()),
            &self.default_config,
        ) {
            (Some(explicit), _) => Config::load(explicit, true)?,
            (None, Some(default)) => Config::load(default, false)?,
            (None, None) => None,
        };
        config
            .map(|config| {
                let (options, lines) = config.daemon_options()?;
                Ok((config, options, lines))
            })
            .transpose()
    }

    #[cfg(not(feature = "config"))]
    fn read_config(&self) -> Result<Option<ConfigFile>, Error> {
        Ok(None)
    }

    fn load(&self) -> Result<(Settings, Option<ConfigFile>), Error> {
        let file = self.read_config()?;
        let flags = self
            .args
            .as_ref()
            .map(DaemonArgs::options)
            .unwrap_or_default();
        let mut layers = vec![Layer {
            options: &self.code,
            source: self.code_source.clone(),
        }];
        #[cfg(feature = "config")]
        if let Some((config, options, lines)) = &file {
            layers.push(Layer {
                options,
                source: Source::File {
                    path: config.path().unwrap_or(Path::new("<config>")).to_owned(),
                    lines: lines.clone(),
                },
            });
        }
        layers.push(Layer {
            options: &flags,
            source: Source::Flags,
        });
        layers.push(Layer {
            options: &self.forced,
            source: Source::Forced,
        });
        let settings = settings::resolve(&layers, &self.fallback_name())?;
        Ok((settings, file))
    }

    /// Performs what the command line asked for.
    ///
    /// Start (in the foreground, or detached with `--daemon`) returns the running
    /// [`Daemon`] in the daemon process; `--stop`, `--status`, `--restart` (in the
    /// launcher) and `--reload` print their outcome and exit the process with its status.
    /// Any error is printed as `name: message` and exits with the error's code (see
    /// [`exit`](crate::exit)); `--status` exits 4 on any error, as LSB asks.
    pub fn launch(self) -> Daemon<T> {
        let name = self.display_name();
        let action = self.args.as_ref().map_or(Action::Start, DaemonArgs::action);
        let verb = match action {
            Action::Start => return self.start().unwrap_or_else(|e| e.exit(&name)),
            Action::Restart => return self.restart().unwrap_or_else(|e| e.exit(&name)),
            Action::Stop => "stop",
            Action::Status => "check",
            Action::Reload => "reload",
        };
        let (settings, path) = self.control_target(verb).unwrap_or_else(|e| {
            e.report(&name);
            std::process::exit(if action == Action::Status {
                4
            } else {
                e.exit_code()
            })
        });
        let name = &settings.name.value;
        match action {
            Action::Stop => {
                let outcome = control::stop(name, &path, settings.stop_timeout.value)
                    .unwrap_or_else(|e| e.exit(name));
                println!("{}", outcome.describe(name, &path));
                std::process::exit(exit::OK)
            }
            Action::Status => {
                let status = control::status(&path);
                println!("{}", status.describe(name, &path));
                std::process::exit(status.exit_code())
            }
            _ => {
                let pid =
                    control::signal(name, &path, Signal::SIGHUP).unwrap_or_else(|e| e.exit(name));
                println!("sent SIGHUP to {name} (pid {pid})");
                std::process::exit(exit::OK)
            }
        }
    }

    /// The settings and the absolute PID file path a control action works on.
    fn control_target(&self, action: &'static str) -> Result<(Settings, PathBuf), Error> {
        let settings = self.settings()?;
        let path = settings
            .pid_file
            .as_ref()
            .map(|p| absolute(&p.value))
            .ok_or_else(|| Error::NoPidFile {
                name: settings.name.value.clone(),
                action,
            })?;
        Ok((settings, path))
    }

    /// Stops the running daemon (see [`control::stop`]).
    pub fn stop(&self) -> Result<Stopped, Error> {
        let (settings, path) = self.control_target("stop")?;
        control::stop(&settings.name.value, &path, settings.stop_timeout.value)
    }

    /// Tells whether the daemon runs (see [`control::status`]).
    pub fn status(&self) -> Result<Status, Error> {
        let (_, path) = self.control_target("check")?;
        Ok(control::status(&path))
    }

    /// Sends SIGHUP to the running daemon; returns its pid.
    pub fn reload(&self) -> Result<u32, Error> {
        let (settings, path) = self.control_target("reload")?;
        control::signal(&settings.name.value, &path, Signal::SIGHUP)
    }

    /// Stops the daemon if it runs, then starts it detached with the same settings.
    pub fn restart(mut self) -> Result<Daemon<T>, Error> {
        // Without a PID file there is nothing to find the old daemon by.
        let (settings, path) = self.control_target("restart")?;
        let outcome = control::stop(&settings.name.value, &path, settings.stop_timeout.value)?;
        log::debug!("{}", outcome.describe(&settings.name.value, &path));
        self.forced.detach = Some(true);
        self.start()
    }

    /// Starts the daemon: validates everything, takes the PID file, then either
    /// detaches (the launching process exits inside this call, 0 once the daemon is
    /// ready) or stays in the foreground.
    ///
    /// Returns in the daemon, or in the foreground process. `Err` only comes back in
    /// the launching process, before anything was forked; report it with
    /// [`Error::exit`].
    pub fn start(self) -> Result<Daemon<T>, Error> {
        let (settings, file) = self.load()?;
        let plan = Plan::prepare(&settings)?;
        #[cfg(feature = "config")]
        if let Some((config, ..)) = file {
            let _ = CONFIG.set(config);
        }
        #[cfg(not(feature = "config"))]
        let _: Option<ConfigFile> = file;
        if settings.detach.value {
            self.start_detached(settings, plan)
        } else {
            self.start_foreground(settings, plan)
        }
    }

    fn start_foreground(self, settings: Settings, plan: Plan) -> Result<Daemon<T>, Error> {
        plan.enter_directories(false)?;
        let pid = getpid().as_raw() as u32;
        let guard = match plan.pid_file {
            Some(pid_file) => {
                pid_file.write_pid(pid)?;
                Some(pid_file.activate(pid))
            }
            None => None,
        };
        let readiness = self.readiness;
        let value = self.run_privileged()?;
        if let Some(identity) = &plan.identity {
            privileges::drop_to(identity)?;
        }
        signals::install()?;
        process::release_freed_heap();
        log::debug!("running in the foreground (pid {pid})");
        match readiness {
            Readiness::Auto => readiness::notify_service_manager(pid),
            Readiness::Manual => set_pending(Pending::ServiceManager(pid)),
        }
        Ok(Daemon {
            value: Some(value),
            settings,
            pid,
            detached: false,
            _pid_file: guard,
        })
    }

    fn start_detached(self, settings: Settings, plan: Plan) -> Result<Daemon<T>, Error> {
        // Whatever sits in the buffers now would otherwise be written by both processes.
        let _ = io::stdout().flush();
        let _ = io::stderr().flush();
        let listen_fds = inherited_listen_fds();
        let (waiter, notifier) = readiness::channel()?;
        match process::fork()? {
            Forked::Parent(child) => {
                drop(notifier);
                await_daemon(child, waiter, &settings)
            }
            Forked::Child => drop(waiter),
        }
        // The intermediate process: a new session, then fork again so that the daemon
        // is not a session leader and can never acquire a controlling terminal.
        if let Err(e) = setsid() {
            fail_and_exit(notifier, &Error::sys("setsid", e), None);
        }
        match process::fork_single_threaded() {
            // `_exit`, not `exit`: this copy of the launcher must not flush or run
            // destructors (daemon(7); the launcher does that itself).
            Ok(Forked::Parent(_)) => process::exit_now(0),
            Ok(Forked::Child) => {}
            Err(e) => fail_and_exit(notifier, &e, None),
        }
        match self.become_daemon(settings, plan, notifier, &listen_fds) {
            Ok(daemon) => Ok(daemon),
            Err((notifier, e, guard)) => fail_and_exit(notifier, &e, guard),
        }
    }

    /// The daemon's half of the sequence, steps 5 to 12 of the design.
    #[allow(clippy::type_complexity)]
    fn become_daemon(
        self,
        settings: Settings,
        plan: Plan,
        notifier: Notifier,
        listen_fds: &[RawFd],
    ) -> Result<Daemon<T>, (Notifier, Error, Option<ActiveGuard>)> {
        let mut keep = vec![notifier.raw_fd()];
        keep.extend(plan.pid_file.iter().flat_map(PidFile::fds));
        for log in plan.stdout.iter().chain(&plan.stderr) {
            keep.extend([log.file.as_raw_fd(), log.dir.as_raw_fd()]);
        }
        keep.extend(plan.dev_null.iter().map(AsRawFd::as_raw_fd));
        keep.extend(&self.keep_fds);
        keep.extend(listen_fds);
        keep.extend(signals::fds());
        process::close_fds_except(&keep);
        let pid = getpid();
        if !listen_fds.is_empty() {
            // SAFETY: the daemon is single-threaded (checked before both forks), so no
            // other thread can be reading the environment.
            unsafe { std::env::set_var("LISTEN_PID", pid.to_string()) };
        }
        let result = (|| {
            process::reset_signals()?;
            plan.enter_directories(true)?;
            process::redirect_stdio(
                plan.dev_null.as_ref().expect("opened for a detached start"),
                plan.stdout.as_ref().map(|log| &log.file),
                plan.stderr.as_ref().map(|log| &log.file),
            )?;
            log::debug!("detached: pid {pid}, session {}", pid_session());
            Ok(())
        })();
        if let Err(e) = result {
            return Err((notifier, e, None));
        }
        let pid = pid.as_raw() as u32;
        let guard = match plan.pid_file {
            Some(pid_file) => {
                if let Err(e) = pid_file.write_pid(pid) {
                    return Err((notifier, e, None));
                }
                Some(pid_file.activate(pid))
            }
            None => None,
        };
        notifier.pid(pid);
        let readiness = self.readiness;
        let result = (|| {
            let value = self.run_privileged()?;
            if let Some(identity) = &plan.identity {
                privileges::drop_to(identity)?;
            }
            signals::set_log_files(
                plan.stdout.map(|log| (log.dir, log.name)),
                plan.stderr.map(|log| (log.dir, log.name)),
            );
            signals::install()?;
            Ok(value)
        })();
        let value = match result {
            Ok(value) => value,
            Err(e) => return Err((notifier, e, guard)),
        };
        process::release_freed_heap();
        match readiness {
            Readiness::Auto => {
                notifier.ready();
                readiness::notify_service_manager(pid);
            }
            Readiness::Manual => set_pending(Pending::Launcher(notifier, pid)),
        }
        Ok(Daemon {
            value: Some(value),
            settings,
            pid,
            detached: true,
            _pid_file: guard,
        })
    }

    fn run_privileged(self) -> Result<T, Error> {
        if self.has_privileged {
            log::debug!("running the privileged action");
        }
        (self.privileged)().map_err(|source| Error::PrivilegedAction { source })
    }
}

fn pid_session() -> String {
    nix::unistd::getsid(None).map_or_else(|e| e.to_string(), |s| s.to_string())
}

/// The absolute form of `path`, against the current directory.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// Removes the PID file, tells the launcher why the start failed, and exits.
fn fail_and_exit(notifier: Notifier, error: &Error, guard: Option<ActiveGuard>) -> ! {
    // The file goes first: once the launcher exits non-zero, nothing is left behind.
    drop(guard);
    notifier.fail(error.exit_code(), &error.to_string());
    process::exit_now(error.exit_code())
}

/// The launching process: reaps the intermediate process, then waits for the daemon's
/// report and exits with the matching status.
fn await_daemon(intermediate: Pid, waiter: readiness::Waiter, settings: &Settings) -> ! {
    let _ = nix::sys::wait::waitpid(intermediate, None);
    let name = &settings.name.value;
    let timeout = settings.start_timeout.value;
    let report = waiter.wait(timeout).unwrap_or_else(|e| e.exit(name));
    let (code, message, pid) = match report {
        Report::Ready { pid } => {
            log::debug!("daemon ready (pid {})", pid.unwrap_or(0));
            std::process::exit(exit::OK)
        }
        Report::Failed { code, message, pid } => (code, message, pid),
        Report::Silent { pid } => (
            exit::SOFTWARE,
            format!(
                "the daemon{} exited during start-up without saying why",
                pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
            ),
            pid,
        ),
        Report::TimedOut { pid } => {
            let killed = pid.is_some_and(|pid| control::kill(pid, Signal::SIGKILL).is_ok());
            (
                exit::UNAVAILABLE,
                format!(
                    "the daemon{} did not report ready within {:?} (start_timeout){}",
                    pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
                    timeout,
                    if killed { "; killed it" } else { "" }
                ),
                pid,
            )
        }
    };
    // A failed daemon exits right after it reports; make sure it has, so that a
    // non-zero exit of the launcher means nothing is left running.
    if let Some(pid) = pid {
        control::await_exit(pid, Duration::from_secs(5));
    }
    eprintln!("{name}: {message}");
    std::process::exit(code)
}

/// Sockets passed by systemd socket activation to this very process.
fn inherited_listen_fds() -> Vec<RawFd> {
    let ours = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        == Some(std::process::id());
    let count = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.parse::<RawFd>().ok())
        .unwrap_or(0);
    if ours {
        (3..3 + count).collect()
    } else {
        Vec::new()
    }
}

/// Everything the launcher resolves and opens before the fork.
struct Plan {
    identity: Option<Identity>,
    chroot: Option<PathBuf>,
    dir: Option<PathBuf>,
    umask: u32,
    pid_file: Option<PidFile>,
    stdout: Option<LogFile>,
    stderr: Option<LogFile>,
    /// For the detached daemon's stdio.
    dev_null: Option<OwnedFd>,
}

impl Plan {
    /// Steps 1 to 4: users, directories, the PID file lock, the log files.
    fn prepare(settings: &Settings) -> Result<Plan, Error> {
        let identity = privileges::resolve(settings.user.as_ref(), settings.group.as_ref())?;
        let chroot = match &settings.chroot {
            Some(c) => {
                let path = absolute(&c.value);
                check_dir("chroot", &path, &c.origin)?;
                if !nix::unistd::geteuid().is_root() {
                    return Err(Error::NotPermitted {
                        action: format!("chroot to {}", path.display()),
                        reason: "only root may chroot".to_owned(),
                    });
                }
                Some(path)
            }
            None => None,
        };
        let dir = match &settings.dir {
            Some(d) => {
                let path = match &chroot {
                    // Inside the jail, the directory is seen from its root.
                    Some(_) => Path::new("/").join(&d.value),
                    None => absolute(&d.value),
                };
                let seen_from_here = match &chroot {
                    Some(root) => root.join(path.strip_prefix("/").unwrap_or(&path)),
                    None => path.clone(),
                };
                check_dir("dir", &seen_from_here, &d.origin)?;
                Some(path)
            }
            None => None,
        };
        let pid_file = settings
            .pid_file
            .as_ref()
            .map(|p| PidFile::acquire(&p.value, &settings.name.value))
            .transpose()?;
        let detach = settings.detach.value;
        let open_log = |key, value: &Option<settings::Sourced<PathBuf>>| -> Result<_, Error> {
            match value {
                Some(v) if detach => {
                    let path = absolute(&v.value);
                    let log =
                        open_log(&path, identity.as_ref()).map_err(|source| Error::LogFile {
                            key,
                            path: path.clone(),
                            source,
                        })?;
                    Ok(Some(log))
                }
                _ => Ok(None),
            }
        };
        let stdout = open_log("stdout", &settings.stdout)?;
        let stderr = open_log("stderr", &settings.stderr)?;
        let dev_null = detach.then(process::open_dev_null).transpose()?;
        Ok(Plan {
            identity,
            chroot,
            dir,
            umask: settings.umask.value,
            pid_file,
            stdout,
            stderr,
            dev_null,
        })
    }

    /// Step 7: chroot (then `/` inside it), the working directory, the umask.
    fn enter_directories(&self, detached: bool) -> Result<(), Error> {
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

fn check_dir(key: &'static str, path: &Path, origin: &settings::Origin) -> Result<(), Error> {
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

/// A log file opened before the fork, with its directory and name, so that SIGHUP can
/// reopen it by name even inside a chroot.
struct LogFile {
    file: File,
    dir: OwnedFd,
    name: std::ffi::CString,
}

/// Opens a log file for appending. A file this call creates is handed to the daemon's
/// user (on the open descriptor, never by path) so that it can reopen it on SIGHUP.
fn open_log(path: &Path, identity: Option<&Identity>) -> io::Result<LogFile> {
    let (dir, name) = crate::pidfile::open_parent(path)?;
    let flags = OFlag::O_WRONLY | OFlag::O_APPEND | OFlag::O_CLOEXEC | OFlag::O_NOCTTY;
    let mode = Mode::from_bits_truncate(0o640);
    let created = openat(
        &dir,
        name.as_c_str(),
        flags | OFlag::O_CREAT | OFlag::O_EXCL,
        mode,
    );
    let file = match created {
        Ok(fd) => {
            let file = File::from(fd);
            if let Some(id) = identity {
                nix::unistd::fchown(&file, Some(id.uid), Some(id.gid))?;
            }
            file
        }
        Err(nix::errno::Errno::EEXIST) => {
            File::from(openat(&dir, name.as_c_str(), flags | OFlag::O_CREAT, mode)?)
        }
        Err(e) => return Err(e.into()),
    };
    Ok(LogFile { file, dir, name })
}

/// A config file, read and parsed, with its `[daemon]` table as a settings layer.
#[cfg(feature = "config")]
type ConfigFile = (Config, Options, KeyLines);
/// Without the `config` feature there is never a config file.
#[cfg(not(feature = "config"))]
type ConfigFile = std::convert::Infallible;

#[cfg(feature = "config")]
static CONFIG: OnceLock<Config> = OnceLock::new();

/// Who waits for [`ready`] under [`Readiness::Manual`].
enum Pending {
    /// The launching process, through the readiness pipe (and a service manager, if any).
    Launcher(Notifier, u32),
    /// Only a service manager, if any: the program runs in the foreground.
    ServiceManager(u32),
}

static PENDING: Mutex<Option<Pending>> = Mutex::new(None);

fn set_pending(pending: Pending) {
    *PENDING.lock().unwrap_or_else(|e| e.into_inner()) = Some(pending);
}

fn take_pending() -> Option<Pending> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// The config file the daemon was started with, if any: the whole document, so the
/// program reads its own sections without parsing the file again.
#[cfg(feature = "config")]
pub fn config() -> Option<&'static Config> {
    CONFIG.get()
}

/// Reports readiness, with [`Readiness::Manual`]: the launching process exits 0, and
/// a service manager listening on `NOTIFY_SOCKET` (systemd's `Type=notify`) is told
/// `READY=1`. Does nothing with automatic readiness (the runtime reported it) or when
/// called again.
pub fn ready() {
    match take_pending() {
        Some(Pending::Launcher(notifier, pid)) => {
            notifier.ready();
            readiness::notify_service_manager(pid);
        }
        Some(Pending::ServiceManager(pid)) => readiness::notify_service_manager(pid),
        None => {}
    }
}

/// Whether a launcher still waits for [`ready`].
pub(crate) fn startup_pending() -> bool {
    matches!(
        *PENDING.lock().unwrap_or_else(|e| e.into_inner()),
        Some(Pending::Launcher(..))
    )
}

/// Reports a start-up failure to a launcher still waiting for readiness. Returns
/// whether a launcher was waiting.
pub(crate) fn report_failure(code: i32, message: &str) -> bool {
    match take_pending() {
        Some(Pending::Launcher(notifier, _)) => {
            notifier.fail(code, message);
            true
        }
        _ => false,
    }
}

/// The running daemon (or foreground program), returned by [`Builder::start`].
///
/// Dropping it removes the PID file, if it still names this process: keep it alive for
/// as long as the program runs (the `#[daemonize]` attribute does).
#[must_use = "dropping the daemon handle removes the PID file"]
pub struct Daemon<T = ()> {
    value: Option<T>,
    settings: Settings,
    pid: u32,
    detached: bool,
    _pid_file: Option<ActiveGuard>,
}

impl<T> fmt::Debug for Daemon<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Daemon")
            .field("pid", &self.pid)
            .field("detached", &self.detached)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Daemon<()> {
    /// A builder with no privileged action.
    pub fn builder() -> Builder<()> {
        Builder {
            code: Options::default(),
            code_source: Source::Code,
            forced: Options::default(),
            args: None,
            #[cfg(feature = "config")]
            default_config: None,
            default_name: None,
            keep_fds: Vec::new(),
            readiness: Readiness::Auto,
            privileged: Box::new(|| Ok(())),
            has_privileged: false,
        }
    }
}

impl<T> Daemon<T> {
    /// The privileged action's value; `None` once taken.
    pub fn take_privileged(&mut self) -> Option<T> {
        self.value.take()
    }

    /// The effective settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The config file, if one was read.
    #[cfg(feature = "config")]
    pub fn config(&self) -> Option<&'static Config> {
        config()
    }

    /// This process's pid.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether this process detached.
    pub fn is_detached(&self) -> bool {
        self.detached
    }

    /// Reports readiness (with [`Readiness::Manual`]); see [`ready`](crate::ready).
    pub fn ready(&self) {
        ready();
    }

    /// The shutdown handle; see [`Shutdown`].
    pub fn shutdown(&self) -> Shutdown {
        signals::shutdown()
    }

    /// Gives up: removes the PID file, tells a launcher still waiting for readiness
    /// why (it prints `error` and exits 69), and exits with status 69.
    pub fn fail(self, error: impl fmt::Display) -> ! {
        let message = error.to_string();
        drop(self);
        if !report_failure(exit::UNAVAILABLE, &message) {
            eprintln!("{message}");
        }
        std::process::exit(exit::UNAVAILABLE)
    }
}
