//! Whole-process benchmarks of daemon-runtime beside the crates users would pick
//! instead, in one run so that the machine's noise cancels out.
//!
//! ```text
//! cargo bench -p daemon-bench                      # 30 runs; prints the table
//! cargo bench -p daemon-bench -- --runs 5          # a quick look
//! cargo bench -p daemon-bench -- --write           # also updates BENCHMARKS.md
//! ```
//!
//! Each run measures every system once, in an order that rotates from run to run:
//! the launcher's wall time and whether the PID file named the live daemon the instant
//! it returned; the daemon's resident memory; the stop command's wall time and the gap
//! between the daemon's exit (seen by a thread polling the harness's own pidfd) and
//! the stop command's return. Then, round by round, `--cycles` start/stop pairs in a
//! row per system. Sizes are those of the binaries `cargo bench` built, all in the
//! same (bench, release-derived) profile, plus `tick_macro` without daemon-runtime's
//! `config` feature, which the harness builds itself first (see `lean.rs`).
//!
//! Options: `--runs N` (default 30), `--rounds N` rounds of cycles (default: as many as
//! runs), `--cycles N` per round (default 100), `--write [FILE]` (default: the
//! workspace's `BENCHMARKS.md`; cargo runs benches in `bench/`, so a relative FILE is
//! taken from there). `--write` replaces the generated section of an existing file and
//! keeps everything around it.

#![cfg_attr(not(target_os = "linux"), allow(dead_code, unused_imports))]

#[cfg(target_os = "linux")]
mod cleanup;
#[cfg(target_os = "linux")]
mod lean;
#[cfg(target_os = "linux")]
mod procfs;
#[cfg(target_os = "linux")]
mod report;
mod stats;
#[cfg(target_os = "linux")]
mod system;

use std::path::PathBuf;

use stats::Samples;
#[cfg(target_os = "linux")]
use system::{Kind, System};

/// The command line.
#[derive(Debug)]
struct Options {
    runs: usize,
    rounds: usize,
    cycles: usize,
    write: Option<PathBuf>,
    /// The arguments as given, for the command shown in the report.
    given: Vec<String>,
}

impl Options {
    fn parse() -> Options {
        let usage = "usage: cargo bench -p daemon-bench -- [--runs N] [--rounds N] \
                     [--cycles N] [--write [FILE]]";
        let mut runs = 30;
        let mut rounds = None;
        let mut cycles = 100;
        let mut write = None;
        let mut given = Vec::new();
        // cargo passes `--bench` to a bench without the libtest harness.
        let mut args = std::env::args()
            .skip(1)
            .filter(|a| a != "--bench")
            .peekable();
        let number = |v: Option<String>| -> usize {
            v.and_then(|v| v.parse().ok())
                .filter(|&n| n > 0)
                .unwrap_or_else(|| panic!("{usage}"))
        };
        while let Some(arg) = args.next() {
            given.push(arg.clone());
            match arg.as_str() {
                "--runs" | "--rounds" | "--cycles" => {
                    let value = args.next();
                    given.extend(value.clone());
                    let n = number(value);
                    match arg.as_str() {
                        "--runs" => runs = n,
                        "--rounds" => rounds = Some(n),
                        _ => cycles = n,
                    }
                }
                "--write" => {
                    let default =
                        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../BENCHMARKS.md"));
                    write = Some(match args.next_if(|a| !a.starts_with("--")) {
                        Some(path) => {
                            given.push(path.clone());
                            PathBuf::from(path)
                        }
                        None => default,
                    });
                }
                _ => panic!("unknown argument {arg:?}\n{usage}"),
            }
        }
        Options {
            runs,
            rounds: rounds.unwrap_or(runs),
            cycles,
            write,
            given,
        }
    }
}

/// Everything measured of one system.
#[derive(Debug, Default)]
struct Measured {
    start_ms: Samples,
    ready: usize,
    stop_ms: Samples,
    gap_ms: Samples,
    cycles_ms: Samples,
    rss_kib: Samples,
    anon_kib: Samples,
}

/// The systems, ours first, the floor last.
#[cfg(target_os = "linux")]
fn systems() -> Vec<System> {
    let stop = env!("CARGO_BIN_EXE_stop_pidfd");
    let mut list = Vec::new();
    // The attribute form exists once daemon-runtime re-exports `#[daemonize]`.
    if let Some(exe) = option_env!("CARGO_BIN_EXE_tick_macro") {
        list.push(System::new("macro", Kind::Ours, exe, stop));
    }
    list.push(System::new(
        "builder",
        Kind::Ours,
        env!("CARGO_BIN_EXE_tick_builder"),
        stop,
    ));
    list.push(System::new(
        "daemonize",
        Kind::Other,
        env!("CARGO_BIN_EXE_tick_daemonize"),
        stop,
    ));
    list.push(System::new(
        "blivet",
        Kind::Other,
        env!("CARGO_BIN_EXE_tick_blivet"),
        stop,
    ));
    list.push(System::new(
        "floor",
        Kind::Other,
        env!("CARGO_BIN_EXE_tick_floor"),
        stop,
    ));
    list
}

/// The memory and size baselines: the same program in the foreground, without
/// daemonizing: bare, with the clap command line, and with that and a TOML config file.
#[cfg(target_os = "linux")]
fn baselines() -> Vec<(&'static str, PathBuf)> {
    vec![
        (
            "tick_plain",
            system::binary(env!("CARGO_BIN_EXE_tick_plain")),
        ),
        (
            "clap_plain",
            system::binary(env!("CARGO_BIN_EXE_clap_plain")),
        ),
        ("clap_toml", system::binary(env!("CARGO_BIN_EXE_clap_toml"))),
    ]
}

/// `items` rotated left by `by`, so that no system always goes first.
fn rotated<T>(items: &[T], by: usize) -> impl Iterator<Item = (usize, &T)> {
    let n = items.len();
    (0..n).map(move |k| {
        let i = (k + by) % n;
        (i, &items[i])
    })
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("daemon-bench needs Linux (pidfds, /proc); nothing measured");
}

#[cfg(target_os = "linux")]
fn main() {
    let options = Options::parse();
    // Before anything is started or timed: a build, not a measurement.
    let lean = lean::build();
    let _guard = cleanup::install();
    let systems = systems();
    let baselines = baselines();
    let mut measured: Vec<Measured> = systems.iter().map(|_| Measured::default()).collect();
    let mut baseline_rss: Vec<Samples> = baselines.iter().map(|_| Samples::default()).collect();
    let mut baseline_anon: Vec<Samples> = baselines.iter().map(|_| Samples::default()).collect();

    eprintln!(
        "daemon-bench: {} systems, {} runs, {} rounds of {} start/stop cycles",
        systems.len(),
        options.runs,
        options.rounds,
        options.cycles
    );
    // Warm-up: page cache, dynamic loader, first-touch of the scratch directories.
    for system in &systems {
        let started = system.start();
        system.stop(&started.daemon);
    }
    for (_, exe) in &baselines {
        system::plain_memory(exe);
    }
    // Other work on the machine moves every number; the report says how busy it was.
    let load_before = procfs::load_average();

    for run in 0..options.runs {
        for (i, system) in rotated(&systems, run) {
            let started = system.start();
            let m = &mut measured[i];
            m.start_ms.push(started.wall.as_secs_f64() * 1e3);
            m.ready += usize::from(started.ready);
            if let Some(memory) = procfs::memory(started.daemon.pid()) {
                m.rss_kib.push(memory.rss as f64);
                m.anon_kib.push(memory.anon as f64);
            }
            let stopped = system.stop(&started.daemon);
            m.stop_ms.push(stopped.wall.as_secs_f64() * 1e3);
            m.gap_ms.push(stopped.gap * 1e3);
        }
        for (i, (_, exe)) in rotated(&baselines, run) {
            let memory = system::plain_memory(exe);
            baseline_rss[i].push(memory.rss as f64);
            baseline_anon[i].push(memory.anon as f64);
        }
        eprint!("\rruns: {}/{}", run + 1, options.runs);
    }
    eprintln!();
    for round in 0..options.rounds {
        for (i, system) in rotated(&systems, round) {
            let total = system.cycles(options.cycles);
            measured[i].cycles_ms.push(total.as_secs_f64() * 1e3);
        }
        eprint!("\rcycle rounds: {}/{}", round + 1, options.rounds);
    }
    eprintln!();
    let load = [load_before, procfs::load_average()];

    let mut sizes: Vec<(String, u64)> = systems
        .iter()
        .map(|s| (s.name.to_owned(), file_size(&s.exe)))
        .collect();
    sizes.push((lean::NAME.to_owned(), file_size(&lean)));
    sizes.extend(
        baselines
            .iter()
            .map(|(name, exe)| ((*name).to_owned(), file_size(exe))),
    );

    let report = report::Report {
        options: &options,
        systems: &systems,
        measured: &measured,
        baselines: &baselines,
        baseline_rss: &baseline_rss,
        baseline_anon: &baseline_anon,
        sizes: &sizes,
        load: &load,
    };
    let text = report.markdown();
    println!("{text}");
    if let Some(path) = &options.write {
        report::write(path, &report.document(&text))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        eprintln!("wrote {}", path.display());
    }
}

#[cfg(target_os = "linux")]
fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}
