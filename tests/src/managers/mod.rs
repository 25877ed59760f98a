//! The daemons under real service managers: systemd (PID 1 of a `systemd-nspawn`
//! container), supervisord, runit, s6, `start-stop-daemon`, Docker (a private
//! `dockerd`) and rsyslog (for the syslog path of a logger); and strace, to lose a race
//! on purpose.
//!
//! A test binary with `harness = false` (`examples/tests/managers/`) lists its
//! scenarios in a [`Suite`]: one group per [`Manager`], set up once per test binary
//! (booting systemd per scenario would cost seconds each), its scenarios run one after
//! the other against that one manager, and the groups run in parallel with each other.
//! Each scenario is reported as passed, skipped, failed or known failure.
//!
//! Adding a scenario is a function and a line:
//!
//! ```no_run
//! use daemon_tests::managers::nspawn::{BIN_DIR, Systemd};
//! use daemon_tests::managers::{Context, Scenario, Suite, Unavailable};
//!
//! fn notify_ready(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
//!     systemd.install_unit(
//!         "hello-ready.service",
//!         &format!("[Service]\nType=notify\nExecStart={BIN_DIR}/hello\n"),
//!     );
//!     systemd.systemctl_ok(&["start", "hello-ready"]);
//!     assert_eq!(systemd.show("hello-ready", "SubState"), "running");
//!     Ok(())
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     Suite::new(&[("hello", "target/debug/hello".into())])
//!         .group::<Systemd>(vec![Scenario::new("notify_ready", notify_ready)])
//!         .run()
//! }
//! ```
//!
//! A scenario fails by panicking (the assert macros), and is skipped by returning
//! [`Unavailable`] (a binary that was not built, say).
//!
//! What the managers need is installed by the tests themselves, once, and kept in a
//! cache directory ([`install`]): Debian packages with apt, a Debian root file system
//! for the container, a virtualenv for supervisord. When something cannot be had (not
//! root, no network, apt fails), the group's scenarios print
//! `skipped: <scenario>: <why>` on the real standard error and pass. Set
//! `DAEMON_TESTS_MANAGERS=off` to skip them all, or to a comma-separated list of
//! managers to run only those.
//!
//! Every runner is an RAII object: dropping it (also while unwinding from a failed
//! scenario) stops every process it started and undoes every mount. Everything lives in
//! one scratch directory per test binary, whose path is in the command line of every
//! process the harness starts; after the run, the suite checks that no such process,
//! no process in a container's PID namespace, and no mount below the scratch directory
//! or the cache is left, and reports that as the scenario `harness::no_leftovers`.

use std::ffi::OsStr;
use std::fmt;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::{Pidfd, Scratch, text};

pub mod docker;
pub mod install;
pub mod nspawn;
pub mod rsyslog;
pub mod runit;
pub mod s6;
pub mod start_stop_daemon;
pub mod strace;
mod suite;
pub mod supervisord;
mod wait;

pub use suite::{Body, Manager, Scenario, Suite};
pub use wait::{NotifySocket, follow, wait_for_path, wait_for_text, wait_until_opened};

/// How long a manager may take to come up, or a wait inside a scenario may last.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Why a manager or a scenario cannot run here: the scenario is skipped, visibly.
#[derive(Debug)]
pub struct Unavailable {
    what: String,
    why: String,
    source: Option<io::Error>,
}

impl Unavailable {
    /// `what` (a manager, a package, a binary) cannot be had, because `why`.
    pub fn new(what: impl Into<String>, why: impl Into<String>) -> Unavailable {
        Unavailable {
            what: what.into(),
            why: why.into(),
            source: None,
        }
    }

    /// Like [`Unavailable::new`], keeping the I/O error that said so.
    pub fn io(what: impl Into<String>, why: impl Into<String>, source: io::Error) -> Unavailable {
        Unavailable {
            source: Some(source),
            ..Unavailable::new(what, why)
        }
    }

    /// Unavailable unless the tests run as root.
    pub fn require_root(what: &str) -> Result<(), Unavailable> {
        if crate::is_root() {
            Ok(())
        } else {
            Err(Unavailable::new(what, "it needs root"))
        }
    }
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cannot be had here: {}", self.what, self.why)
    }
}

impl std::error::Error for Unavailable {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

/// An error and its sources, as one line: `it failed: because: because`.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    line
}

/// What every group shares: the run's scratch directory, the binaries under test
/// (copied where every user and every container can reach them), and the record of
/// the PID namespaces the containers ran in, for the leftovers check.
#[derive(Debug)]
pub struct Context {
    scratch: Scratch,
    bin_dir: PathBuf,
    binaries: Vec<(String, Result<PathBuf, PathBuf>)>,
    namespaces: Namespaces,
    next_dir: AtomicUsize,
}

impl Context {
    /// Creates the scratch directory and copies `binaries` (name, path) into its `bin`
    /// directory (mode 0755 all the way): a checkout under a 0700 home is not
    /// traversable by `nobody`, nor bind-mountable into a container as-is. A binary
    /// whose file does not exist is recorded as missing; [`Context::bin`] then says so.
    pub fn new(binaries: &[(&str, PathBuf)]) -> io::Result<Context> {
        let scratch = Scratch::new("managers");
        let bin_dir = scratch.join("bin");
        std::fs::create_dir(&bin_dir)?;
        std::fs::set_permissions(&bin_dir, std::fs::Permissions::from_mode(0o755))?;
        let mut staged = Vec::new();
        for (name, source) in binaries {
            if !source.is_file() {
                staged.push((name.to_string(), Err(source.clone())));
                continue;
            }
            let copy = bin_dir.join(name);
            std::fs::copy(source, &copy)?;
            std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755))?;
            staged.push((name.to_string(), Ok(copy)));
        }
        Ok(Context {
            scratch,
            bin_dir,
            binaries: staged,
            namespaces: Namespaces::default(),
            next_dir: AtomicUsize::new(0),
        })
    }

    /// The staged copy of binary `name`.
    pub fn bin(&self, name: &str) -> Result<&Path, Unavailable> {
        match self.binaries.iter().find(|(n, _)| n == name) {
            Some((_, Ok(path))) => Ok(path),
            Some((_, Err(source))) => Err(Unavailable::new(
                format!("binary `{name}`"),
                format!(
                    "{} was not built (`cargo test --workspace` builds it)",
                    source.display()
                ),
            )),
            None => Err(Unavailable::new(
                format!("binary `{name}`"),
                "the suite was not given it",
            )),
        }
    }

    /// The staged binaries, as `(name, path)`.
    pub fn binaries(&self) -> impl Iterator<Item = (&str, &Path)> {
        self.binaries
            .iter()
            .filter_map(|(name, path)| Some((name.as_str(), path.as_deref().ok()?)))
    }

    /// The directory holding the staged binaries.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The run's scratch directory: every process the harness starts mentions it.
    pub fn root(&self) -> &Path {
        self.scratch.path()
    }

    /// A new, empty directory (mode 0755) in the scratch directory, its name starting
    /// with `label`.
    pub fn dir(&self, label: &str) -> PathBuf {
        let n = self.next_dir.fetch_add(1, Ordering::SeqCst);
        let dir = self.scratch.join(&format!("{label}-{n}"));
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", dir.display()));
        dir
    }

    /// The record of containers' PID namespaces, to hand to a runner that starts
    /// containers after its set-up.
    pub fn namespaces(&self) -> Namespaces {
        self.namespaces.clone()
    }

    /// What the run left behind: live processes that mention the scratch directory or
    /// run in a recorded PID namespace, and mounts below the scratch directory or the
    /// cache. Empty when everything was cleaned up.
    pub fn leftovers(&self) -> Vec<String> {
        let marker = self.scratch.marker();
        let mut left: Vec<String> = crate::processes_mentioning(&marker)
            .into_iter()
            .map(|pid| format!("process {pid}: {}", command_line(pid)))
            .collect();
        for pid in self.namespaces.members() {
            left.push(format!(
                "process {pid} in a container: {}",
                command_line(pid)
            ));
        }
        let mut roots = vec![self.root().to_path_buf()];
        if let Ok(cache) = install::cache_dir() {
            roots.push(cache);
        }
        for mount in mounts_below(&roots) {
            left.push(format!("mount {}", mount.display()));
        }
        left
    }
}

/// The PID namespaces that containers ran in (by the inode of `/proc/PID/ns/pid`).
#[derive(Clone, Debug, Default)]
pub struct Namespaces(Arc<Mutex<Vec<u64>>>);

impl Namespaces {
    /// Records the PID namespace that `pid` runs in.
    pub fn record(&self, pid: u32) {
        if let Some(ns) = pid_namespace(pid) {
            self.0.lock().expect("namespaces lock").push(ns);
        }
    }

    /// Live processes in any recorded namespace.
    fn members(&self) -> Vec<u32> {
        let recorded = self.0.lock().expect("namespaces lock").clone();
        all_pids()
            .filter(|&pid| pid_namespace(pid).is_some_and(|ns| recorded.contains(&ns)))
            .filter(|&pid| crate::is_alive(pid))
            .collect()
    }
}

fn pid_namespace(pid: u32) -> Option<u64> {
    std::fs::metadata(format!("/proc/{pid}/ns/pid"))
        .ok()
        .map(|m| m.ino())
}

fn all_pids() -> impl Iterator<Item = u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
}

fn command_line(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .unwrap_or_default()
}

/// Mount points in this process's mount namespace at or below any of `roots`,
/// deepest first (the order to unmount them in).
pub fn mounts_below(roots: &[PathBuf]) -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut found: Vec<PathBuf> = info
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|point| PathBuf::from(unescape_mount_point(point)))
        .filter(|point| roots.iter().any(|root| point.starts_with(root)))
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    found
}

/// `/proc/self/mountinfo` writes space, tab, newline and backslash as `\ooo`.
fn unescape_mount_point(field: &str) -> String {
    let mut out = String::new();
    let mut rest = field;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let code = rest
            .get(at + 1..at + 4)
            .and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(byte) => {
                out.push(char::from(byte));
                rest = &rest[at + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Unmounts (lazily) every mount at or below `root`, deepest first: what a manager
/// that was killed could not undo itself.
pub fn unmount_below(root: &Path) {
    for point in mounts_below(&[root.to_path_buf()]) {
        if let Err(e) = nix::mount::umount2(&point, nix::mount::MntFlags::MNT_DETACH) {
            let _ = writeln!(io::stderr(), "cannot unmount {}: {e}", point.display());
        }
    }
}

/// A long-running process a runner started (a manager, a container): its output goes
/// to a log file, it gets SIGTERM if the thread that started it dies, and dropping it
/// stops it (SIGTERM, then SIGKILL after a grace period) and reaps it.
#[derive(Debug)]
pub struct Spawned {
    name: String,
    child: Child,
    process: Pidfd,
    log: PathBuf,
    status: Option<ExitStatus>,
}

/// How long a stopped manager may take to exit before it is killed.
const GRACE: Duration = Duration::from_secs(30);

impl Spawned {
    /// Starts `cmd`, with standard input from `/dev/null` and its output appended to
    /// `log`.
    pub fn spawn(name: &str, cmd: &mut Command, log: &Path) -> io::Result<Spawned> {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o644)
            .open(log)?;
        cmd.stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        let die_with_parent =
            || nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(io::Error::from);
        // SAFETY: the closure runs between fork and exec and makes one
        // async-signal-safe system call (prctl); it allocates nothing.
        unsafe { cmd.pre_exec(die_with_parent) };
        let child = cmd.spawn()?;
        let process = Pidfd::open(child.id())?;
        Ok(Spawned {
            name: name.to_owned(),
            child,
            process,
            log: log.to_owned(),
            status: None,
        })
    }

    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its pidfd, to wait for its exit alongside something else.
    pub fn pidfd(&self) -> &Pidfd {
        &self.process
    }

    /// What it wrote so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether it has exited.
    pub fn exited(&self) -> bool {
        self.status.is_some() || self.process.exited()
    }

    /// Sends `signal`, waits up to `grace` for the exit, then kills it; returns how it
    /// ended. Stopping a stopped process returns the status it had.
    pub fn stop(&mut self, signal: Signal, grace: Duration) -> ExitStatus {
        if let Some(status) = self.status {
            return status;
        }
        let _ = self.process.signal(signal);
        if !self.process.wait_exit(grace) {
            let _ = writeln!(
                io::stderr(),
                "{} (pid {}) outlived {signal} by {grace:?}: killing it",
                self.name,
                self.pid()
            );
            let _ = self.process.signal(Signal::SIGKILL);
        }
        let status = self.child.wait().expect("wait for a spawned manager");
        self.status = Some(status);
        status
    }

    /// Waits up to `timeout` for it to exit by itself; returns how it ended.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if self.status.is_none() && self.process.wait_exit(timeout) {
            self.status = Some(self.child.wait().expect("wait for a spawned manager"));
        }
        self.status
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.stop(Signal::SIGTERM, GRACE);
    }
}

/// Runs `cmd` with the tests' deadline and returns its output, or panics if it cannot
/// be started.
pub fn run(cmd: &mut Command) -> Output {
    crate::run(cmd)
}

/// Runs `cmd` with the tests' deadline and returns its standard output; panics with
/// everything it printed unless it exits 0.
pub fn run_ok(cmd: &mut Command) -> String {
    let output = crate::run(cmd);
    check(&output, &format!("{cmd:?}"));
    text(&output.stdout)
}

/// Runs `cmd` for cleaning up: never panics (a panic in a `Drop` while unwinding
/// aborts the whole run). Returns its standard output, or `None` if it could not be
/// started or did not finish within 30 seconds (it is killed then).
pub fn run_quietly(cmd: &mut Command) -> Option<String> {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let process = Pidfd::open(child.id()).ok()?;
    if !process.wait_exit(GRACE) {
        let _ = process.signal(Signal::SIGKILL);
    }
    let output = child.wait_with_output().ok()?;
    Some(text(&output.stdout))
}

/// Panics with everything `what` printed unless it exited 0.
pub fn check(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed ({})\nstdout: {}\nstderr: {}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// A command named `program` with `args`.
pub fn command<S: AsRef<OsStr>>(program: impl AsRef<OsStr>, args: &[S]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args);
    cmd
}

/// The path of `program` in `PATH`, if it is there.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(program))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The path of `program`, or why it cannot be had.
pub fn require(program: &str, package: &str) -> Result<PathBuf, Unavailable> {
    which(program).ok_or_else(|| {
        Unavailable::new(
            format!("`{program}`"),
            format!("it is not installed (Debian package {package})"),
        )
    })
}

/// Writes an executable `run` script (daemontools style: runit and s6) into `dir`.
pub fn write_run_script(dir: &Path, script: &str) -> io::Result<()> {
    let run = dir.join("run");
    std::fs::write(&run, script)?;
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755))
}

/// Writes `bytes` to a supervisor's control FIFO without blocking (runit's `runsv` and
/// s6's `s6-supervise` read one-letter commands from `supervise/control`).
pub fn write_control(fifo: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut control = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(fifo)?;
    control.write_all(bytes)
}

/// The last `lines` lines of `text`, for failure messages.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
