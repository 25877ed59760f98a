//! The markdown table, the targets, and `BENCHMARKS.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::stats::Samples;
use crate::system::System;
use crate::{Measured, Options, lean, procfs};

/// The systems the ratio columns compare against, in column order.
const REFERENCES: [&str; 3] = ["floor", "daemonize", "blivet"];

/// What the table is made of.
pub(crate) struct Report<'a> {
    pub(crate) options: &'a Options,
    pub(crate) systems: &'a [System],
    pub(crate) measured: &'a [Measured],
    pub(crate) baselines: &'a [(&'static str, PathBuf)],
    pub(crate) baseline_rss: &'a [Samples],
    pub(crate) baseline_anon: &'a [Samples],
    pub(crate) sizes: &'a [(String, u64)],
    /// `/proc/loadavg` (1, 5, 15 minutes) before the first run and after the last round.
    pub(crate) load: &'a [String; 2],
}

/// Picks one measure's samples out of everything measured of a system.
type SamplesOf = fn(&Measured) -> &Samples;

/// One row: a measure of one system.
struct Row<'a> {
    measure: &'static str,
    name: &'a str,
    median: f64,
    spread: String,
    notes: String,
}

fn ms(v: f64) -> String {
    if v.abs() < 10.0 {
        format!("{v:.3}")
    } else {
        format!("{v:.1}")
    }
}

/// The measure of the start/stop cycles, and of the stop command's delay.
const CYCLES: &str = "start+stop ×100 (ms)";
const GAP: &str = "exit → stop returns (ms)";

fn verdict(holds: bool, by: String) -> String {
    if holds {
        "holds".to_owned()
    } else {
        format!("**missed** by {by}")
    }
}

fn kib(v: f64) -> String {
    format!("{v:.0}")
}

fn spread_ms(s: &Samples) -> String {
    format!("{}–{}", ms(s.quantile(0.1)), ms(s.quantile(0.9)))
}

fn signed_kib(v: f64) -> String {
    if v >= 0.0 {
        format!("+{v:.0} KiB")
    } else {
        format!("−{:.0} KiB", -v)
    }
}

impl Report<'_> {
    fn system(&self, name: &str) -> Option<usize> {
        self.systems.iter().position(|s| s.name == name)
    }

    /// The median of a baseline's samples (`self.baseline_rss` or `self.baseline_anon`).
    fn baseline(&self, samples: &[Samples], name: &str) -> Option<f64> {
        let i = self.baselines.iter().position(|(n, _)| *n == name)?;
        Some(samples[i].median())
    }

    fn size_kib(&self, name: &str) -> Option<f64> {
        self.sizes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, bytes)| *bytes as f64 / 1024.0)
    }

    fn ours(&self) -> impl Iterator<Item = (usize, &System)> {
        self.systems
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == crate::system::Kind::Ours)
    }

    /// What a binary size is over the baseline its target compares it with.
    fn size_notes(&self, name: &str, size: f64) -> String {
        let over = |baseline: &str| {
            self.size_kib(baseline)
                .map(|b| format!("{} vs {baseline}", signed_kib(size - b)))
        };
        let is_ours = self
            .system(name)
            .is_some_and(|i| self.systems[i].kind == crate::system::Kind::Ours);
        let notes: Vec<String> = if is_ours {
            [over("clap_toml"), over("clap_plain")]
                .into_iter()
                .flatten()
                .collect()
        } else if name == lean::NAME {
            over("clap_plain")
                .into_iter()
                .chain(["`tick_macro_noconfig`".to_owned()])
                .collect()
        } else {
            Vec::new()
        };
        notes.join(", ")
    }

    fn rows(&self) -> Vec<Row<'_>> {
        let mut rows = Vec::new();
        let runs = self.options.runs;
        for (i, s) in self.systems.iter().enumerate() {
            let m = &self.measured[i];
            rows.push(Row {
                measure: "start (ms)",
                name: s.name,
                median: m.start_ms.median(),
                spread: spread_ms(&m.start_ms),
                notes: format!(
                    "PID file named the live daemon at return: {}/{runs}",
                    m.ready
                ),
            });
        }
        for (i, s) in self.systems.iter().enumerate() {
            let m = &self.measured[i];
            rows.push(Row {
                measure: "stop (ms)",
                name: s.name,
                median: m.stop_ms.median(),
                spread: spread_ms(&m.stop_ms),
                notes: s.stop_label(),
            });
        }
        for (i, s) in self.systems.iter().enumerate() {
            let m = &self.measured[i];
            rows.push(Row {
                measure: GAP,
                name: s.name,
                median: m.gap_ms.median(),
                spread: spread_ms(&m.gap_ms),
                notes: format!("max {}", ms(m.gap_ms.max())),
            });
        }
        for (i, s) in self.systems.iter().enumerate() {
            let m = &self.measured[i];
            rows.push(Row {
                measure: CYCLES,
                name: s.name,
                median: m.cycles_ms.median(),
                spread: spread_ms(&m.cycles_ms),
                notes: format!(
                    "{} rounds of {} cycles",
                    m.cycles_ms.len(),
                    self.options.cycles
                ),
            });
        }
        let memory: [(&'static str, SamplesOf, &[Samples]); 2] = [
            ("RSS (KiB)", |m| &m.rss_kib, self.baseline_rss),
            ("RssAnon (KiB)", |m| &m.anon_kib, self.baseline_anon),
        ];
        for (measure, of, baseline) in memory {
            let plain = self.baseline(baseline, "tick_plain");
            let clap = self.baseline(baseline, "clap_plain");
            for (i, s) in self.systems.iter().enumerate() {
                let r = of(&self.measured[i]);
                let notes = match (plain, clap) {
                    (Some(p), Some(c)) if s.kind == crate::system::Kind::Ours => format!(
                        "{} vs tick_plain, {} vs clap_plain",
                        signed_kib(r.median() - p),
                        signed_kib(r.median() - c)
                    ),
                    _ => String::new(),
                };
                rows.push(Row {
                    measure,
                    name: s.name,
                    median: r.median(),
                    spread: format!("{}–{}", kib(r.min()), kib(r.max())),
                    notes,
                });
            }
            for (i, (name, _)) in self.baselines.iter().enumerate() {
                let r = &baseline[i];
                rows.push(Row {
                    measure,
                    name,
                    median: r.median(),
                    spread: format!("{}–{}", kib(r.min()), kib(r.max())),
                    notes: "foreground, no daemonizing".to_owned(),
                });
            }
        }
        for (name, bytes) in self.sizes {
            rows.push(Row {
                measure: "binary (KiB)",
                name,
                median: *bytes as f64 / 1024.0,
                spread: "—".to_owned(),
                notes: self.size_notes(name, *bytes as f64 / 1024.0),
            });
        }
        rows
    }

    /// The median of the same measure for system `reference`, from the rows.
    fn reference<'r>(rows: &'r [Row<'_>], measure: &str, reference: &str) -> Option<&'r Row<'r>> {
        rows.iter()
            .find(|r| r.measure == measure && r.name == reference)
    }

    /// The table, the targets, and what the names mean.
    pub(crate) fn markdown(&self) -> String {
        let rows = self.rows();
        let mut out = String::new();
        let _ = write!(out, "| measure | system | median | spread |");
        for r in REFERENCES {
            let _ = write!(out, " × {r} |");
        }
        let _ = writeln!(out, " notes |");
        let _ = write!(out, "|---|---|--:|--:|");
        for _ in REFERENCES {
            let _ = write!(out, "--:|");
        }
        let _ = writeln!(out, "---|");
        for row in &rows {
            let is_ms = row.measure.contains("(ms)");
            let value = if is_ms {
                ms(row.median)
            } else {
                kib(row.median)
            };
            let _ = write!(
                out,
                "| {} | {} | {} | {} |",
                row.measure, row.name, value, row.spread
            );
            for reference in REFERENCES {
                // A ratio of two gaps says nothing: they are near zero, either sign.
                let ratio = Self::reference(&rows, row.measure, reference)
                    .filter(|_| !row.measure.starts_with("exit"))
                    .map(|r| row.median / r.median)
                    .filter(|r| r.is_finite())
                    .map_or_else(|| "—".to_owned(), |r| format!("{r:.2}"));
                let _ = write!(out, " {ratio} |");
            }
            let _ = writeln!(out, " {} |", row.notes);
        }
        out.push('\n');
        out.push_str(&self.targets(&rows));
        out.push('\n');
        out.push_str(LEGEND);
        out
    }

    /// Whether each target of issue 9 (memory: issue 6) holds for our systems.
    fn targets(&self, rows: &[Row<'_>]) -> String {
        let mut out = String::from("Targets (medians):\n\n");
        for (i, s) in self.ours() {
            self.time_targets(&mut out, s.name, rows);
            self.stop_target(&mut out, s.name, &self.measured[i]);
            self.memory_target(&mut out, s.name, &self.measured[i]);
            self.size_target(&mut out, s.name, "clap_toml", 300.0);
        }
        self.size_target(&mut out, lean::NAME, "clap_plain", 200.0);
        out
    }

    /// Start within 1.10× the floor; the cycles within 1.10× the floor, and faster than
    /// blivet (a ratio below 1).
    fn time_targets(&self, out: &mut String, name: &str, rows: &[Row<'_>]) {
        let cycles = format!("{} start/stop cycles", self.options.cycles);
        let targets = [
            (
                "start (ms)",
                "floor",
                1.10,
                "start within 1.10× the floor".to_owned(),
            ),
            (
                CYCLES,
                "floor",
                1.10,
                format!("{cycles} within 1.10× the floor"),
            ),
            (
                CYCLES,
                "blivet",
                1.0,
                format!("{cycles} faster than blivet"),
            ),
        ];
        for (measure, reference, limit, what) in targets {
            let median = |system: &str| Self::reference(rows, measure, system).map(|r| r.median);
            let (Some(ours), Some(theirs)) = (median(name), median(reference)) else {
                continue;
            };
            let ratio = ours / theirs;
            // "Within" allows the limit itself; "faster than" does not.
            let holds = if reference == "blivet" {
                ratio < limit
            } else {
                ratio <= limit
            };
            let _ = writeln!(
                out,
                "- {name}: {what}: {ratio:.2}× ({} ms vs {} ms): {}",
                ms(ours),
                ms(theirs),
                verdict(holds, format!("{} ms", ms(ours - limit * theirs)))
            );
        }
    }

    /// `--stop` returns within 1.5× as long after the daemon's exit as the floor's
    /// bare pidfd stop does.
    fn stop_target(&self, out: &mut String, name: &str, m: &Measured) {
        let Some(floor) = self.system("floor").map(|i| &self.measured[i].gap_ms) else {
            return;
        };
        let (gap, floor_gap) = (m.gap_ms.median(), floor.median());
        let ratio = if floor_gap > 0.0 {
            format!("{:.2}×", gap / floor_gap)
        } else {
            "—".to_owned()
        };
        let _ = writeln!(
            out,
            "- {name}: `--stop` returns within 1.5× as long after the daemon's exit as the \
             floor's `stop_pidfd`: {ratio} ({} ms vs {} ms; p90 {} ms vs {} ms): {}",
            ms(gap),
            ms(floor_gap),
            ms(m.gap_ms.quantile(0.9)),
            ms(floor.quantile(0.9)),
            verdict(
                gap <= 1.5 * floor_gap,
                format!("{} ms", ms(gap - 1.5 * floor_gap))
            )
        );
    }

    /// RssAnon within 64 KiB of the plain program (issue 6's target, kept).
    fn memory_target(&self, out: &mut String, name: &str, m: &Measured) {
        let plain = self.baseline(self.baseline_anon, "tick_plain");
        let clap = self.baseline(self.baseline_anon, "clap_plain");
        let plain_rss = self.baseline(self.baseline_rss, "tick_plain");
        let (Some(plain), Some(clap), Some(plain_rss)) = (plain, clap, plain_rss) else {
            return;
        };
        let anon = m.anon_kib.median();
        let _ = writeln!(
            out,
            "- {name}: resident memory within 64 KiB of the plain program (judged on RssAnon): \
             {} KiB vs tick_plain's {} KiB, {} ({} vs clap_plain; VmRSS {} KiB vs {} KiB): {}",
            kib(anon),
            kib(plain),
            signed_kib(anon - plain),
            signed_kib(anon - clap),
            kib(m.rss_kib.median()),
            kib(plain_rss),
            verdict(anon - plain <= 64.0, signed_kib(anon - plain - 64.0))
        );
    }

    /// The binary `name` within `limit` KiB of the baseline `baseline`.
    fn size_target(&self, out: &mut String, name: &str, baseline: &str, limit: f64) {
        let (Some(size), Some(base)) = (self.size_kib(name), self.size_kib(baseline)) else {
            return;
        };
        let _ = writeln!(
            out,
            "- {name}: binary within {limit:.0} KiB of {baseline}: {} KiB vs {} KiB, {}: {}",
            kib(size),
            kib(base),
            signed_kib(size - base),
            verdict(size - base <= limit, signed_kib(size - base - limit))
        );
    }

    /// The generated part of `BENCHMARKS.md`: when, where, how, and the results.
    pub(crate) fn document(&self, markdown: &str) -> String {
        let mut command = String::from("cargo bench -p daemon-bench");
        if !self.options.given.is_empty() {
            command.push_str(" -- ");
            command.push_str(&self.options.given.join(" "));
        }
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
        let rustc = std::process::Command::new("rustc")
            .arg("-V")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|| "rustc (unknown version)".to_owned());
        format!(
            "{BEGIN}\n## Latest run\n\n\
             - date: {} (UTC)\n\
             - machine: {cpus} CPUs ({}), Linux {}, {rustc}\n\
             - load average (1, 5, 15 min): {} before the runs, {} after\n\
             - scratch directories and PID files under {}\n\
             - command: `{command}` (from the workspace root; this section is written by it)\n\
             - {} runs, {} rounds of {} start/stop cycles\n\n\
             {markdown}{END}\n",
            today(),
            procfs::cpu_model().unwrap_or_else(|| "unknown CPU".to_owned()),
            procfs::kernel(),
            self.load[0],
            self.load[1],
            self.systems
                .first()
                .map_or_else(|| "?".to_owned(), System::scratch),
            self.options.runs,
            self.options.rounds,
            self.options.cycles,
        )
    }
}

const BEGIN: &str = "<!-- daemon-bench:begin: generated by `cargo bench -p daemon-bench -- --write`; \
                     edit outside these markers -->";
const END: &str = "<!-- daemon-bench:end -->";

const LEGEND: &str = "\
Systems, all the same tiny daemon (start, write a PID file, wait for SIGTERM, exit): \
`macro` is `tick_macro` (daemon-runtime's `#[daemonize]`), `builder` is `tick_builder` \
(`Daemon::builder()` with `DaemonArgs`), `daemonize` is `tick_daemonize` (knsd's daemonize \
0.5), `blivet` is `tick_blivet` (blivet 0.15, no default features), `floor` is `tick_floor` \
(fork, setsid, fork, write the pid, acknowledge over a pipe; nothing else). `tick_plain` is \
the program without daemonizing or a command line, `clap_plain` the same with the clap \
command line of `tick_builder`, `clap_toml` that plus a `--config` TOML file read into \
serde-derived types with `toml::from_str` (a `[daemon]` table of the runtime's keys, unknown \
keys refused); all three run in the foreground. `macro (no config)` is `tick_macro_noconfig`: \
the source of `tick_macro` built against daemon-runtime without its default `config` \
feature (package `bench/lean`, which the harness builds alone so that Cargo's feature \
unification cannot turn `config` back on, and whose `--help` it checks has no `--config`); \
it is only sized.

start: wall time of the launching command. stop: wall time of the stop command, a whole \
process for every system (`stop_pidfd` reads the PID file and sends SIGTERM through a \
pidfd, then polls it, as `--stop` does, without its checks). exit → stop returns: when the \
stop command returned, minus when the harness's own pidfd on the daemon became readable. \
RSS and RssAnon: `VmRSS` and `RssAnon` of the daemon after start (of the plain programs \
once they print `up`). VmRSS cannot be compared across the two: a forked daemon has only \
the file pages it touched since the fork mapped, an exec'd program every page the loader \
touched; RssAnon (heap, stack, relocated data) is what each process costs on its own, and \
is what the memory target is judged on. \
binary: file size as `cargo bench` built it (release profile settings, symbols stripped). \
Spread: p10–p90 for times, min–max for memory. × columns: this system's median over that \
system's median.
";

/// Writes `generated` into `path`, between the markers of an earlier run if the file
/// has them (keeping what is around them), or as a new file.
pub(crate) fn write(path: &Path, generated: &str) -> std::io::Result<()> {
    let old = match std::fs::read_to_string(path) {
        Ok(old) => old,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let new = match (old.find("<!-- daemon-bench:begin"), old.find(END)) {
        (Some(begin), Some(end)) if begin < end => {
            let after = &old[end + END.len()..];
            let after = after.strip_prefix('\n').unwrap_or(after);
            format!("{}{generated}{after}", &old[..begin])
        }
        _ if old.is_empty() => format!("# Benchmarks\n\n{generated}"),
        _ => format!("{}\n\n{generated}", old.trim_end()),
    };
    std::fs::write(path, new)
}

/// Today's date, UTC, as `YYYY-MM-DD`.
fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Howard Hinnant's civil_from_days.
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
