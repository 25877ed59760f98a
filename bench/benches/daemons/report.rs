//! The markdown table, the targets, and `BENCHMARKS.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::stats::Samples;
use crate::system::System;
use crate::{Measured, Options, procfs};

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
                measure: "exit → stop returns (ms)",
                name: s.name,
                median: m.gap_ms.median(),
                spread: spread_ms(&m.gap_ms),
                notes: format!("max {}", ms(m.gap_ms.max())),
            });
        }
        for (i, s) in self.systems.iter().enumerate() {
            let m = &self.measured[i];
            rows.push(Row {
                measure: "start+stop ×100 (ms)",
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
        let clap_size = self.size_kib("clap_plain");
        for (name, bytes) in self.sizes {
            let size = *bytes as f64 / 1024.0;
            let is_ours = self
                .system(name)
                .is_some_and(|i| self.systems[i].kind == crate::system::Kind::Ours);
            let notes = match clap_size {
                Some(c) if is_ours => format!("{} vs clap_plain", signed_kib(size - c)),
                _ => String::new(),
            };
            rows.push(Row {
                measure: "binary (KiB)",
                name,
                median: size,
                spread: "—".to_owned(),
                notes,
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

    /// Whether each target of issue 6 holds for our systems.
    fn targets(&self, rows: &[Row<'_>]) -> String {
        let mut out = String::from("Targets (medians):\n\n");
        let verdict = |holds: bool, by: String| {
            if holds {
                "holds".to_owned()
            } else {
                format!("**missed** by {by}")
            }
        };
        let floor_start = Self::reference(rows, "start (ms)", "floor").map(|r| r.median);
        let clap_size = self.size_kib("clap_plain");
        let plain = self.baseline(self.baseline_anon, "tick_plain");
        let clap = self.baseline(self.baseline_anon, "clap_plain");
        let plain_rss = self.baseline(self.baseline_rss, "tick_plain");
        for (i, s) in self.ours() {
            let m = &self.measured[i];
            if let Some(floor) = floor_start {
                let start = m.start_ms.median();
                let ratio = start / floor;
                let _ = writeln!(
                    out,
                    "- {}: start within 1.3× the floor: {ratio:.2}× ({} ms vs {} ms): {}",
                    s.name,
                    ms(start),
                    ms(floor),
                    verdict(ratio <= 1.3, format!("{} ms", ms(start - 1.3 * floor)))
                );
            }
            let gap = m.gap_ms.median();
            let _ = writeln!(
                out,
                "- {}: stop returns within 2 ms of the daemon's exit: {} ms (p90 {} ms): {}",
                s.name,
                ms(gap),
                ms(m.gap_ms.quantile(0.9)),
                verdict(gap <= 2.0, format!("{} ms", ms(gap - 2.0)))
            );
            if let (Some(plain), Some(clap), Some(plain_rss)) = (plain, clap, plain_rss) {
                let anon = m.anon_kib.median();
                let rss = m.rss_kib.median();
                let _ = writeln!(
                    out,
                    "- {}: resident memory within 64 KiB of the plain program (judged on \
                     RssAnon): {} KiB vs tick_plain's {} KiB, {} ({} vs clap_plain; VmRSS {} \
                     KiB vs {} KiB): {}",
                    s.name,
                    kib(anon),
                    kib(plain),
                    signed_kib(anon - plain),
                    signed_kib(anon - clap),
                    kib(rss),
                    kib(plain_rss),
                    verdict(anon - plain <= 64.0, signed_kib(anon - plain - 64.0))
                );
            }
            if let (Some(size), Some(clap)) = (self.size_kib(s.name), clap_size) {
                let _ = writeln!(
                    out,
                    "- {}: binary within 300 KiB of clap_plain: {} KiB vs {} KiB, {}: {}",
                    s.name,
                    kib(size),
                    kib(clap),
                    signed_kib(size - clap),
                    verdict(size - clap <= 300.0, signed_kib(size - clap - 300.0))
                );
            }
        }
        out
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
             - command: `{command}` (from the workspace root; this section is written by it)\n\
             - {} runs, {} rounds of {} start/stop cycles\n\n\
             {markdown}{END}\n",
            today(),
            procfs::cpu_model().unwrap_or_else(|| "unknown CPU".to_owned()),
            procfs::kernel(),
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
command line of `tick_builder`; both run in the foreground.

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
