//! The binary-size baseline: the same clap command line as `tick_builder` (the flags of
//! daemon-runtime's `DaemonArgs`, copied), without daemon-runtime. It runs in the
//! foreground, prints `up`, and waits for SIGTERM, like `tick_plain`.

use std::io::Write;
use std::path::PathBuf;

use clap::Parser;
use daemon_bench::TermSignals;

#[derive(Parser, Debug)]
#[command(
    name = "clap_plain",
    version,
    about = "Benchmark daemon: waits for SIGTERM"
)]
#[command(next_help_heading = "Daemon")]
#[command(group(clap::ArgGroup::new("daemon-action").multiple(false)))]
struct Cli {
    /// Detach and run in the background; returns once the daemon is ready, or says why it failed
    #[arg(long = "daemon", group = "daemon-action")]
    detach: bool,

    /// Stop the running daemon: SIGTERM, then SIGKILL after the stop timeout
    #[arg(long, group = "daemon-action")]
    stop: bool,

    /// Report whether the daemon runs (exit 0 running, 1 stale PID file, 3 stopped, 4 unknown)
    #[arg(long, group = "daemon-action")]
    status: bool,

    /// Stop the daemon if it runs, then start it in the background
    #[arg(long, group = "daemon-action")]
    restart: bool,

    /// Make the running daemon reload: SIGHUP (it also reopens its log files)
    #[arg(long, group = "daemon-action")]
    reload: bool,

    /// Read settings from the `[daemon]` table of this TOML file
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// PID file: locked while the daemon runs, names its pid
    #[arg(long = "pid-file", value_name = "FILE")]
    pid_file: Option<PathBuf>,

    /// Run as this user (name or uid); needs root
    #[arg(long, value_name = "USER")]
    user: Option<String>,

    /// Run as this group (name or gid); defaults to the user's primary group
    #[arg(long, value_name = "GROUP")]
    group: Option<String>,

    /// Working directory (default when detached: /)
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,

    /// File mode creation mask, in octal (default: 027)
    #[arg(long, value_name = "MASK", value_parser = umask)]
    umask: Option<u32>,
}

fn umask(text: &str) -> Result<u32, String> {
    let digits = text.strip_prefix("0o").unwrap_or(text);
    match u32::from_str_radix(digits, 8) {
        Ok(mask) if mask <= 0o777 => Ok(mask),
        Ok(_) => Err(format!("`{text}` is above 0o777")),
        Err(e) => Err(format!("`{text}` is not an octal umask: {e}")),
    }
}

fn main() {
    let cli = Cli::parse();
    let term = TermSignals::block();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "up {} {:?}", std::process::id(), cli.pid_file);
    let _ = out.flush();
    drop(out);
    term.wait();
}
