//! PID 1 of a new PID namespace, for the tests that need a pid reused on purpose:
//! `unshare --pid --fork --mount-proc --kill-child pidns [OPTIONS] -- COMMAND...`.
//!
//! It runs COMMAND and reaps every process of the namespace (orphans are handed to
//! PID 1). The first orphan that dies (a daemon, whose parent exited long ago) is
//! replaced at once by a stranger, `sleep 3600`, given exactly its pid through
//! `/proc/sys/kernel/ns_last_pid`: whatever still acts on that pid number from then on
//! hits the stranger, as a pid reused by chance would be hit. Inside the namespace
//! nothing else forks meanwhile, so the stranger gets the pid for certain.
//!
//! Once COMMAND exits, `--kill-pid-in FILE` SIGKILLs the pid FILE names (the daemon)
//! and waits for its stranger; then each `--then "ARGS"` runs in turn (ARGS split on
//! spaces). What happened is printed on standard output, one fact per line:
//!
//! ```text
//! command exit=69
//! stranger pid=7
//! then 0 exit=1
//! then 0 stdout: probe is not running, but ...
//! stranger 7 alive
//! ```
//!
//! The last line says `stranger N killed` if the stranger was signalled to death.
//! When this process exits, the kernel kills everything left in the namespace.

#![allow(
    clippy::zombie_processes,
    reason = "PID 1 reaps every process with waitpid(-1), not through `Child::wait`"
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use clap::Parser;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;

#[derive(Parser, Debug)]
#[command(name = "pidns")]
struct Cli {
    /// Once COMMAND exits, SIGKILL the pid this file names and wait for its stranger.
    #[arg(long)]
    kill_pid_in: Option<PathBuf>,
    /// A command to run after COMMAND (and the kill), its arguments split on spaces.
    #[arg(long)]
    then: Vec<String>,
    /// The command, and its arguments.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// What PID 1 keeps track of.
struct Init {
    stranger: Option<Pid>,
    /// The stranger died of a signal.
    stranger_killed: bool,
}

fn main() {
    let cli = Cli::parse();
    assert_eq!(
        std::process::id(),
        1,
        "pidns must be PID 1 of a new PID namespace"
    );
    let mut init = Init {
        stranger: None,
        stranger_killed: false,
    };
    let command = Command::new(&cli.command[0])
        .args(&cli.command[1..])
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn the command");
    let status = init.reap_until(Pid::from_raw(command.id() as i32));
    say(&format!("command exit={}", code(status)));
    if let Some(file) = &cli.kill_pid_in {
        let pid: i32 = std::fs::read_to_string(file)
            .expect("read the PID file")
            .trim()
            .parse()
            .expect("a pid in the PID file");
        kill(Pid::from_raw(pid), Signal::SIGKILL).expect("SIGKILL the daemon");
        while init.stranger.is_none() {
            let status = init.reap_one();
            init.mourn(status);
        }
    }
    for (i, then) in cli.then.iter().enumerate() {
        init.run_then(i, then);
    }
    if let Some(stranger) = init.stranger {
        let state = match init.stranger_killed || !alive(stranger) {
            true => "killed",
            false => "alive",
        };
        say(&format!("stranger {stranger} {state}"));
    }
}

impl Init {
    /// Reaps processes until `target` (a process this one spawned) has exited; returns
    /// its status. Any other death is an orphan's, or the stranger's.
    fn reap_until(&mut self, target: Pid) -> WaitStatus {
        loop {
            let status = self.reap_one();
            if status.pid() == Some(target) {
                return status;
            }
            self.mourn(status);
        }
    }

    /// Reaps one process.
    fn reap_one(&mut self) -> WaitStatus {
        loop {
            match waitpid(None, None) {
                Ok(status) => return status,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => panic!("waitpid: {e}"),
            }
        }
    }

    /// Notes the death of an orphan (the first one gets the stranger in its place), or
    /// of the stranger.
    fn mourn(&mut self, status: WaitStatus) {
        let Some(pid) = status.pid() else { return };
        if Some(pid) == self.stranger {
            self.stranger_killed = matches!(status, WaitStatus::Signaled(..));
        } else if self.stranger.is_none() {
            self.stranger = Some(place_stranger(pid));
        }
    }

    /// Runs one `--then` command and prints its exit code and output.
    fn run_then(&mut self, i: usize, then: &str) {
        let mut args = then.split(' ').filter(|a| !a.is_empty());
        let program = args.next().expect("a --then command");
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn a --then command");
        let pid = Pid::from_raw(child.id() as i32);
        let (mut stdout, mut stderr) = (child.stdout.expect("piped"), child.stderr.expect("piped"));
        // Control commands write a line or two, far below a pipe's capacity: reading
        // after the exit cannot block them.
        let status = self.reap_until(pid);
        let (mut out, mut err) = (String::new(), String::new());
        let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
        let _ = std::io::Read::read_to_string(&mut stderr, &mut err);
        say(&format!("then {i} exit={}", code(status)));
        for line in out.lines() {
            say(&format!("then {i} stdout: {line}"));
        }
        for line in err.lines() {
            say(&format!("then {i} stderr: {line}"));
        }
    }
}

/// Starts `sleep 3600` with the pid `pid` just freed.
fn place_stranger(pid: Pid) -> Pid {
    std::fs::write(
        "/proc/sys/kernel/ns_last_pid",
        (pid.as_raw() - 1).to_string(),
    )
    .expect("write ns_last_pid (needs root and a PID namespace of our own)");
    let stranger = Command::new("sleep")
        .arg("3600")
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn the stranger");
    let got = Pid::from_raw(stranger.id() as i32);
    assert_eq!(got, pid, "the stranger did not get the freed pid");
    say(&format!("stranger pid={got}"));
    got
}

/// Whether `pid` is alive and has no SIGKILL pending (a process killed an instant ago
/// may not have died yet).
fn alive(pid: Pid) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or("")
            .to_owned()
    };
    let sigkill = 1u64 << (libc::SIGKILL - 1);
    let pending = |name: &str| u64::from_str_radix(&field(name), 16).unwrap_or(0) & sigkill != 0;
    let state = field("State:");
    !(state.starts_with('Z') || state.starts_with('X') || pending("SigPnd:") || pending("ShdPnd:"))
}

fn code(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => code.to_string(),
        WaitStatus::Signaled(_, signal, _) => format!("signal {signal}"),
        other => format!("{other:?}"),
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
