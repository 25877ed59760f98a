//! The runner of a `harness = false` test binary: groups of scenarios, one group per
//! manager, each group in its own thread, each scenario reported as it ends.
//!
//! It understands the libtest arguments that matter (name filters, `--exact`,
//! `--skip`, `--list`, `--ignored`), so `cargo test --workspace -- <filter>` selects
//! scenarios here as it does elsewhere, and a filter that selects none of them sets
//! nothing up.

use std::cell::Cell;
use std::io::{self, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use super::{Context, Unavailable, error_chain, install};

/// A service manager the scenarios of one group run under.
pub trait Manager: Sized {
    /// The group's name, the first part of its scenarios' names.
    const NAME: &'static str;
    /// The Debian packages it needs; the suite installs those of all selected groups
    /// in one go before the groups start.
    const PACKAGES: &'static [&'static str];
    /// Installs what is missing and starts the manager.
    fn start(ctx: &Context) -> Result<Self, Unavailable>;
}

/// A scenario's body: panics to fail, returns [`Unavailable`] to be skipped.
pub type Body<M> = fn(&M, &Context) -> Result<(), Unavailable>;

/// One scenario of a group.
pub struct Scenario<M> {
    name: &'static str,
    body: Body<M>,
    known_failure: Option<&'static str>,
}

impl<M> Scenario<M> {
    /// A scenario that must pass.
    pub fn new(name: &'static str, body: Body<M>) -> Scenario<M> {
        Scenario {
            name,
            body,
            known_failure: None,
        }
    }

    /// Marks it as failing for a known reason (`Some(why)`): its failure is reported
    /// as a known failure and does not fail the run, while its passing does (so the
    /// mark is removed once the bug is fixed). `None` is no mark, so a constant
    /// `Option<&str>` flips it.
    pub fn known_failure(self, why: Option<&'static str>) -> Scenario<M> {
        Scenario {
            known_failure: why,
            ..self
        }
    }
}

/// A group with its manager's type erased, to run on a thread of its own.
struct Group {
    name: &'static str,
    packages: &'static [&'static str],
    scenarios: Vec<&'static str>,
    run: RunGroup,
}

type RunGroup = Box<dyn FnOnce(&Context, &Report, &Selection) + Send>;

/// The scenarios of a test binary, by manager.
pub struct Suite {
    binaries: Vec<(&'static str, PathBuf)>,
    groups: Vec<Group>,
}

impl Suite {
    /// A suite testing `binaries` (name, path), which it copies where every user and
    /// container can reach them (see [`Context::new`]).
    pub fn new(binaries: &[(&'static str, PathBuf)]) -> Suite {
        Suite {
            binaries: binaries.to_vec(),
            groups: Vec::new(),
        }
    }

    /// Adds the scenarios run under manager `M`.
    pub fn group<M: Manager + 'static>(mut self, scenarios: Vec<Scenario<M>>) -> Suite {
        self.groups.push(Group {
            name: M::NAME,
            packages: M::PACKAGES,
            scenarios: scenarios.iter().map(|s| s.name).collect(),
            run: Box::new(move |ctx, report, selection| {
                run_group::<M>(ctx, report, selection, scenarios);
            }),
        });
        self
    }

    /// Runs the selected scenarios (from the command line's libtest arguments) and
    /// returns the exit status: failure if any scenario failed.
    pub fn run(self) -> ExitCode {
        let selection = Selection::from_args(std::env::args().skip(1));
        if selection.list {
            self.list(&selection);
            return ExitCode::SUCCESS;
        }
        let started = Instant::now();
        quiet_known_failures();
        let report = Report::default();
        let total = 1 + self.groups.iter().map(|g| g.scenarios.len()).sum::<usize>();
        let Suite { binaries, groups } = self;
        let (groups, off) = select(groups, &selection, &report);
        match off {
            Some(why) => skip_all(&groups, &report, &selection, &why),
            None if !groups.is_empty() => run_groups(&binaries, groups, &report, &selection),
            None => {}
        }
        report.summary(started, total)
    }

    fn list(&self, selection: &Selection) {
        let mut count = 0;
        for group in &self.groups {
            for scenario in &group.scenarios {
                if selection.wants(group.name, scenario) {
                    println!("{}::{scenario}: test", group.name);
                    count += 1;
                }
            }
        }
        if !selection.ignored_only && !selection.skips("harness::no_leftovers") {
            println!("harness::no_leftovers: test");
            count += 1;
        }
        if !selection.terse {
            println!("\n{count} tests, 0 benchmarks");
        }
    }
}

/// The groups with a selected scenario, and why they must all be skipped, if
/// `DAEMON_TESTS_MANAGERS` says so. Those it leaves out are reported skipped here.
fn select(
    groups: Vec<Group>,
    selection: &Selection,
    report: &Report,
) -> (Vec<Group>, Option<String>) {
    let groups = groups
        .into_iter()
        .filter(|g| g.scenarios.iter().any(|s| selection.wants(g.name, s)));
    let Ok(setting) = std::env::var("DAEMON_TESTS_MANAGERS") else {
        return (groups.collect(), None);
    };
    if matches!(setting.as_str(), "0" | "off" | "no" | "none" | "false") {
        return (
            groups.collect(),
            Some(format!("DAEMON_TESTS_MANAGERS={setting}")),
        );
    }
    let enabled: Vec<&str> = setting.split(',').map(str::trim).collect();
    let (on, off): (Vec<Group>, Vec<Group>) = groups.partition(|g| enabled.contains(&g.name));
    skip_all(
        &off,
        report,
        selection,
        "not listed in DAEMON_TESTS_MANAGERS",
    );
    (on, None)
}

fn skip_all(groups: &[Group], report: &Report, selection: &Selection, why: &str) {
    for group in groups {
        for scenario in group
            .scenarios
            .iter()
            .filter(|s| selection.wants(group.name, s))
        {
            report.record(
                &format!("{}::{scenario}", group.name),
                Outcome::Skipped(why.to_owned()),
            );
        }
    }
}

/// Sets up the context, installs the packages of every group at once, runs each group
/// on its own thread, then checks for leftovers.
fn run_groups(
    binaries: &[(&str, PathBuf)],
    groups: Vec<Group>,
    report: &Report,
    selection: &Selection,
) {
    let ctx = Context::new(binaries).expect("create the scratch directory and stage the binaries");
    let mut packages: Vec<&str> = groups
        .iter()
        .flat_map(|g| g.packages.iter().copied())
        .collect();
    packages.sort_unstable();
    packages.dedup();
    // One apt run for all is much faster than one per group; a failure here is
    // reported by the group whose own packages fail.
    let _ = install::apt(&packages);
    std::thread::scope(|scope| {
        for group in groups {
            let (ctx, run) = (&ctx, group.run);
            std::thread::Builder::new()
                .name(group.name.to_owned())
                .spawn_scoped(scope, move || run(ctx, report, selection))
                .expect("spawn a group's thread");
        }
    });
    // Whatever the filter: the groups that ran must have cleaned up.
    if !selection.skips("harness::no_leftovers") {
        let left = ctx.leftovers();
        let outcome = if left.is_empty() {
            Outcome::Passed
        } else {
            Outcome::Failed(format!("left behind:\n  {}", left.join("\n  ")))
        };
        report.record("harness::no_leftovers", outcome);
    }
}

fn run_group<M: Manager>(
    ctx: &Context,
    report: &Report,
    selection: &Selection,
    scenarios: Vec<Scenario<M>>,
) {
    let scenarios: Vec<Scenario<M>> = scenarios
        .into_iter()
        .filter(|s| selection.wants(M::NAME, s.name))
        .collect();
    let full = |s: &Scenario<M>| format!("{}::{}", M::NAME, s.name);
    let started = Instant::now();
    let manager = match catch_unwind(AssertUnwindSafe(|| M::start(ctx))) {
        Ok(Ok(manager)) => manager,
        Ok(Err(unavailable)) => {
            for s in &scenarios {
                report.record(&full(s), Outcome::Skipped(error_chain(&unavailable)));
            }
            return;
        }
        Err(panic) => {
            let why = format!("{} did not start: {}", M::NAME, panic_message(&*panic));
            for s in &scenarios {
                report.record(&full(s), Outcome::Failed(why.clone()));
            }
            return;
        }
    };
    println!("{} is up after {:.1?}", M::NAME, started.elapsed());
    for scenario in &scenarios {
        KNOWN_FAILURE.set(scenario.known_failure.is_some());
        let result = catch_unwind(AssertUnwindSafe(|| (scenario.body)(&manager, ctx)));
        KNOWN_FAILURE.set(false);
        report.record(&full(scenario), Outcome::of(result, scenario.known_failure));
    }
    let stopping = Instant::now();
    match catch_unwind(AssertUnwindSafe(|| drop(manager))) {
        Ok(()) => println!("{} is down after {:.1?}", M::NAME, stopping.elapsed()),
        Err(panic) => report.record(
            &format!("{}::teardown", M::NAME),
            Outcome::Failed(panic_message(&*panic)),
        ),
    }
}

thread_local! {
    /// Whether the scenario running on this thread is a known failure.
    static KNOWN_FAILURE: Cell<bool> = const { Cell::new(false) };
}

/// The panic of a known failure is expected: one line saying where and why, not the
/// full report with a backtrace that a real failure gets.
fn quiet_known_failures() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if KNOWN_FAILURE.get() {
            let message = panic_message(info.payload());
            let place = info.location().map(|l| l.to_string()).unwrap_or_default();
            let _ = writeln!(io::stderr(), "known failure at {place}: {message}");
        } else {
            default(info);
        }
    }));
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic without a message)".to_owned())
}

enum Outcome {
    Passed,
    Skipped(String),
    Failed(String),
    KnownFailure(&'static str),
}

impl Outcome {
    fn of(
        result: std::thread::Result<Result<(), Unavailable>>,
        known_failure: Option<&'static str>,
    ) -> Outcome {
        match (result, known_failure) {
            (Ok(Err(unavailable)), _) => Outcome::Skipped(error_chain(&unavailable)),
            (Ok(Ok(())), None) => Outcome::Passed,
            (Ok(Ok(())), Some(why)) => Outcome::Failed(format!(
                "it passed, but is marked as a known failure ({why}): remove the mark"
            )),
            (Err(panic), None) => Outcome::Failed(panic_message(&*panic)),
            (Err(_), Some(why)) => Outcome::KnownFailure(why),
        }
    }
}

/// The outcomes so far; groups record theirs from their threads.
#[derive(Default)]
struct Report {
    outcomes: Mutex<Vec<(String, Outcome)>>,
}

impl Report {
    fn record(&self, name: &str, outcome: Outcome) {
        match &outcome {
            Outcome::Passed => println!("test {name} ... ok"),
            Outcome::Failed(_) => println!("test {name} ... FAILED"),
            Outcome::KnownFailure(why) => println!("test {name} ... known failure: {why}"),
            Outcome::Skipped(why) => {
                println!("test {name} ... skipped");
                // Past any output capture, as every skipped test in this workspace says.
                let _ = writeln!(io::stderr(), "skipped: {name}: {why}");
            }
        }
        self.outcomes
            .lock()
            .expect("report lock")
            .push((name.to_owned(), outcome));
    }

    /// Prints the failures and the counts (libtest's closing line among them, for the
    /// tools that read it); `total` is how many scenarios there are, selected or not.
    fn summary(&self, started: Instant, total: usize) -> ExitCode {
        let outcomes = self.outcomes.lock().expect("report lock");
        let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|(_, o)| f(o)).count();
        let passed = count(|o| matches!(o, Outcome::Passed));
        let failed = count(|o| matches!(o, Outcome::Failed(_)));
        let skipped = count(|o| matches!(o, Outcome::Skipped(_)));
        let known = count(|o| matches!(o, Outcome::KnownFailure(_)));
        if failed > 0 {
            println!("\nfailures:");
            for (name, outcome) in outcomes.iter() {
                if let Outcome::Failed(why) = outcome {
                    println!("\n---- {name} ----\n{why}");
                }
            }
            println!();
        }
        let filtered_out = total.saturating_sub(outcomes.len());
        println!(
            "\nmanagers: {passed} passed, {failed} failed, {skipped} skipped, {known} known failures"
        );
        println!(
            "test result: {}. {passed} passed; {failed} failed; {} ignored; 0 measured; \
             {filtered_out} filtered out; finished in {:.2}s\n",
            if failed == 0 { "ok" } else { "FAILED" },
            skipped + known,
            started.elapsed().as_secs_f64()
        );
        if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(101)
        }
    }
}

/// The scenarios the command line selects, as libtest reads its arguments.
#[derive(Default)]
struct Selection {
    filters: Vec<String>,
    skips: Vec<String>,
    exact: bool,
    list: bool,
    terse: bool,
    ignored_only: bool,
}

impl Selection {
    fn from_args(mut args: impl Iterator<Item = String>) -> Selection {
        let mut selection = Selection::default();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--exact" => selection.exact = true,
                "--list" => selection.list = true,
                "--ignored" => selection.ignored_only = true,
                "--skip" => selection.skips.extend(args.next()),
                "--format" => selection.terse = args.next().as_deref() == Some("terse"),
                "--format=terse" => selection.terse = true,
                // Flags that take a value as the next argument.
                "--test-threads" | "--color" | "--logfile" | "-Z" | "--shuffle-seed" => {
                    args.next();
                }
                flag if flag.starts_with('-') => {}
                filter => selection.filters.push(filter.to_owned()),
            }
        }
        selection
    }

    /// Whether `name` matches `pattern`: contains it, or equals it with `--exact`.
    fn matches(&self, name: &str, pattern: &str) -> bool {
        if self.exact {
            name == pattern
        } else {
            name.contains(pattern)
        }
    }

    /// Whether `--skip` leaves `name` out.
    fn skips(&self, name: &str) -> bool {
        self.skips.iter().any(|pattern| self.matches(name, pattern))
    }

    fn wants(&self, group: &str, scenario: &str) -> bool {
        let name = format!("{group}::{scenario}");
        // No scenario here is #[ignore]d.
        !self.ignored_only
            && (self.filters.is_empty() || self.filters.iter().any(|p| self.matches(&name, p)))
            && !self.skips(&name)
    }
}
