//! The systems under test and the baselines, and one timed start, stop or run of
//! start/stop cycles of a system.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use daemon_tests::Pidfd;
use nix::sys::signal::Signal;

use crate::{cleanup, procfs};

/// How a system is started and stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// daemon-runtime: `--daemon --pid-file P` to start, `--stop --pid-file P` to stop.
    Ours,
    /// The peers and the floor: `--pid-file P` starts detached; `stop_pidfd` stops.
    Other,
}

/// One daemon implementation, with its own scratch directory.
#[derive(Debug)]
pub(crate) struct System {
    /// Its name in the table.
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    /// The binary, canonical, as `/proc/PID/exe` shows it.
    pub(crate) exe: PathBuf,
    stop_exe: PathBuf,
    dir: tempfile::TempDir,
    /// Receives the standard error of everything this system runs.
    log: File,
}

/// What a start found.
#[derive(Debug)]
pub(crate) struct Started {
    /// Wall time of the launching command.
    pub(crate) wall: Duration,
    /// Whether, the instant the launcher returned, the PID file named a live process
    /// running this system's binary.
    pub(crate) ready: bool,
    /// The daemon.
    pub(crate) daemon: Pidfd,
}

/// What a stop found.
#[derive(Debug)]
pub(crate) struct Stopped {
    /// Wall time of the stop command.
    pub(crate) wall: Duration,
    /// Stop command's return minus the daemon's exit, in seconds; negative if the
    /// watcher saw the exit after the command returned.
    pub(crate) gap: f64,
}

/// Canonical path of a binary cargo built for this bench.
pub(crate) fn binary(path: &str) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|e| panic!("binary {path}: {e}"))
}

impl System {
    pub(crate) fn new(name: &'static str, kind: Kind, exe: &str, stop_exe: &str) -> System {
        let dir = tempfile::Builder::new()
            .prefix(&format!("daemon-bench-{name}-"))
            .tempdir()
            .expect("create scratch dir");
        let log = File::create(dir.path().join("stderr.log")).expect("create log");
        System {
            name,
            kind,
            exe: binary(exe),
            stop_exe: binary(stop_exe),
            dir,
            log,
        }
    }

    /// Where the scratch directories are, and their file system: the PID file's file
    /// system changes the numbers (on ext4, a file truncated to zero and rewritten is
    /// written back at its last close, and an unlinked one is freed there).
    pub(crate) fn scratch(&self) -> String {
        use nix::sys::statfs::{BTRFS_SUPER_MAGIC, EXT4_SUPER_MAGIC, TMPFS_MAGIC, XFS_SUPER_MAGIC};
        let parent = self.dir.path().parent().unwrap_or(self.dir.path());
        let kind = match nix::sys::statfs::statfs(parent).map(|s| s.filesystem_type()) {
            Ok(EXT4_SUPER_MAGIC) => "ext4".to_owned(),
            Ok(TMPFS_MAGIC) => "tmpfs".to_owned(),
            Ok(BTRFS_SUPER_MAGIC) => "btrfs".to_owned(),
            Ok(XFS_SUPER_MAGIC) => "xfs".to_owned(),
            Ok(other) => format!("file system type {:#x}", other.0),
            Err(e) => format!("unknown file system ({e})"),
        };
        format!("{} ({kind})", parent.display())
    }

    pub(crate) fn pid_file(&self) -> PathBuf {
        self.dir.path().join("tick.pid")
    }

    fn command(&self, exe: &Path, action: Option<&str>) -> Command {
        let mut cmd = Command::new(exe);
        cmd.args(action)
            .arg("--pid-file")
            .arg(self.pid_file())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(self.log.try_clone().expect("dup log"));
        cmd
    }

    /// The launching command.
    pub(crate) fn start_command(&self) -> Command {
        match self.kind {
            Kind::Ours => self.command(&self.exe, Some("--daemon")),
            Kind::Other => self.command(&self.exe, None),
        }
    }

    /// The stop command.
    pub(crate) fn stop_command(&self) -> Command {
        match self.kind {
            Kind::Ours => self.command(&self.exe, Some("--stop")),
            Kind::Other => self.command(&self.stop_exe, None),
        }
    }

    /// Describes the stop command for the table.
    pub(crate) fn stop_label(&self) -> String {
        let file = |p: &Path| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        match self.kind {
            Kind::Ours => format!("`{} --stop`", file(&self.exe)),
            Kind::Other => format!("`{}`", file(&self.stop_exe)),
        }
    }

    /// The pid the PID file names, if that is a live process running this system's
    /// binary.
    fn live_daemon(&self) -> Option<u32> {
        let pid = daemon_bench::read_pid(&self.pid_file())?;
        (procfs::is_live(pid) && procfs::exe(pid).as_deref() == Some(self.exe.as_path()))
            .then_some(pid)
    }

    /// Runs `cmd` to completion; panics, with what the system wrote to stderr, unless
    /// it succeeds.
    fn run(&self, mut cmd: Command, what: &str) -> ExitStatus {
        let status = cmd
            .status()
            .unwrap_or_else(|e| panic!("{}: cannot run {what}: {e}", self.name));
        if !status.success() {
            self.fail(&format!("{what} failed: {status}"));
        }
        status
    }

    fn fail(&self, message: &str) -> ! {
        let log = std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(10).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!(
            "{}: {message}\nits stderr ends with:\n{}",
            self.name,
            tail.join("\n")
        )
    }

    /// Starts the daemon, timing the launcher and checking the PID file at the instant
    /// it returns; then, if the daemon was not ready, waits for it to be.
    pub(crate) fn start(&self) -> Started {
        let cmd = self.start_command();
        let t0 = Instant::now();
        self.run(cmd, "start");
        let wall = t0.elapsed();
        let at_return = self.live_daemon();
        let pid = match at_return {
            Some(pid) => pid,
            None => self.await_daemon(),
        };
        let daemon = Pidfd::open(pid).unwrap_or_else(|e| self.fail(&format!("pidfd {pid}: {e}")));
        // Pinned; make sure the pid was not reused between the check and the open.
        if self.live_daemon() != Some(pid) {
            self.fail(&format!("pid {pid} stopped being the daemon"));
        }
        Started {
            wall,
            ready: at_return.is_some(),
            daemon,
        }
    }

    /// Waits for the PID file to name the live daemon (a launcher that returned early).
    fn await_daemon(&self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(pid) = self.live_daemon() {
                return pid;
            }
            if Instant::now() > deadline {
                self.fail("the PID file did not name a live daemon within 5 s of start");
            }
            std::thread::sleep(Duration::from_micros(100));
        }
    }

    /// Stops the daemon, timing the stop command; a watcher thread on the harness's own
    /// pidfd timestamps the daemon's exit.
    pub(crate) fn stop(&self, daemon: &Pidfd) -> Stopped {
        let (wall, returned, exited) = std::thread::scope(|s| {
            let (armed_tx, armed_rx) = std::sync::mpsc::channel();
            let watcher = s.spawn(move || {
                let _ = armed_tx.send(());
                daemon.wait_exit(Duration::from_secs(30)).then(Instant::now)
            });
            let _ = armed_rx.recv();
            let cmd = self.stop_command();
            let t0 = Instant::now();
            self.run(cmd, "stop");
            let returned = Instant::now();
            let exited = watcher.join().expect("watcher thread");
            (returned - t0, returned, exited)
        });
        let Some(exited) = exited else {
            self.fail("the daemon did not exit within 30 s of stop")
        };
        daemon.reap();
        cleanup::reap_orphans();
        let gap = match returned.checked_duration_since(exited) {
            Some(d) => d.as_secs_f64(),
            None => -(exited - returned).as_secs_f64(),
        };
        Stopped { wall, gap }
    }

    /// `n` start/stop cycles in a row, as `start && stop` in a script; their total time.
    pub(crate) fn cycles(&self, n: usize) -> Duration {
        let t0 = Instant::now();
        for _ in 0..n {
            self.run(self.start_command(), "start (cycles)");
            self.run(self.stop_command(), "stop (cycles)");
        }
        let total = t0.elapsed();
        cleanup::reap_orphans();
        if let Some(pid) = self.live_daemon() {
            self.fail(&format!("pid {pid} still runs after the last stop"));
        }
        total
    }
}

/// Resident memory of a plain program (`tick_plain`, `clap_plain`) once it says `up`.
pub(crate) fn plain_memory(exe: &Path) -> procfs::Memory {
    let mut child = Command::new(exe)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    let mut line = String::new();
    let read = BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line);
    let pid = child.id();
    let rss = match read {
        Ok(_) if line.starts_with("up") => procfs::memory(pid),
        _ => None,
    };
    let _ = Pidfd::open(pid).and_then(|p| p.signal(Signal::SIGTERM));
    let status = child.wait().expect("wait for the plain program");
    match rss {
        Some(memory) if status.success() => memory,
        _ => panic!(
            "{}: no `up` line or no memory figures (said {line:?}, exited {status})",
            exe.display()
        ),
    }
}
