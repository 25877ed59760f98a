//! The binary-size baseline with a config file: `clap_plain`'s command line plus a TOML
//! config file read the way most programs read one, `toml::from_str` into serde-derived
//! types. It is the program a user would have written without daemon-runtime's `config`
//! feature: `--config FILE` with a `[daemon]` table of the runtime's keys (unknown keys
//! refused, with the line), flags over file values. It runs in the foreground, prints
//! `up`, and waits for SIGTERM, like `clap_plain`.
//!
//! Serde derive rather than toml's `Table` API: derive is what toml's documentation
//! shows and what programs write, and it gives what `[daemon]` needs (typed keys,
//! unknown keys refused with their line) without hand-written checks. It is not the
//! cheaper choice by much: `Table`'s `FromStr` goes through the same serde
//! deserializer, so the two differ only by the derived visitors (see BENCHMARKS.md).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Parser;
use daemon_bench::TermSignals;
use serde::Deserialize;

#[path = "common/cli.rs"]
mod cli;

/// `EX_CONFIG`: the config file cannot be read or is invalid.
const EX_CONFIG: i32 = 78;

/// The config file: the `[daemon]` table, and the program's own tables, ignored here.
#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    daemon: DaemonTable,
}

/// The keys of daemon-runtime's `[daemon]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DaemonTable {
    name: Option<String>,
    user: Option<String>,
    group: Option<String>,
    dir: Option<PathBuf>,
    pid_file: Option<PathBuf>,
    umask: Option<u32>,
    stdout: Option<PathBuf>,
    stderr: Option<PathBuf>,
    chroot: Option<PathBuf>,
    stop_timeout: Option<u64>,
    start_timeout: Option<u64>,
}

fn load(path: &Path) -> ConfigFile {
    let parsed = std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|text| toml::from_str(&text).map_err(|e| e.to_string()));
    parsed.unwrap_or_else(|e| {
        eprintln!("clap_toml: {}: {e}", path.display());
        std::process::exit(EX_CONFIG)
    })
}

fn main() {
    let cli = cli::Cli::parse();
    let file = cli.config.as_deref().map(load).unwrap_or_default();
    let DaemonTable {
        name,
        user,
        group,
        dir,
        pid_file,
        umask,
        stdout,
        stderr,
        chroot,
        stop_timeout,
        start_timeout,
    } = file.daemon;
    // Flags over the file.
    let (pid_file, user, group) = (
        cli.pid_file.or(pid_file),
        cli.user.or(user),
        cli.group.or(group),
    );
    let (dir, umask) = (cli.dir.or(dir), cli.umask.or(umask));
    let term = TermSignals::block();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "up {} {name:?} {user:?} {group:?} {dir:?} {pid_file:?} {umask:?} {stdout:?} {stderr:?} \
         {chroot:?} {stop_timeout:?} {start_timeout:?}",
        std::process::id()
    );
    let _ = out.flush();
    drop(out);
    term.wait();
}
