//! The builder: what the program sets in code, the command line's flags, and reading the
//! settings from every source. [`Builder::start`] hands over to the plan made before the
//! fork ([`crate::plan`]) and then to the launcher ([`crate::launcher`]) or the
//! foreground path ([`crate::foreground`]); [`Builder::launch`] also performs the
//! command line's control action ([`crate::control`]).

use std::fmt;
use std::os::fd::AsRawFd;
use std::path::Path;
#[cfg(feature = "config")]
use std::path::PathBuf;

use crate::cli::{Action, DaemonArgs, Parsed};
#[cfg(feature = "config")]
use crate::config::Config;
use crate::control::{self, Loaded, Status, Stopped};
use crate::daemon::Daemon;
use crate::error::{Error, errno_for};
use crate::job::{BoxError, Job, Readiness};
use crate::origin::Origin;
use crate::plan::Plan;
#[cfg(feature = "config")]
use crate::settings::KeyLines;
use crate::settings::{self, Context, Layer, Options, PidFileSetting, Settings, Source};
use crate::sys::process;
use crate::{foreground, launcher, logger, manager, signals};

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
///     .daemon(true)
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
    job: Job<T>,
}

impl<T> fmt::Debug for Builder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("code", &self.code)
            .field("forced", &self.forced)
            .field("args", &self.args)
            .field("keep_fds", &self.job.keep_fds)
            .field("readiness", &self.job.readiness)
            .field("has_privileged", &self.job.has_privileged)
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
            job: Job::new(),
        }
    }
}

impl<T> Builder<T> {
    settings::builder_setters!();

    /// No PID file at all (`pid_file = false`, `--no-pid-file`): the daemon can then be
    /// controlled only by its service manager or by signals.
    pub fn no_pid_file(self) -> Self {
        self.pid_file(PidFileSetting::Off)
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
    /// daemon: objects that own them must not be used there, nor dropped (`std::mem::forget`
    /// them instead). Dropped, they close whatever the daemon has since opened under the
    /// same number; a debug build aborts with "IO Safety violation" instead. Sockets
    /// inherited through systemd's `LISTEN_FDS` are kept without asking.
    pub fn keep_fd(mut self, fd: &impl AsRawFd) -> Self {
        self.job.keep_fds.push(fd.as_raw_fd());
        self
    }

    /// When to tell the launcher the daemon is ready (default: [`Readiness::Auto`]).
    pub fn readiness(mut self, readiness: Readiness) -> Self {
        self.job.readiness = readiness;
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
            job: self.job.with_privileged(action),
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
    pub(crate) fn display_name(&self) -> String {
        self.forced
            .name
            .clone()
            .or_else(|| self.code.name.clone())
            .unwrap_or_else(|| self.fallback_name())
    }

    /// The action the command line asks for.
    pub(crate) fn action(&self) -> Action {
        self.args
            .as_ref()
            .map_or(Action::Start, |args| args.action.clone())
    }

    /// The settings made of the built-in defaults and the code's own values (the
    /// attribute's), which `--help` shows as the defaults; `None` if they do not resolve
    /// (the start then reports why).
    pub(crate) fn help_defaults(&self) -> Option<Settings> {
        // Working them out costs a start time; only `--help` shows them.
        if !crate::cli::asks_for_help() {
            return None;
        }
        let layers = [Layer {
            options: &self.code,
            source: self.code_source.clone(),
        }];
        let name = self.fallback_name();
        settings::resolve(&layers, &Context::new(&name)).ok()
    }

    /// Merges every source into the effective settings, reading the config file.
    pub fn settings(&self) -> Result<Settings, Error> {
        self.load().map(|(settings, _)| settings)
    }

    /// What a control action works from: the settings, the config file read, the flags.
    pub(crate) fn loaded(&self) -> Result<Loaded, Error> {
        let (settings, file) = self.load()?;
        Ok(Loaded {
            settings,
            config: file.as_ref().and_then(ConfigFile::path).map(Path::to_owned),
            given: self
                .args
                .as_ref()
                .map(|args| args.given.clone())
                .unwrap_or_default(),
        })
    }

    /// Reads the config file, if there is one, and merges every source.
    pub(crate) fn load(&self) -> Result<(Settings, Option<ConfigFile>), Error> {
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
        if let Some(file) = &file {
            layers.push(file.layer());
        }
        layers.push(Layer {
            options: &flags,
            source: Source::Flags,
        });
        layers.push(Layer {
            options: &self.forced,
            source: Source::Forced,
        });
        let name = self.fallback_name();
        let settings = settings::resolve(&layers, &Context::new(&name))?;
        Ok((settings, file))
    }

    /// The config file, if one is given: `--config` (required to exist) or the default
    /// path set in code (may be missing). Without either, nothing is read.
    #[cfg(feature = "config")]
    fn read_config(&self) -> Result<Option<ConfigFile>, Error> {
        let explicit = self.args.as_ref().and_then(|a| a.config.as_ref());
        let config = match (explicit, &self.default_config) {
            (Some(explicit), _) => Config::load(explicit, true)?,
            (None, Some(default)) => Config::load(default, false)?,
            (None, None) => None,
        };
        config.map(ConfigFile::read).transpose()
    }

    #[cfg(not(feature = "config"))]
    fn read_config(&self) -> Result<Option<ConfigFile>, Error> {
        Ok(None)
    }

    /// Performs what the command line asked for.
    ///
    /// Start (in the foreground, or detached with `--daemon`) returns the running
    /// [`Daemon`] in the daemon process; `--stop`, `--status`, `--restart` (in the
    /// launcher), `--reload` and `--print-service` print their outcome and exit the
    /// process with its status.
    /// Any error is printed as `name: message` and exits with the error's code (see
    /// [`exit`](crate::exit)); `--status` exits 4 on any error, as LSB asks.
    pub fn launch(self) -> Daemon<T> {
        let name = self.display_name();
        match self.action() {
            Action::Start => self.start().unwrap_or_else(|e| failed_start(&e, &name)),
            Action::Restart => self.restart().unwrap_or_else(|e| failed_start(&e, &name)),
            action => control::perform(self.loaded(), action, &name),
        }
    }

    /// Parses the process's arguments with the program's own parser `C` plus the daemon
    /// flags (`--help` shows this builder's values as the defaults), then does what
    /// [`launch`](Self::launch) does: a control action prints its outcome and exits
    /// (the program's own required arguments are not needed for it); a start returns the
    /// program's arguments and the running daemon.
    ///
    /// This is what `#[daemonize] fn main(cli: Cli)` does.
    pub fn launch_with<C: clap::Parser>(self) -> (C, Daemon<T>) {
        let defaults = self.help_defaults();
        match DaemonArgs::parse_with_from::<C, _, _>(std::env::args_os(), defaults.as_ref()) {
            Parsed::Start(cli, args) => (cli, self.args(args).launch()),
            Parsed::Control(args) => self.args(args).control(),
        }
    }

    /// Performs the command line's control action (`--stop`, `--status`, `--reload`),
    /// prints its outcome and exits.
    pub(crate) fn control(self) -> ! {
        let name = self.display_name();
        control::perform(self.loaded(), self.action(), &name)
    }

    /// Stops the running daemon (see [`control::stop`]).
    pub fn stop(&self) -> Result<Stopped, Error> {
        let target = control::Target::new(self.settings()?, "stop")?;
        control::stop(&target.name, &target.pid_file, target.stop_timeout)
    }

    /// Tells whether the daemon runs (see [`control::status`]).
    pub fn status(&self) -> Result<Status, Error> {
        let target = control::Target::new(self.settings()?, "check")?;
        Ok(control::status(&target.pid_file))
    }

    /// Sends SIGHUP to the running daemon; returns its pid.
    pub fn reload(&self) -> Result<u32, Error> {
        let target = control::Target::new(self.settings()?, "reload")?;
        control::reload(&target.name, &target.pid_file)
    }

    /// Stops the daemon if it runs, then starts it detached with the settings of this
    /// command line, as init scripts do; refused when that would change the daemon
    /// (see [`control`]'s `--restart`: a daemon started with other arguments, or running
    /// under another PID file).
    pub fn restart(mut self) -> Result<Daemon<T>, Error> {
        // Without a PID file there is nothing to find the old daemon by.
        let target = control::Target::new(self.settings()?, "restart")?;
        control::restart::check(&target)?;
        let outcome = control::stop(&target.name, &target.pid_file, target.stop_timeout)?;
        log::debug!("{}", outcome.describe(&target.name, &target.pid_file));
        self.forced.daemon = Some(true);
        self.start()
    }

    /// Starts the daemon: validates everything, takes the PID file, then either
    /// detaches (the launching process exits inside this call, 0 once the daemon is
    /// ready) or stays in the foreground.
    ///
    /// Returns in the daemon, or in the foreground process. `Err` only comes back in
    /// the launching process, before anything was forked; report it with
    /// [`Error::exit`] (a service manager waiting for the start is told by
    /// [`launch`](Self::launch), which does that).
    pub fn start(self) -> Result<Daemon<T>, Error> {
        let single = process::single_threaded();
        manager::take_environment(single.as_ref(), &self.display_name())?;
        let (settings, file) = self.load()?;
        let settings = stay_attached_under_a_manager(settings);
        // Before any file is created: a process that cannot fork must not leave a PID
        // file or a log file behind.
        let single = match (settings.daemon.value, single) {
            (false, _) => None,
            (true, Some(single)) => Some(single),
            (true, None) => Some(process::ensure_single_threaded()?),
        };
        let logger = logger::setup::Setup::new(&settings, single.is_some())?;
        logger.install(settings.log_target.origin != Origin::Default)?;
        // From here on a panic is logged: in the privileged action, in the body.
        logger::setup::install_panic_hook();
        let notify_fd = manager::claim_notify_fd(settings.notify_fd.as_ref().map(|s| s.value))?;
        if single.is_some() {
            signals::prepare()?;
        }
        let plan = Plan::prepare(&settings, logger, notify_fd)?;
        if let Some(file) = file {
            file.keep_for_the_program();
        }
        match single {
            Some(token) => launcher::detach(self.job, settings, plan, token),
            None => foreground::run(self.job, settings, plan),
        }
    }
}

/// A start that failed in this process: the service manager waiting for it (if any) is
/// told at once (`ERRNO=`, `STATUS=`: `start-stop-daemon --notify-await` returns), the
/// error is printed, and the process exits with its status.
fn failed_start(error: &Error, name: &str) -> ! {
    let _ = crate::notify::failed(errno_for(error.exit_code()), &error.to_string());
    error.exit(name)
}

/// A program that detaches by default (the attribute's `daemon = true`, or the config
/// file's) stays in the foreground when a service manager that supervises it as it is
/// started it (`NOTIFY_SOCKET`, `INVOCATION_ID`, init as the parent, a socket on
/// stdin). An explicit `--daemon`, or a value forced in code, is obeyed.
fn stay_attached_under_a_manager(mut settings: Settings) -> Settings {
    let explicit = matches!(settings.daemon.origin, Origin::Flag(_) | Origin::Forced);
    if settings.daemon.value
        && !explicit
        && let Some(reason) = manager::expects_foreground()
    {
        log::debug!("staying in the foreground: {reason} (pass --daemon to detach anyway)");
        settings.daemon.value = false;
    }
    settings
}

/// A config file, read and parsed, with its `[daemon]` table as a settings layer.
#[cfg(feature = "config")]
pub(crate) struct ConfigFile {
    config: Config,
    options: Options,
    lines: KeyLines,
}

#[cfg(feature = "config")]
impl ConfigFile {
    fn read(config: Config) -> Result<ConfigFile, Error> {
        let (options, lines) = config.daemon_options()?;
        Ok(ConfigFile {
            config,
            options,
            lines,
        })
    }

    fn layer(&self) -> Layer<'_> {
        Layer {
            options: &self.options,
            source: Source::File {
                path: self
                    .config
                    .path()
                    .unwrap_or(Path::new("<config>"))
                    .to_owned(),
                lines: self.lines.clone(),
            },
        }
    }

    /// Makes the document what [`crate::config()`] returns, for the program's own
    /// sections.
    fn keep_for_the_program(self) {
        crate::daemon::set_config(self.config);
    }

    /// The file, for `--print-service` to pass as `--config`.
    fn path(&self) -> Option<&Path> {
        self.config.path()
    }
}

/// Without the `config` feature there is never a config file.
#[cfg(not(feature = "config"))]
pub(crate) enum ConfigFile {}

#[cfg(not(feature = "config"))]
impl ConfigFile {
    fn layer(&self) -> Layer<'_> {
        match *self {}
    }

    fn keep_for_the_program(self) {}

    fn path(&self) -> Option<&Path> {
        match *self {}
    }
}
