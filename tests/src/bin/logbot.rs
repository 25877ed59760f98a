//! A daemon that logs on request, for the logger's integration tests
//! (`tests/tests/logging.rs`). Built with `#[daemonize]`, so that an error its body
//! returns and a panic in it take the path a real program's do.
//!
//! Once started it logs the `--record`s in order, then `--flood` records in a tight
//! loop, then reports through the `--done` file, then panics (`--panic`), returns an
//! error (`--fail`), returns (`--exit`) or runs until SIGTERM. With `--reload-log`,
//! each SIGHUP logs `reloaded N` and reports again.
//!
//! The report is the file `--done` names, replaced atomically (written aside, then
//! renamed) so that a reader never sees half of it: `pid=P dropped=D reloads=R`, where
//! `dropped` is the logger's count of records it dropped and has not yet reported. The
//! records logged before a report went out before it: a test that sees the report can
//! read the destination without waiting any further.

use std::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use clap::Parser;
use daemon_runtime::daemonize;
use log::Level;

/// Logs on request, to show where the runtime's logger sends records
#[derive(Parser)]
#[command(name = "logbot", version)]
struct Cli {
    /// A record to log once started: `LEVEL TARGET MESSAGE` (space-separated; the
    /// message may hold anything, newlines included). Repeatable, logged in order.
    #[arg(long = "record", value_name = "SPEC", value_parser = parse_record)]
    records: Vec<Spec>,

    /// Then log this many info records under `logbot::flood`, as fast as possible.
    #[arg(long, value_name = "N", default_value_t = 0)]
    flood: u64,

    /// Then report (pid, drop count, reloads) in this file; again after each reload.
    #[arg(long, value_name = "FILE")]
    done: Option<PathBuf>,

    /// On each SIGHUP, log `reloaded N` (info, target `logbot`), then report.
    #[arg(long)]
    reload_log: bool,

    /// Then return this error from the body, its `source()` chain made of `--cause`s.
    #[arg(long, value_name = "MESSAGE")]
    fail: Option<String>,

    /// The error's cause, and the cause's, in order (with `--fail`).
    #[arg(long = "cause", value_name = "MESSAGE")]
    causes: Vec<String>,

    /// Then panic with this message.
    #[arg(long, value_name = "MESSAGE")]
    panic: Option<String>,

    /// Then return instead of running until SIGTERM.
    #[arg(long)]
    exit: bool,

    /// Make the privileged action (run in the daemon after the fork, before readiness)
    /// fail with this message.
    #[arg(long, value_name = "MESSAGE")]
    privileged_fail: Option<String>,

    /// Make the privileged action panic with this message.
    #[arg(long, value_name = "MESSAGE")]
    privileged_panic: Option<String>,
}

/// One `--record`.
#[derive(Clone, Debug)]
struct Spec {
    level: Level,
    target: String,
    message: String,
}

fn parse_record(spec: &str) -> Result<Spec, String> {
    let mut parts = spec.splitn(3, ' ');
    let (Some(level), Some(target), Some(message)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("`{spec}` is not `LEVEL TARGET MESSAGE`"));
    };
    let level = level
        .parse()
        .map_err(|_| format!("`{level}` is not a log level"))?;
    Ok(Spec {
        level,
        target: target.to_owned(),
        message: message.to_owned(),
    })
}

/// An error with a chain of causes, each its own `Error` whose `source()` is the next.
#[derive(Debug)]
struct Failure {
    message: String,
    source: Option<Box<Failure>>,
}

impl Failure {
    fn chain(message: String, causes: &[String]) -> Failure {
        let source = causes
            .split_first()
            .map(|(first, rest)| Box::new(Failure::chain(first.clone(), rest)));
        Failure { message, source }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for Failure {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|cause| cause as _)
    }
}

/// The privileged action. It runs in the daemon, where the parsed command line is out
/// of reach (the attribute calls it with no arguments), so it reads its flags from the
/// process's arguments.
fn privileged() -> Result<(), String> {
    if let Some(message) = flag_value("--privileged-panic") {
        panic!("{message}");
    }
    flag_value("--privileged-fail").map_or(Ok(()), Err)
}

/// The value of `--flag VALUE` or `--flag=VALUE` in the process's arguments.
fn flag_value(flag: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().enumerate().find_map(|(i, arg)| {
        if arg == flag {
            args.get(i + 1).cloned()
        } else {
            arg.strip_prefix(flag)?.strip_prefix('=').map(str::to_owned)
        }
    })
}

#[daemonize(privileged = privileged)]
fn main(cli: Cli, (): ()) -> Result<(), Box<dyn Error>> {
    let reloads = std::sync::Arc::new(AtomicU64::new(0));
    if cli.reload_log {
        let done = cli.done.clone();
        let reloads = reloads.clone();
        daemon_runtime::on_reload(move || {
            let n = reloads.fetch_add(1, Ordering::SeqCst) + 1;
            log::info!(target: "logbot", "reloaded {n}");
            if let Some(done) = &done {
                report(done, n);
            }
        });
    }
    // Taken before the records: SIGTERM then ends the wait below, not the process.
    let shutdown = daemon_runtime::shutdown();
    for spec in &cli.records {
        log::log!(target: &spec.target, spec.level, "{}", spec.message);
    }
    for i in 1..=cli.flood {
        log::info!(target: "logbot::flood", "flood record {i} of {}", cli.flood);
    }
    if let Some(done) = &cli.done {
        report(done, reloads.load(Ordering::SeqCst));
    }
    if let Some(message) = cli.panic {
        panic!("{message}");
    }
    if let Some(message) = cli.fail {
        return Err(Box::new(Failure::chain(message, &cli.causes)));
    }
    if !cli.exit {
        shutdown.wait();
    }
    Ok(())
}

/// Replaces `done` with `pid=P dropped=D reloads=R`. A failure panics: the test waiting
/// for the file then sees the panic in the log instead of a report.
fn report(done: &Path, reloads: u64) {
    let text = format!(
        "pid={} dropped={} reloads={reloads}\n",
        std::process::id(),
        daemon_runtime::logger::dropped()
    );
    let mut aside = done.as_os_str().to_owned();
    aside.push(".tmp");
    std::fs::write(&aside, text).expect("write the report");
    std::fs::rename(&aside, done).expect("rename the report into place");
}
