//! The daemon's command-line flags, as a clap [`Args`] type to flatten into a program's
//! own parser, or to add to its [`Command`].
//!
//! ```text
//! Daemon:
//!       --daemon            Detach and run in the background; returns once the daemon is ready
//!       --stop              Stop the running daemon: SIGTERM, then SIGKILL after the stop timeout
//!       --status            Report whether the daemon runs (exit 0 running, 1 stale PID file, 3 stopped, 4 unknown)
//!       --restart           Stop the daemon if it runs, then start it in the background
//!       --reload            Make the running daemon reload: SIGHUP (it also reopens its log files)
//!       --print-service <KIND>  Print a service file for this program, made from its settings, and exit
//!       --config <FILE>     Read settings from the [daemon] section of this TOML file
//!       --pid-file <FILE>   PID file: locked while the daemon runs, names its pid
//!       ...
//! ```

#[cfg(feature = "config")]
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgGroup, ArgMatches, Args, Command, FromArgMatches, Parser};

use crate::settings::{self, Options, Settings};
use crate::unit::{GivenFlag, ServiceKind};

/// The daemon's flags: `--daemon`, the control actions, `--config` and the setting
/// overrides.
///
/// Flatten it into the arguments of a program or of one subcommand:
///
/// ```
/// use clap::Parser;
/// use daemon_runtime::DaemonArgs;
///
/// #[derive(Parser)]
/// struct Cli {
///     /// Port to listen on
///     #[arg(long, default_value_t = 8080)]
///     port: u16,
///     #[command(flatten)]
///     daemon: DaemonArgs,
/// }
///
/// let cli = Cli::parse_from(["app", "--daemon", "--user", "nobody"]);
/// assert!(cli.daemon.daemon);
/// assert_eq!(cli.daemon.options.user.as_deref(), Some("nobody"));
/// ```
///
/// Fields are public so code can set them before starting (`args.daemon = true`).
///
/// # The program's required arguments
///
/// `--stop`, `--status`, `--reload` and `--print-service` need none of the arguments a
/// program requires to start; `--restart` starts, so it needs them.
///
/// - `fn main(cli: Cli)` and [`Builder::launch_with`](crate::Builder::launch_with): the
///   runtime parses, and reads a control action first with every requirement of `Cli`
///   relaxed (required arguments, groups, subcommands). Nothing to write.
/// - A subcommand handler: the program's own `Cli::parse()` runs first, and clap's
///   derive insists on a value for a required field that is not an `Option` (`serve
///   --stop` would exit 2). Write the field as an `Option`, required unless a control
///   action is given:
///
/// ```
/// use std::path::PathBuf;
///
/// use clap::{Args, Parser, Subcommand};
/// use daemon_runtime::DaemonArgs;
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(subcommand)]
///     command: Command,
/// }
///
/// #[derive(Subcommand)]
/// enum Command {
///     Serve(ServeArgs),
/// }
///
/// #[derive(Args)]
/// struct ServeArgs {
///     /// Required to start, not to stop
///     #[arg(long, required_unless_present_any = DaemonArgs::CONTROL_IDS)]
///     out: Option<PathBuf>,
///     #[command(flatten)]
///     daemon: DaemonArgs,
/// }
///
/// assert!(Cli::try_parse_from(["app", "serve", "--stop"]).is_ok());
/// assert!(Cli::try_parse_from(["app", "serve", "--daemon"]).is_err()); // --out is missing
/// ```
///
/// # `--help`
///
/// Where the runtime builds the command line (`fn main()`, `fn main(cli: Cli)`), the
/// flags' help shows the defaults the program sets (the attribute's, then the built-in
/// ones), and a program that always detaches offers `--foreground` instead of
/// `--daemon`. A flattened `DaemonArgs` is part of the program's own command, built
/// before any attribute's values are known: its help shows the runtime's built-in
/// defaults and always offers `--daemon`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DaemonArgs {
    /// `--daemon`: detach and run in the background.
    pub daemon: bool,
    /// `--foreground`: stay attached, even if the program or its config file detaches by
    /// default.
    pub foreground: bool,
    /// The control action: `--stop`, `--status`, `--restart`, `--reload`,
    /// `--print-service`, or start.
    pub action: Action,
    /// `--config FILE`: the config file to read.
    #[cfg(feature = "config")]
    pub config: Option<PathBuf>,
    /// The settings the flags override (`--user`, `--pid-file`, ...).
    pub options: Options,
    /// Those flags as given, for `--print-service` to pass again.
    pub(crate) given: Vec<GivenFlag>,
}

/// What the command line asks the daemon runtime to do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Start: in the foreground, or detached with `--daemon`.
    #[default]
    Start,
    /// `--stop`.
    Stop,
    /// `--status`.
    Status,
    /// `--restart`.
    Restart,
    /// `--reload`.
    Reload,
    /// `--print-service KIND`: print a service file made from the settings.
    PrintService(ServiceKind),
}

/// The heading the daemon's flags are listed under in `--help`.
const HEADING: &str = "Daemon";
/// The id of `--daemon`, by which [`DaemonArgs::augment`] knows a command has the flags.
const DAEMON_ID: &str = "daemon";
/// The id of `--foreground`.
const FOREGROUND_ID: &str = "daemon-foreground";
/// The id of `--print-service`.
const PRINT_SERVICE_ID: &str = "daemon-print-service";

/// The control actions' flags: id, flag, action, help.
const ACTIONS: &[(&str, &str, Action, &str)] = &[
    (
        "daemon-stop",
        "stop",
        Action::Stop,
        "Stop the running daemon: SIGTERM, then SIGKILL after the stop timeout",
    ),
    (
        "daemon-status",
        "status",
        Action::Status,
        "Report whether the daemon runs (exit 0 running, 1 stale PID file, 3 stopped, 4 unknown)",
    ),
    (
        "daemon-restart",
        "restart",
        Action::Restart,
        "Stop the daemon if it runs, then start it in the background",
    ),
    (
        "daemon-reload",
        "reload",
        Action::Reload,
        "Make the running daemon reload: SIGHUP (it also reopens its log files)",
    ),
];

impl DaemonArgs {
    /// The action the flags ask for.
    pub fn action(&self) -> Action {
        self.action.clone()
    }

    /// The settings the flags override, as a layer above the config file.
    pub fn options(&self) -> Options {
        let mut options = self.options.clone();
        if self.daemon {
            options.daemon = Some(true);
        } else if self.foreground {
            options.daemon = Some(false);
        }
        options
    }

    /// The ids of the control flags that need none of the program's own arguments
    /// (`--stop`, `--status`, `--reload`, `--print-service`), for a subcommand whose
    /// arguments are required to start but not to stop it:
    /// `#[arg(long, required_unless_present_any = DaemonArgs::CONTROL_IDS)] out: Option<PathBuf>`
    /// (see [the type's docs](DaemonArgs#the-programs-required-arguments)).
    pub const CONTROL_IDS: [&'static str; 4] = [
        "daemon-stop",
        "daemon-status",
        "daemon-reload",
        PRINT_SERVICE_ID,
    ];

    /// Adds the daemon flags to `cmd`, keeping its name, version, about text, arguments
    /// and subcommands. A command that has them already (it flattens `DaemonArgs`) is
    /// returned as it is.
    pub fn augment(cmd: Command) -> Command {
        Self::augment_with(cmd, None)
    }

    /// Like [`augment`](Self::augment), with `--help` showing `defaults` (the settings
    /// made of the built-in defaults and the program's own, such as the attribute's)
    /// rather than only the built-in ones; a program that always detaches does not offer
    /// `--daemon`.
    ///
    /// The arguments `cmd` requires become required unless a control action
    /// ([`CONTROL_IDS`](Self::CONTROL_IDS)) is given: they are needed to start, not to
    /// stop. (When `DaemonArgs` is flattened, that is the arguments before its field.)
    pub fn augment_with(cmd: Command, defaults: Option<&Settings>) -> Command {
        if has_daemon_flags(&cmd) {
            return cmd;
        }
        with_daemon_flags(relax_for_control(cmd), defaults)
    }

    /// Reads the daemon flags back from the matches of a command built with [`augment`](Self::augment).
    pub fn from_matches(matches: &ArgMatches) -> Result<DaemonArgs, clap::Error> {
        <DaemonArgs as FromArgMatches>::from_arg_matches(matches)
    }

    /// Parses the process's arguments with the program's own parser `C` plus the daemon
    /// flags; exits with clap's message on a usage error, `--help` or `--version`.
    ///
    /// A control action (`--stop`, `--status`, `--reload`) comes back as
    /// [`Parsed::Control`] without the program's arguments, which it does not need: the
    /// program's required arguments are required only to start.
    pub fn parse_with<C: Parser>() -> Parsed<C> {
        Self::parse_with_from::<C, _, _>(std::env::args_os(), None)
    }

    /// Like [`parse_with`](Self::parse_with), from the given arguments (the first is the
    /// program name), with `--help` showing `defaults` (see [`augment_with`](Self::augment_with)).
    pub fn parse_with_from<C, I, T>(args: I, defaults: Option<&Settings>) -> Parsed<C>
    where
        C: Parser,
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
        // Not relaxed: `control_only` reads a control action without the program's
        // requirements, and the usage line keeps showing them.
        let cmd = C::command();
        let mut cmd = match has_daemon_flags(&cmd) {
            true => cmd,
            false => with_daemon_flags(cmd, defaults),
        };
        if let Some(control) = control_only(&cmd, &args) {
            return Parsed::Control(control);
        }
        let mut matches = cmd
            .try_get_matches_from_mut(args)
            .unwrap_or_else(|e| e.exit());
        let daemon = Self::from_matches(&matches).unwrap_or_else(|e| e.format(&mut cmd).exit());
        let cli =
            C::from_arg_matches_mut(&mut matches).unwrap_or_else(|e| e.format(&mut cmd).exit());
        Parsed::Start(cli, daemon)
    }

    /// The whole command line of a program that has no parser of its own: `name` and
    /// `version` for `--version`, `--help`, and the daemon flags.
    pub fn command(
        name: &'static str,
        version: &'static str,
        about: Option<&'static str>,
    ) -> Command {
        Self::command_with(name, version, about, None)
    }

    /// Like [`command`](Self::command), with `--help` showing `defaults` (see
    /// [`augment_with`](Self::augment_with)).
    pub fn command_with(
        name: &'static str,
        version: &'static str,
        about: Option<&'static str>,
        defaults: Option<&Settings>,
    ) -> Command {
        let cmd = Command::new(name).version(version);
        let cmd = match about {
            Some(about) if !about.is_empty() => cmd.about(about),
            _ => cmd,
        };
        Self::augment_with(cmd, defaults)
    }

    /// Parses the process's arguments with [`command`](Self::command).
    pub fn parse_bare(
        name: &'static str,
        version: &'static str,
        about: Option<&'static str>,
    ) -> DaemonArgs {
        Self::parse_command(Self::command(name, version, about))
    }

    /// Parses the process's arguments with `cmd` (built by [`command_with`](Self::command_with)).
    pub fn parse_command(mut cmd: Command) -> DaemonArgs {
        let matches = cmd
            .try_get_matches_from_mut(std::env::args_os())
            .unwrap_or_else(|e| e.exit());
        Self::from_matches(&matches).unwrap_or_else(|e| e.format(&mut cmd).exit())
    }
}

/// The command line of a program with a parser of its own: a start, with the program's
/// arguments, or a control action, which needs none of them.
#[derive(Debug)]
pub enum Parsed<C> {
    /// Start (or restart): the program's arguments and the daemon flags.
    Start(C, DaemonArgs),
    /// `--stop`, `--status` or `--reload`.
    Control(DaemonArgs),
}

/// The daemon flags, if they ask for a control action; read with every requirement of
/// the program's own relaxed (required arguments and subcommands), which only a start
/// needs. A command line that does not parse even so is left to the strict parse, which
/// reports it.
fn control_only(cmd: &Command, args: &[std::ffi::OsString]) -> Option<DaemonArgs> {
    // A start (the common case) costs no second parse.
    let control = ["--stop", "--status", "--reload", "--print-service"];
    let mentioned = args.iter().skip(1).any(|arg| {
        let arg = arg.as_encoded_bytes();
        control.iter().any(|flag| arg.starts_with(flag.as_bytes()))
    });
    if !mentioned {
        return None;
    }
    let matches = relaxed(cmd.clone()).try_get_matches_from(args).ok()?;
    let daemon = DaemonArgs::from_matches(&matches).ok()?;
    matches!(
        daemon.action,
        Action::Stop | Action::Status | Action::Reload | Action::PrintService(_)
    )
    .then_some(daemon)
}

/// `cmd` with nothing required, in it or its subcommands.
fn relaxed(cmd: Command) -> Command {
    let groups: Vec<_> = cmd.get_groups().map(|g| g.get_id().clone()).collect();
    let cmd = groups
        .into_iter()
        .fold(cmd, |cmd, id| cmd.mut_group(id, |g| g.required(false)));
    cmd.mut_args(|arg| arg.required(false))
        .subcommand_required(false)
        .arg_required_else_help(false)
        .mut_subcommands(relaxed)
}

/// Whether `cmd` has the daemon flags already (it flattens [`DaemonArgs`]).
fn has_daemon_flags(cmd: &Command) -> bool {
    cmd.get_arguments().any(|a| a.get_id() == DAEMON_ID)
}

/// `cmd` whose required arguments are required only to start: unless a control action is
/// given. `required(false)` first: clap rejects an argument that is both required and
/// required-unless (a debug assertion, so a panic in debug builds only).
fn relax_for_control(cmd: Command) -> Command {
    cmd.mut_args(|arg| match arg.is_required_set() {
        true => arg
            .required(false)
            .required_unless_present_any(DaemonArgs::CONTROL_IDS),
        false => arg,
    })
}

/// Whether the process's command line asks for help: only then are the defaults worth
/// working out for it.
pub(crate) fn asks_for_help() -> bool {
    std::env::args_os()
        .skip(1)
        .any(|arg| arg == "-h" || arg == "--help" || arg == "help")
}

/// `cmd` with the daemon flags under their heading, `--help` showing `defaults` (the
/// built-in ones if `None`, when help is asked for).
fn with_daemon_flags(cmd: Command, defaults: Option<&Settings>) -> Command {
    let built_in;
    let defaults = match defaults {
        Some(defaults) => Some(defaults),
        None if asks_for_help() => {
            built_in = settings::built_in();
            built_in.as_ref()
        }
        None => None,
    };
    let forced = defaults.is_some_and(|d| d.daemon.value);
    let group = ArgGroup::new("daemon-action").multiple(false).args(
        std::iter::once(DAEMON_ID)
            .chain(ACTIONS.iter().map(|a| a.0))
            .chain([PRINT_SERVICE_ID]),
    );
    let args = mode_args(forced)
        .into_iter()
        .chain(ACTIONS.iter().map(|(id, long, _, help)| {
            Arg::new(*id)
                .long(*long)
                .action(ArgAction::SetTrue)
                .help(*help)
        }))
        .chain([print_service_arg()])
        .chain(config_arg())
        .chain(settings::flag_args(defaults))
        .map(|arg| arg.help_heading(HEADING));
    cmd.args(args).group(group)
}

/// `--daemon` and `--foreground`: a program that detaches by default does not offer
/// `--daemon`, and says that `--foreground` keeps it attached.
fn mode_args(forced: bool) -> [Arg; 2] {
    let daemon = Arg::new(DAEMON_ID)
        .long("daemon")
        .action(ArgAction::SetTrue)
        .hide(forced)
        .help(
            settings::Spec::get("daemon")
                .map(|spec| spec.help)
                .unwrap_or_default(),
        );
    let foreground = Arg::new(FOREGROUND_ID)
        .long("foreground")
        .action(ArgAction::SetTrue)
        .conflicts_with(DAEMON_ID)
        .hide_short_help(!forced)
        .help(match forced {
            true => "Stay in the foreground (this program detaches by default)",
            false => "Stay in the foreground, even where the config file says to detach",
        });
    [daemon, foreground]
}

impl Args for DaemonArgs {
    fn augment_args(cmd: Command) -> Command {
        Self::augment_with(cmd, None)
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

fn print_service_arg() -> Arg {
    Arg::new(PRINT_SERVICE_ID)
        .long("print-service")
        .value_name("KIND")
        .value_parser(ServiceKind::parse)
        .help("Print a service file for this program, made from its settings, and exit")
        .long_help(
            "Print a service file for this program, made from its settings (these flags \
             included), and exit: systemd (a .service unit), systemd-socket=[NAME=]ADDR[,ADDR...] \
             (a .socket unit), systemd-activated (the .service unit that socket starts), or \
             sysv (an LSB init script). systemd=notify-reload and \
             systemd-activated=notify-reload reload with Type=notify-reload (systemd 253 and \
             later) instead of the binary's own --reload",
        )
}

/// The setting flags given on the command line, as given.
fn given_flags(matches: &ArgMatches) -> Vec<GivenFlag> {
    let mut given = Vec::new();
    for arg in settings::flag_args(None) {
        let (id, Some(long)) = (arg.get_id().as_str(), arg.get_long()) else {
            continue;
        };
        if matches.value_source(id) != Some(ValueSource::CommandLine) {
            continue;
        }
        let long = long.to_owned();
        match arg.get_action().takes_values() {
            true => {
                given.extend(
                    matches
                        .get_raw(id)
                        .into_iter()
                        .flatten()
                        .map(|value| GivenFlag {
                            long: long.clone(),
                            value: Some(value.to_owned()),
                        }),
                )
            }
            false => given.push(GivenFlag { long, value: None }),
        }
    }
    given
}

#[cfg(feature = "config")]
fn config_arg() -> Option<Arg> {
    Some(
        Arg::new("daemon-config")
            .long("config")
            .value_name("FILE")
            .value_parser(clap::value_parser!(PathBuf))
            .help("Read settings from the `[daemon]` table of this TOML file"),
    )
}

#[cfg(not(feature = "config"))]
fn config_arg() -> Option<Arg> {
    None
}

impl FromArgMatches for DaemonArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let flag = |id: &str| matches.try_get_one::<bool>(id).ok().flatten() == Some(&true);
        let print = matches.try_get_one::<ServiceKind>(PRINT_SERVICE_ID);
        let action = match print.ok().flatten() {
            Some(kind) => Action::PrintService(kind.clone()),
            None => ACTIONS
                .iter()
                .find(|(id, ..)| flag(id))
                .map_or(Action::Start, |(_, _, action, _)| action.clone()),
        };
        Ok(DaemonArgs {
            daemon: flag(DAEMON_ID),
            foreground: flag(FOREGROUND_ID),
            action,
            #[cfg(feature = "config")]
            config: matches.get_one::<PathBuf>("daemon-config").cloned(),
            options: Options::from_matches(matches),
            given: given_flags(matches),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    use clap::CommandFactory;

    #[derive(Parser, Debug)]
    #[command(name = "app", version = "1.2.3", about = "An app")]
    struct Cli {
        #[arg(long)]
        port: Option<u16>,
        #[command(subcommand)]
        cmd: Option<Sub>,
    }

    #[derive(clap::Subcommand, Debug, PartialEq)]
    enum Sub {
        Check,
    }

    #[test]
    fn augmented_parser_keeps_its_own_arguments() {
        let Parsed::Start(cli, daemon) = DaemonArgs::parse_with_from::<Cli, _, _>(
            ["app", "--port", "80", "--daemon", "--umask", "077", "check"],
            None,
        ) else {
            panic!("a start")
        };
        assert_eq!(cli.port, Some(80));
        assert_eq!(cli.cmd, Some(Sub::Check));
        assert!(daemon.daemon);
        assert_eq!(daemon.options.umask, Some(0o77));
        assert_eq!(daemon.action(), Action::Start);
    }

    #[test]
    fn augmented_command_keeps_name_version_about() {
        let cmd = DaemonArgs::augment(Cli::command());
        assert_eq!(cmd.get_name(), "app");
        assert_eq!(cmd.get_version(), Some("1.2.3"));
        let help = cmd.clone().render_help().to_string();
        assert!(help.contains("An app"), "{help}");
        assert!(help.contains("--port"), "{help}");
        assert!(help.contains("Daemon:"), "{help}");
        assert!(help.contains("--daemon"), "{help}");
        assert!(help.contains("--stop"), "{help}");
        assert!(cmd.get_subcommands().any(|s| s.get_name() == "check"));
    }

    #[test]
    fn augment_is_idempotent() {
        let once = DaemonArgs::augment(Command::new("x"));
        let n = once.get_arguments().count();
        assert_eq!(DaemonArgs::augment(once).get_arguments().count(), n);
    }

    #[test]
    fn actions_exclude_each_other() {
        let cmd = DaemonArgs::command("x", "0", None);
        let err = cmd
            .clone()
            .try_get_matches_from(["x", "--stop", "--status"])
            .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        let err = cmd
            .try_get_matches_from(["x", "--daemon", "--stop"])
            .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn flags_become_options() {
        let cmd = DaemonArgs::command("x", "0", None);
        let m = cmd
            .try_get_matches_from([
                "x",
                "--daemon",
                "--pid-file",
                "/p",
                "--user",
                "u",
                "--group",
                "g",
                "--dir",
                "/d",
                "--umask",
                "0o22",
            ])
            .unwrap();
        let args = DaemonArgs::from_matches(&m).unwrap();
        let o = args.options();
        assert_eq!(o.daemon, Some(true));
        assert_eq!(o.pid_file, Some("/p".into()));
        assert_eq!(o.user.as_deref(), Some("u"));
        assert_eq!(o.group.as_deref(), Some("g"));
        assert_eq!(o.dir, Some("/d".into()));
        assert_eq!(o.umask, Some(0o22));
        // Without --daemon, the flags layer does not say "foreground": lower layers decide.
        let m = DaemonArgs::command("x", "0", None)
            .try_get_matches_from(["x"])
            .unwrap();
        assert_eq!(
            DaemonArgs::from_matches(&m).unwrap().options(),
            Options::default()
        );
    }

    /// A program that requires `--out` to start.
    #[derive(Parser, Debug)]
    #[command(name = "prog")]
    struct Required {
        #[arg(long)]
        out: PathBuf,
    }

    #[test]
    fn control_actions_need_none_of_the_programs_required_arguments() {
        for action in ["--status", "--stop", "--reload", "--print-service=sysv"] {
            let parsed = DaemonArgs::parse_with_from::<Required, _, _>(
                ["prog", action, "--pid-file", "/p"],
                None,
            );
            let Parsed::Control(daemon) = parsed else {
                panic!("{action}: a control action")
            };
            assert_eq!(daemon.options.pid_file, Some("/p".into()), "{action}");
        }
        // A start still gets the program's arguments (and clap's debug assertions,
        // which a required argument that is also required-unless would fail, pass).
        let Parsed::Start(cli, daemon) =
            DaemonArgs::parse_with_from::<Required, _, _>(["prog", "--out", "/o"], None)
        else {
            panic!("a start")
        };
        assert_eq!(cli.out, Path::new("/o"));
        assert_eq!(daemon.action(), Action::Start);
    }

    #[derive(Parser, Debug)]
    #[command(name = "app")]
    struct WithServe {
        #[command(subcommand)]
        command: Serve,
    }

    #[derive(clap::Subcommand, Debug)]
    enum Serve {
        Serve(ServeArgs),
    }

    /// A handler's arguments: `out` as the docs say, `port` required and not an `Option`.
    #[derive(clap::Args, Debug)]
    struct ServeArgs {
        #[arg(long)]
        port: Option<u16>,
        #[arg(long, required_unless_present_any = DaemonArgs::CONTROL_IDS)]
        out: Option<PathBuf>,
        #[command(flatten)]
        daemon: DaemonArgs,
    }

    #[test]
    fn a_handlers_option_required_unless_control_is_needed_to_start_only() {
        WithServe::command().debug_assert();
        let cli = WithServe::try_parse_from(["app", "serve", "--stop"]).expect("--stop parses");
        let Serve::Serve(args) = cli.command;
        assert_eq!(args.daemon.action(), Action::Stop);
        assert_eq!(args.out, None);
        let err = WithServe::try_parse_from(["app", "serve"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        assert!(err.to_string().contains("--out"), "{err}");
    }

    #[derive(Parser, Debug)]
    #[command(name = "app")]
    struct StrictServe {
        #[command(subcommand)]
        command: Strict,
    }

    #[derive(clap::Subcommand, Debug)]
    enum Strict {
        Serve(StrictArgs),
    }

    /// A required field that is not an `Option`, before the flattened flags.
    #[derive(clap::Args, Debug)]
    struct StrictArgs {
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        daemon: DaemonArgs,
    }

    #[test]
    fn a_handlers_required_field_that_is_not_an_option_still_blocks_control() {
        // Relaxed by the flattened flags without tripping clap's debug assertions...
        StrictServe::command().debug_assert();
        let cmd = StrictServe::command();
        assert!(cmd.try_get_matches_from(["app", "serve", "--stop"]).is_ok());
        // ...but clap's derive wants the value to build `StrictArgs`: what the docs say.
        let err = StrictServe::try_parse_from(["app", "serve", "--stop"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        assert!(StrictServe::try_parse_from(["app", "serve", "--out", "/o"]).is_ok());
    }

    #[test]
    fn bad_umask_flag_is_a_usage_error() {
        let err = DaemonArgs::command("x", "0", None)
            .try_get_matches_from(["x", "--umask", "1000"])
            .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(err.to_string().contains("`1000` is above 0o777"), "{err}");
    }
}
