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
//!       --config <FILE>     Read settings from the [daemon] section of this TOML file
//!       --pid-file <FILE>   PID file: locked while the daemon runs, names its pid
//!       ...
//! ```

use std::path::PathBuf;

use clap::{ArgMatches, Args, Command, FromArgMatches, Parser};

use crate::settings::Options;

// clap turns a doc comment on an `Args` struct into the `about` text of whatever command
// it is flattened into, hiding the program's own; so the rustdoc exists only under rustdoc.
#[cfg_attr(
    any(doc, doctest),
    doc = "The daemon's flags: `--daemon`, the control actions, `--config` and the setting overrides."
)]
#[cfg_attr(any(doc, doctest), doc = "")]
#[cfg_attr(
    any(doc, doctest),
    doc = "Flatten it into the arguments of a program or of one subcommand:"
)]
#[cfg_attr(any(doc, doctest), doc = "")]
#[cfg_attr(any(doc, doctest), doc = "```")]
#[cfg_attr(any(doc, doctest), doc = "use clap::Parser;")]
#[cfg_attr(any(doc, doctest), doc = "use daemon_runtime::DaemonArgs;")]
#[cfg_attr(any(doc, doctest), doc = "")]
#[cfg_attr(any(doc, doctest), doc = "#[derive(Parser)]")]
#[cfg_attr(any(doc, doctest), doc = "struct Cli {")]
#[cfg_attr(any(doc, doctest), doc = "    /// Port to listen on")]
#[cfg_attr(any(doc, doctest), doc = "    #[arg(long, default_value_t = 8080)]")]
#[cfg_attr(any(doc, doctest), doc = "    port: u16,")]
#[cfg_attr(any(doc, doctest), doc = "    #[command(flatten)]")]
#[cfg_attr(any(doc, doctest), doc = "    daemon: DaemonArgs,")]
#[cfg_attr(any(doc, doctest), doc = "}")]
#[cfg_attr(any(doc, doctest), doc = "")]
#[cfg_attr(
    any(doc, doctest),
    doc = "let cli = Cli::parse_from([\"app\", \"--daemon\", \"--user\", \"nobody\"]);"
)]
#[cfg_attr(any(doc, doctest), doc = "assert!(cli.daemon.detach);")]
#[cfg_attr(
    any(doc, doctest),
    doc = "assert_eq!(cli.daemon.user.as_deref(), Some(\"nobody\"));"
)]
#[cfg_attr(any(doc, doctest), doc = "```")]
#[cfg_attr(any(doc, doctest), doc = "")]
#[cfg_attr(
    any(doc, doctest),
    doc = "Fields are public so code can set them before starting (`args.detach = true`)."
)]
#[cfg_attr(not(any(doc, doctest)), allow(missing_docs))]
#[derive(Args, Clone, Debug, Default, PartialEq, Eq)]
#[command(next_help_heading = "Daemon")]
#[command(group(clap::ArgGroup::new("daemon-action").multiple(false)))]
#[non_exhaustive]
pub struct DaemonArgs {
    /// Detach and run in the background; returns once the daemon is ready, or says why it failed
    #[arg(long = "daemon", id = "daemon", group = "daemon-action")]
    pub detach: bool,

    /// Stop the running daemon: SIGTERM, then SIGKILL after the stop timeout
    #[arg(long, id = "daemon-stop", group = "daemon-action")]
    pub stop: bool,

    /// Report whether the daemon runs (exit 0 running, 1 stale PID file, 3 stopped, 4 unknown)
    #[arg(long, id = "daemon-status", group = "daemon-action")]
    pub status: bool,

    /// Stop the daemon if it runs, then start it in the background
    #[arg(long, id = "daemon-restart", group = "daemon-action")]
    pub restart: bool,

    /// Make the running daemon reload: SIGHUP (it also reopens its log files)
    #[arg(long, id = "daemon-reload", group = "daemon-action")]
    pub reload: bool,

    /// Read settings from the `[daemon]` table of this TOML file
    #[cfg(feature = "config")]
    #[arg(long, id = "daemon-config", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// PID file: locked while the daemon runs, names its pid
    #[arg(long = "pid-file", id = "daemon-pid-file", value_name = "FILE")]
    pub pid_file: Option<PathBuf>,

    /// Run as this user (name or uid); needs root
    #[arg(long, id = "daemon-user", value_name = "USER")]
    pub user: Option<String>,

    /// Run as this group (name or gid); defaults to the user's primary group
    #[arg(long, id = "daemon-group", value_name = "GROUP")]
    pub group: Option<String>,

    /// Working directory (default when detached: /)
    #[arg(long, id = "daemon-dir", value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// File mode creation mask, in octal (default: 027)
    #[arg(long, id = "daemon-umask", value_name = "MASK", value_parser = umask_flag)]
    pub umask: Option<u32>,
}

fn umask_flag(text: &str) -> Result<u32, String> {
    crate::settings::parse_umask(text)
}

/// What the command line asks the daemon runtime to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Start: in the foreground, or detached with `--daemon`.
    Start,
    /// `--stop`.
    Stop,
    /// `--status`.
    Status,
    /// `--restart`.
    Restart,
    /// `--reload`.
    Reload,
}

impl DaemonArgs {
    /// The action the flags ask for.
    pub fn action(&self) -> Action {
        if self.stop {
            Action::Stop
        } else if self.status {
            Action::Status
        } else if self.restart {
            Action::Restart
        } else if self.reload {
            Action::Reload
        } else {
            Action::Start
        }
    }

    /// The settings the flags override, as a layer above the config file.
    pub fn options(&self) -> Options {
        Options {
            detach: self.detach.then_some(true),
            user: self.user.clone(),
            group: self.group.clone(),
            dir: self.dir.clone(),
            pid_file: self.pid_file.clone(),
            umask: self.umask,
            ..Options::default()
        }
    }

    /// Adds the daemon flags to `cmd`, keeping its name, version, about text, arguments
    /// and subcommands. A command that has them already (it flattens `DaemonArgs`) is
    /// returned as it is.
    pub fn augment(cmd: Command) -> Command {
        if cmd.get_arguments().any(|a| a.get_id() == "daemon") {
            cmd
        } else {
            <DaemonArgs as Args>::augment_args(cmd)
        }
    }

    /// Reads the daemon flags back from the matches of a command built with [`augment`](Self::augment).
    pub fn from_matches(matches: &ArgMatches) -> Result<DaemonArgs, clap::Error> {
        <DaemonArgs as FromArgMatches>::from_arg_matches(matches)
    }

    /// Parses the process's arguments with the program's own parser `C` plus the daemon
    /// flags; exits with clap's message on a usage error, `--help` or `--version`.
    pub fn parse_with<C: Parser>() -> (C, DaemonArgs) {
        Self::parse_with_from::<C, _, _>(std::env::args_os())
    }

    /// Like [`parse_with`](Self::parse_with), from the given arguments (the first is the
    /// program name).
    pub fn parse_with_from<C, I, T>(args: I) -> (C, DaemonArgs)
    where
        C: Parser,
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let mut cmd = Self::augment(C::command());
        let mut matches = cmd.clone().get_matches_from(args);
        let daemon = Self::from_matches(&matches).unwrap_or_else(|e| e.format(&mut cmd).exit());
        let cli =
            C::from_arg_matches_mut(&mut matches).unwrap_or_else(|e| e.format(&mut cmd).exit());
        (cli, daemon)
    }

    /// The whole command line of a program that has no parser of its own: `name` and
    /// `version` for `--version`, `--help`, and the daemon flags.
    pub fn command(
        name: &'static str,
        version: &'static str,
        about: Option<&'static str>,
    ) -> Command {
        let cmd = Command::new(name).version(version);
        let cmd = match about {
            Some(about) if !about.is_empty() => cmd.about(about),
            _ => cmd,
        };
        Self::augment(cmd)
    }

    /// Parses the process's arguments with [`command`](Self::command).
    pub fn parse_bare(
        name: &'static str,
        version: &'static str,
        about: Option<&'static str>,
    ) -> DaemonArgs {
        let mut cmd = Self::command(name, version, about);
        let matches = cmd.clone().get_matches();
        Self::from_matches(&matches).unwrap_or_else(|e| e.format(&mut cmd).exit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let (cli, daemon) = DaemonArgs::parse_with_from::<Cli, _, _>([
            "app", "--port", "80", "--daemon", "--umask", "077", "check",
        ]);
        assert_eq!(cli.port, Some(80));
        assert_eq!(cli.cmd, Some(Sub::Check));
        assert!(daemon.detach);
        assert_eq!(daemon.umask, Some(0o77));
        assert_eq!(daemon.action(), Action::Start);
    }

    #[test]
    fn augmented_command_keeps_name_version_about() {
        let cmd = DaemonArgs::augment(<Cli as clap::CommandFactory>::command());
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
        assert_eq!(o.detach, Some(true));
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

    #[test]
    fn bad_umask_flag_is_a_usage_error() {
        let err = DaemonArgs::command("x", "0", None)
            .try_get_matches_from(["x", "--umask", "1000"])
            .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(err.to_string().contains("`1000` is above 0o777"), "{err}");
    }
}
