//! The command line of the clap baselines: the flags of daemon-runtime's `DaemonArgs`,
//! copied, as a program would declare them without daemon-runtime. Included by
//! `clap_plain` and `clap_toml` with `#[path]`, so both parse the very same command line.

use std::path::PathBuf;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = env!("CARGO_BIN_NAME"),
    version,
    about = "Benchmark daemon: waits for SIGTERM"
)]
#[command(next_help_heading = "Daemon")]
#[command(group(clap::ArgGroup::new("daemon-action").multiple(false)))]
pub(crate) struct Cli {
    /// Detach and run in the background; returns once the daemon is ready, or says why it failed
    #[arg(long = "daemon", group = "daemon-action")]
    pub(crate) detach: bool,

    /// Stop the running daemon: SIGTERM, then SIGKILL after the stop timeout
    #[arg(long, group = "daemon-action")]
    pub(crate) stop: bool,

    /// Report whether the daemon runs (exit 0 running, 1 stale PID file, 3 stopped, 4 unknown)
    #[arg(long, group = "daemon-action")]
    pub(crate) status: bool,

    /// Stop the daemon if it runs, then start it in the background
    #[arg(long, group = "daemon-action")]
    pub(crate) restart: bool,

    /// Make the running daemon reload: SIGHUP (it also reopens its log files)
    #[arg(long, group = "daemon-action")]
    pub(crate) reload: bool,

    /// Read settings from the `[daemon]` table of this TOML file
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// PID file: locked while the daemon runs, names its pid
    #[arg(long = "pid-file", value_name = "FILE")]
    pub(crate) pid_file: Option<PathBuf>,

    /// Run as this user (name or uid); needs root
    #[arg(long, value_name = "USER")]
    pub(crate) user: Option<String>,

    /// Run as this group (name or gid); defaults to the user's primary group
    #[arg(long, value_name = "GROUP")]
    pub(crate) group: Option<String>,

    /// Working directory (default when detached: /)
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,

    /// File mode creation mask, in octal (default: 027)
    #[arg(long, value_name = "MASK", value_parser = umask)]
    pub(crate) umask: Option<u32>,
}

fn umask(text: &str) -> Result<u32, String> {
    let digits = text.strip_prefix("0o").unwrap_or(text);
    match u32::from_str_radix(digits, 8) {
        Ok(mask) if mask <= 0o777 => Ok(mask),
        Ok(_) => Err(format!("`{text}` is above 0o777")),
        Err(e) => Err(format!("`{text}` is not an octal umask: {e}")),
    }
}
