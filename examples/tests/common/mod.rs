//! Running an example binary for real, on top of `daemon_tests`: detached (launcher,
//! PID file, `--status`, `--stop`) and in the foreground (a child whose output lines are
//! read as they come).
//!
//! Every command line carries the scratch directory (in `--pid-file`/`--config`), so
//! `Scratch`'s drop finds anything a failed test left running; every process a test
//! starts is also held by a `Killer`.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Instant;

use daemon_tests::{
    DEADLINE, Killer, ProcInfo, Scratch, expect_code, is_alive, read_pid_file, text, wait_exit,
};

/// One example binary with its own scratch directory, PID file, log and config file.
pub(crate) struct Example {
    pub(crate) scratch: Scratch,
    pub(crate) exe: &'static str,
    pub(crate) pid_file: PathBuf,
    pub(crate) log: PathBuf,
    pub(crate) config: PathBuf,
    /// Where the control flags go: before them, a subcommand's name (`app serve`).
    pub(crate) control: &'static [&'static str],
}

impl Example {
    /// `exe` is `env!("CARGO_BIN_EXE_<name>")`. The config file sends the daemon's
    /// output to a log in the scratch directory; `extra` is appended to it.
    pub(crate) fn new(label: &str, exe: &'static str, extra: &str) -> Example {
        let scratch = Scratch::new(label);
        let log = scratch.join("daemon.log");
        let config = scratch.join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[daemon]\nstdout = {log:?}\nstderr = {log:?}\n{extra}",
                log = log.display().to_string()
            ),
        )
        .expect("write config");
        Example {
            pid_file: scratch.join("daemon.pid"),
            scratch,
            exe,
            log,
            config,
            control: &[],
        }
    }

    /// The binary with `args`, then `--pid-file` and `--config` in the scratch directory.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.raw(args);
        cmd.arg("--pid-file")
            .arg(&self.pid_file)
            .arg("--config")
            .arg(&self.config);
        cmd
    }

    /// The binary with exactly `args`.
    pub(crate) fn raw(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.exe);
        cmd.args(args);
        cmd
    }

    /// Runs a launcher to completion, returning its pid with its output.
    pub(crate) fn launch(&self, cmd: &mut Command) -> (u32, Output) {
        daemon_tests::launch(cmd)
    }

    /// Starts the daemon with `cmd` and checks that it detached: the launcher exits 0
    /// once it is ready, the PID file names a live process that is not the launcher's
    /// child, and `--status` says it runs.
    pub(crate) fn start_detached(&self, cmd: &mut Command) -> Killer {
        let (launcher, output) = self.launch(cmd);
        expect_code(&output, 0);
        let pid = read_pid_file(&self.pid_file).expect("the PID file names the daemon");
        let daemon = Killer::new(pid);
        assert!(is_alive(pid), "daemon {pid} is not running");
        let info = ProcInfo::read(pid).expect("read the daemon's /proc");
        assert_ne!(
            info.ppid, launcher,
            "the daemon is still the launcher's child"
        );
        assert_ne!(pid, launcher, "the launcher did not fork");
        let own_session = nix::unistd::getsid(None).expect("getsid").as_raw() as u32;
        assert_ne!(
            info.sid, own_session,
            "the daemon stayed in the launcher's session"
        );
        assert_ne!(
            info.sid, pid,
            "the daemon leads its session: it could get a terminal"
        );
        let status = self.control("--status");
        expect_code(&status, 0);
        assert!(
            text(&status.stdout).contains(&format!("running (pid {pid})")),
            "{}",
            text(&status.stdout)
        );
        daemon
    }

    /// Runs `args` plus the scratch flags to completion.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.launch(&mut self.command(args)).1
    }

    /// Runs a control flag (`--status`, `--stop` ...) to completion.
    pub(crate) fn control(&self, flag: &str) -> Output {
        let mut args = self.control.to_vec();
        args.push(flag);
        self.run(&args)
    }

    /// `--stop`: exits 0, the daemon is gone, and so is its PID file.
    pub(crate) fn stop(&self, daemon: &Killer) {
        let output = self.control("--stop");
        expect_code(&output, 0);
        assert!(
            wait_exit(daemon.pid(), DEADLINE),
            "daemon {} outlived --stop",
            daemon.pid()
        );
        assert!(
            !self.pid_file.exists(),
            "the PID file outlived the daemon: {:?}",
            std::fs::read_to_string(&self.pid_file)
        );
    }

    /// The daemon's log so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (up to the deadline) until the daemon's log contains `needle`, woken by
    /// inotify whenever the file changes; returns the log. For a daemon that reports
    /// ready before its body runs, this is how a test sees the body at work.
    pub(crate) fn wait_for_log(&self, needle: &str) -> String {
        use std::os::fd::AsFd;

        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

        let inotify =
            Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK).expect("inotify_init");
        inotify
            .add_watch(&self.log, AddWatchFlags::IN_MODIFY)
            .expect("watch the log (the launcher creates it)");
        let deadline = Instant::now() + DEADLINE;
        loop {
            // Read after the watch exists: a write cannot slip between the two.
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no {needle:?} in the log within {DEADLINE:?}: {log}"
            );
            let mut fds = [PollFd::new(inotify.as_fd(), PollFlags::POLLIN)];
            let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
            match poll(&mut fds, timeout) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => panic!("poll inotify: {e}"),
            }
            // Drains the events; the next read of the file says what changed.
            let _ = inotify.read_events();
        }
    }

    /// Starts `cmd` in the foreground with its output piped, and waits for a line that
    /// contains `started`. Standard output and error arrive as one stream of lines: in
    /// the foreground the runtime's logger writes to standard error.
    pub(crate) fn foreground(&self, cmd: &mut Command, started: &str) -> Foreground {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
        let killer = Killer::new(child.id());
        let (send, lines) = channel();
        let stdout = child.stdout.take().expect("piped stdout");
        forward_lines(stdout, send.clone());
        let stderr = child.stderr.take().expect("piped stderr");
        forward_lines(stderr, send);
        let mut foreground = Foreground {
            child,
            killer,
            lines,
            seen: Vec::new(),
        };
        foreground.wait_for(started);
        foreground
    }
}

/// Sends each line `output` yields to `send`, from a thread, until the output or the
/// receiver ends.
fn forward_lines(output: impl std::io::Read + Send + 'static, send: Sender<String>) {
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
}

/// A program running in the foreground, its output lines arriving on a channel.
pub(crate) struct Foreground {
    pub(crate) child: Child,
    pub(crate) killer: Killer,
    lines: Receiver<String>,
    pub(crate) seen: Vec<String>,
}

impl Foreground {
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (up to the deadline) for an output line that contains `needle`; returns it.
    pub(crate) fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "no line with {needle:?} within {DEADLINE:?}; saw {:?}",
                        self.seen
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "output ended before a line with {needle:?}; saw {:?}",
                        self.seen
                    )
                }
            }
        }
    }

    /// Sends SIGTERM and waits for the exit.
    pub(crate) fn terminate(mut self) -> ExitStatus {
        daemon_tests::send_signal(self.pid(), nix::sys::signal::Signal::SIGTERM as i32);
        assert!(
            wait_exit(self.pid(), DEADLINE),
            "{} ignored SIGTERM",
            self.pid()
        );
        let status = self.child.wait().expect("wait");
        drop(self.killer);
        status
    }
}

/// The line of `log` that contains `text`, checked to be what the runtime's `file` log
/// target writes: `2026-12-02T17:00:00.123Z LEVEL target: message`, UTC to the
/// millisecond. Panics, showing the log, when there is no such line.
pub(crate) fn file_record<'a>(log: &'a str, level: &str, target: &str, text: &str) -> &'a str {
    let line = log
        .lines()
        .find(|line| line.contains(text))
        .unwrap_or_else(|| panic!("no {text:?} in the log: {log}"));
    // `YYYY-MM-DDTHH:MM:SS.mmmZ`: digits where the pattern has `0`.
    let pattern = "0000-00-00T00:00:00.000Z";
    let (stamp, rest) = line.split_at_checked(pattern.len()).unwrap_or((line, ""));
    let stamped = stamp.len() == pattern.len()
        && stamp.bytes().zip(pattern.bytes()).all(|(c, p)| match p {
            b'0' => c.is_ascii_digit(),
            p => c == p,
        });
    assert!(stamped, "{line:?} does not start with a UTC timestamp");
    let prefix = format!(" {level} {target}: ");
    assert!(
        rest.starts_with(&prefix),
        "{line:?}: not {prefix:?} after the time"
    );
    line
}
