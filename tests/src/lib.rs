//! Support for the real-process integration tests: scratch directories, running a
//! launcher with a deadline, reading a live process's state from `/proc`, waiting for
//! a process to die through a pidfd, and killing whatever a test started; copies of
//! the test binaries that `nobody` can run ([`reachable`]); FIFOs read with a deadline
//! ([`Fifo`]); launchers released at the same instant ([`Gate`]) and a seeded random
//! source ([`Rng`]) for the fault-injection tests.
//!
//! Nothing here sleeps to synchronise: a launcher's exit, a pipe, a pidfd or a lock
//! says when something happened.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;

mod fault;
mod fifo;
pub mod managers;
pub mod pidfd;
pub use fault::{Gate, Rng, left_running, race};
pub use fifo::Fifo;
pub use pidfd::Pidfd;

/// How long a launcher may take before a test calls it hung.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A unique scratch directory, removed on drop, readable by every user (so a daemon
/// that switched to `nobody` can reach files in it).
#[derive(Debug)]
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// Creates one; `label` shows in its name, which tests also use to find strays.
    pub fn new(label: &str) -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix(&format!("daemon-test-{label}-"))
            .tempdir()
            .expect("create scratch dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod scratch dir");
        Scratch { dir }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The directory as a string, to use as a marker in command lines.
    pub fn marker(&self) -> String {
        self.dir.path().display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Whatever a failed test left running in here goes too.
        for pid in processes_mentioning(&self.marker()) {
            kill_hard(pid);
        }
    }
}

/// Whether the tests run as root (CI does).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// `true` when the test may go on; otherwise says that it is skipped, visibly.
pub fn require_root(test: &str) -> bool {
    if is_root() {
        true
    } else {
        skipped(test, "it needs root (it switches users)");
        false
    }
}

/// Says on the real standard error that `test` is skipped and why. The test harness
/// captures `println!` and `eprintln!` of passing tests; a skip must show anyway.
pub fn skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(io::stderr(), "skipped: {test}: {why}");
}

/// Runs `cmd` to completion with a deadline, capturing its output. A launcher that
/// hangs is killed and the test fails.
pub fn run(cmd: &mut Command) -> Output {
    launch(cmd).1
}

/// Like [`run`], with a deadline of its own: for commands that must return at once (a
/// look at a PID file), where a hang must fail the test quickly.
pub fn run_within(cmd: &mut Command, deadline: Duration) -> Output {
    wait_output(spawn_captured(cmd), deadline)
}

/// Like [`run`], also returning the pid the command ran as (a launcher's pid, to
/// compare with the daemon's parent or session).
pub fn launch(cmd: &mut Command) -> (u32, Output) {
    let child = spawn_captured(cmd);
    (child.id(), wait_output(child, DEADLINE))
}

/// Starts `cmd` with no input and its output piped, for [`wait_output`].
fn spawn_captured(cmd: &mut Command) -> Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"))
}

/// Collects a child's output, killing it if it outlives `deadline`.
pub fn wait_output(mut child: Child, deadline: Duration) -> Output {
    let pid = child.id();
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    // Read both pipes on threads so a chatty child cannot block on a full pipe.
    let out = std::thread::spawn(move || read_all(stdout.as_mut()));
    let err = std::thread::spawn(move || read_all(stderr.as_mut()));
    if !wait_exit(pid, deadline) {
        let _ = child.kill();
        let _ = child.wait();
        panic!("pid {pid} did not finish within {deadline:?}");
    }
    let status = child.wait().expect("wait for child");
    Output {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

fn read_all(r: Option<&mut impl Read>) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Some(r) = r {
        let _ = r.read_to_end(&mut buf);
    }
    buf
}

/// Text of a captured stream.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Panics with the output unless the launcher exited with `code`.
pub fn expect_code(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "expected exit {code}, got {:?}\nstdout: {}\nstderr: {}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// The exit code, for messages.
pub fn code(status: &ExitStatus) -> Option<i32> {
    status.code()
}

/// Waits until process `pid` has exited (a zombie counts: it is dead), up to `timeout`.
/// Returns whether it exited. Polls a pidfd: no sleeping.
pub fn wait_exit(pid: u32, timeout: Duration) -> bool {
    match Pidfd::open(pid) {
        Ok(process) => process.wait_exit(timeout),
        // Gone already (and reaped).
        Err(_) => true,
    }
}

/// Whether `pid` is a live process (not a zombie, not gone).
pub fn is_alive(pid: u32) -> bool {
    match ProcInfo::read(pid) {
        Ok(info) => info.state != 'Z' && info.state != 'X',
        Err(_) => false,
    }
}

/// Sends SIGKILL to `pid` through a pidfd and waits for it to die.
pub fn kill_hard(pid: u32) {
    if let Ok(process) = Pidfd::open(pid) {
        let _ = process.signal(Signal::SIGKILL);
        process.wait_exit(DEADLINE);
    }
}

/// Sends `signal` to `pid` through a pidfd (so a reused pid is never hit).
pub fn send_signal(pid: u32, signal: i32) {
    let signal = Signal::try_from(signal).expect("a signal number");
    Pidfd::open(pid)
        .and_then(|p| p.signal(signal))
        .unwrap_or_else(|e| panic!("{signal} to {pid}: {e}"));
}

/// Kills the process on drop, so a failing test leaves nothing running.
#[derive(Debug)]
pub struct Killer {
    pid: u32,
    /// Pinned at construction: a pid reused after the daemon's death is never hit.
    process: Option<Pidfd>,
}

impl Killer {
    /// Takes charge of `pid`.
    pub fn new(pid: u32) -> Killer {
        Killer {
            pid,
            process: Pidfd::open(pid).ok(),
        }
    }

    /// The pid.
    pub fn pid(&self) -> u32 {
        self.pid
    }
}

impl Drop for Killer {
    fn drop(&mut self) {
        if let Some(process) = &self.process {
            let _ = process.signal(Signal::SIGKILL);
            process.wait_exit(DEADLINE);
        }
    }
}

/// The pid a PID file names, if it exists and names one.
pub fn read_pid_file(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Whether some process holds the lock of the PID file at `path`: the `flock` lock of
/// its lock file, `<path>.lock` (the runtime locks a file only root and the daemon's
/// launching user can open, so that nobody else can take the lock).
pub fn is_locked(path: &Path) -> bool {
    let mut lock = path.as_os_str().to_owned();
    lock.push(".lock");
    let Ok(file) = File::open(&lock) else {
        return false;
    };
    match file.try_lock_shared() {
        Ok(()) => {
            file.unlock().expect("unlock probe");
            false
        }
        Err(_) => true,
    }
}

/// Live processes whose command line contains `marker` (tests put their scratch
/// directory in every command line, so this finds everything a test started).
pub fn processes_mentioning(marker: &str) -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|&pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(marker))
                .unwrap_or(false)
        })
        .filter(|&pid| is_alive(pid))
        .collect()
}

/// What `/proc` says about a process.
#[derive(Clone, Debug)]
pub struct ProcInfo {
    /// Pid.
    pub pid: u32,
    /// `R`, `S`, `Z`, ...
    pub state: char,
    /// Parent pid.
    pub ppid: u32,
    /// Process group.
    pub pgid: u32,
    /// Session.
    pub sid: u32,
    /// Controlling terminal (0: none).
    pub tty_nr: u64,
    /// Real, effective, saved, filesystem uid.
    pub uids: [u32; 4],
    /// Real, effective, saved, filesystem gid.
    pub gids: [u32; 4],
    /// Supplementary groups, sorted.
    pub groups: Vec<u32>,
    /// File mode creation mask.
    pub umask: u32,
    /// Blocked signals (bit n-1 for signal n).
    pub sig_blocked: u64,
    /// Ignored signals.
    pub sig_ignored: u64,
    /// Caught signals (handlers installed).
    pub sig_caught: u64,
    /// Working directory.
    pub cwd: PathBuf,
    /// Open descriptors and what they point at.
    pub fds: Vec<(i32, String)>,
    /// The executable.
    pub exe: PathBuf,
}

impl ProcInfo {
    /// Reads `/proc/PID/{stat,status,cwd,fd,exe}`.
    pub fn read(pid: u32) -> io::Result<ProcInfo> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // The command name is in parentheses and may contain anything: split after it.
        let after = &stat[stat
            .rfind(')')
            .ok_or_else(|| io::Error::other("bad stat"))?
            + 2..];
        let f: Vec<&str> = after.split_whitespace().collect();
        let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .unwrap_or("")
                .trim()
                .to_owned()
        };
        let four = |name: &str| {
            let v: Vec<u32> = field(name)
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            [0, 1, 2, 3].map(|i| v.get(i).copied().unwrap_or(u32::MAX))
        };
        let hex = |name: &str| u64::from_str_radix(&field(name), 16).unwrap_or(0);
        let mut groups: Vec<u32> = field("Groups")
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        groups.sort_unstable();
        let mut fds = Vec::new();
        if let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
            for e in entries.flatten() {
                if let Some(n) = e.file_name().to_str().and_then(|n| n.parse().ok()) {
                    let target = std::fs::read_link(e.path())
                        .map(|t| t.display().to_string())
                        .unwrap_or_default();
                    fds.push((n, target));
                }
            }
        }
        fds.sort();
        Ok(ProcInfo {
            pid,
            state: f.first().and_then(|s| s.chars().next()).unwrap_or('?'),
            ppid: num(1) as u32,
            pgid: num(2) as u32,
            sid: num(3) as u32,
            tty_nr: num(4),
            uids: four("Uid"),
            gids: four("Gid"),
            groups,
            umask: u32::from_str_radix(&field("Umask"), 8).unwrap_or(u32::MAX),
            sig_blocked: hex("SigBlk"),
            sig_ignored: hex("SigIgn"),
            sig_caught: hex("SigCgt"),
            cwd: std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_default(),
            fds,
            exe: std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default(),
        })
    }

    /// What descriptor `fd` points at, if it is open.
    pub fn fd(&self, fd: i32) -> Option<&str> {
        self.fds
            .iter()
            .find(|(n, _)| *n == fd)
            .map(|(_, t)| t.as_str())
    }
}

/// The bit of `signal` in a `/proc` signal mask.
pub fn sig_bit(signal: i32) -> u64 {
    1 << (signal - 1)
}

/// The uid and gid of user `nobody` and group `nogroup` (or `nobody`).
pub fn nobody() -> (u32, u32) {
    let user = nix::unistd::User::from_name("nobody")
        .ok()
        .flatten()
        .expect("user nobody");
    let group = nix::unistd::Group::from_name("nogroup")
        .ok()
        .flatten()
        .or_else(|| nix::unistd::Group::from_name("nobody").ok().flatten())
        .expect("group nogroup");
    (user.uid.as_raw(), group.gid.as_raw())
}

/// A pseudo-terminal: the launcher is started as the leader of a new session with the
/// terminal's slave side as its controlling terminal and stdio.
#[derive(Debug)]
pub struct Pty {
    master: OwnedFd,
    slave: OwnedFd,
}

impl Pty {
    /// Opens one.
    pub fn open() -> Pty {
        let pty = nix::pty::openpty(None, None).expect("openpty");
        Pty {
            master: pty.master,
            slave: pty.slave,
        }
    }

    /// Makes `cmd` run with this terminal as its controlling terminal and stdio.
    pub fn attach(&self, cmd: &mut Command) {
        use std::os::unix::process::CommandExt;
        let slave = self.slave.try_clone().expect("dup pty slave");
        cmd.stdin(Stdio::from(slave.try_clone().expect("dup")))
            .stdout(Stdio::from(slave.try_clone().expect("dup")))
            .stderr(Stdio::from(slave));
        let become_session_leader = || {
            nix::unistd::setsid().map_err(io::Error::from)?;
            // SAFETY: TIOCSCTTY on descriptor 0 (the terminal) with argument 0 is its
            // documented use; it touches no memory of ours.
            if unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        };
        // SAFETY: the closure runs between fork and exec and makes only
        // async-signal-safe calls (setsid, ioctl); it allocates nothing.
        unsafe { cmd.pre_exec(become_session_leader) };
    }

    /// The terminal's device number, as `/proc/PID/stat` shows it in `tty_nr`.
    pub fn device(&self) -> u64 {
        nix::sys::stat::fstat(&self.slave)
            .expect("fstat pty")
            .st_rdev
    }

    /// Reads what the processes on the terminal wrote so far (non-blocking).
    pub fn drain(&self) -> String {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let mut fds = [PollFd::new(self.master.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::ZERO) {
                Ok(n) if n > 0 => match nix::unistd::read(&self.master, &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => out.extend_from_slice(&buf[..n]),
                },
                _ => break,
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Runs `cmd` with `pty` attached, waits for it (with the deadline), and returns its
/// pid and exit status.
pub fn run_on_pty(cmd: &mut Command, pty: &Pty) -> (u32, ExitStatus) {
    pty.attach(cmd);
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let pid = child.id();
    if !wait_exit(pid, DEADLINE) {
        let _ = child.kill();
        panic!("launcher {pid} on a pty did not finish");
    }
    (pid, child.wait().expect("wait"))
}

/// Makes `cmd` run as user `nobody`, group `nogroup`, without supplementary groups
/// (the standard library drops them when it switches the uid as root). Its program
/// must be one `nobody` can reach: see [`reachable`].
pub fn as_nobody(cmd: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    let (uid, gid) = nobody();
    cmd.uid(uid).gid(gid)
}

/// Kills every process whose command line contains `marker`, until none is left (a
/// launcher killed mid-start may have forked meanwhile, so one sweep is not enough).
pub fn kill_all_mentioning(marker: &str) {
    for _ in 0..100 {
        let left = processes_mentioning(marker);
        if left.is_empty() {
            return;
        }
        left.into_iter().for_each(kill_hard);
    }
    panic!("processes mentioning {marker} keep appearing");
}

/// CPU time `pid` has used so far (user plus system), in clock ticks, from
/// `/proc/PID/stat`: what tells a process that spins from one that waits.
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/stat: {e}"));
    let after = &stat[stat.rfind(')').expect("a command name in stat") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5); 11 and 12 after the name.
    let tick = |i: usize| fields[i].parse::<u64>().expect("a tick count");
    tick(11) + tick(12)
}

/// A copy of the executable `exe` that every user can run, made once per test process
/// (later calls with the same `exe` return the same copy).
///
/// Tests that run a binary as `nobody` need this: where the checkout lies under a
/// directory only root can traverse (a clone in `/root`, mode 0700), `nobody` cannot
/// even start `target/debug/probe` ("Permission denied"). The copies live in a
/// directory of the system's temporary directory, mode 0755, removed when the test
/// process exits; copies left by a process that died are removed by the next one.
///
/// The copy is made by `cp`, in a process of its own: a descriptor open for writing on
/// the new file in this (multi-threaded) process could be inherited by a test forking
/// meanwhile, and executing the copy would then fail with "Text file busy".
pub fn reachable(exe: &Path) -> PathBuf {
    use std::sync::Mutex;
    static COPIES: Mutex<Vec<(PathBuf, PathBuf)>> = Mutex::new(Vec::new());
    let mut copies = COPIES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, copy)) = copies.iter().find(|(original, _)| original == exe) {
        return copy.clone();
    }
    // Under its own name (programs name themselves after it), one directory per copy.
    let dir = reachable_dir().join(copies.len().to_string());
    std::fs::create_dir(&dir).expect("create a directory for a reachable copy");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
        .expect("chmod the directory of a reachable copy");
    let copy = dir.join(exe.file_name().expect("an executable's file name"));
    let out = run(Command::new("cp").arg(exe).arg(&copy));
    expect_code(&out, 0);
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755))
        .expect("chmod the reachable copy");
    copies.push((exe.to_owned(), copy.clone()));
    copy
}

/// The directory [`reachable`] copies to: `daemon-tests-exe-<pid>` in the temporary
/// directory, mode 0755, removed at exit.
fn reachable_dir() -> &'static Path {
    use std::sync::OnceLock;
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let tmp = std::env::temp_dir();
        sweep_reachable_dirs(&tmp);
        let dir = tmp.join(format!("{REACHABLE_PREFIX}{}", std::process::id()));
        // A dead process of the same pid may have left it.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).expect("create the directory for reachable copies");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .expect("chmod the directory for reachable copies");
        extern "C" fn remove_at_exit() {
            if let Some(dir) = DIR.get() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        // SAFETY: atexit(3) only records the function pointer; the function runs at
        // `exit`, which libtest reaches through `std::process::exit` or by returning.
        unsafe { libc::atexit(remove_at_exit) };
        dir
    })
}

const REACHABLE_PREFIX: &str = "daemon-tests-exe-";

/// Removes the copies of test processes that are gone (killed before their `atexit`).
fn sweep_reachable_dirs(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(REACHABLE_PREFIX))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !is_alive(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A live process that is not the daemon (`sleep 600`): the stranger a stale PID file
/// names. Killed and reaped on drop.
#[derive(Debug)]
pub struct Stranger(Child);

impl Stranger {
    /// Starts one.
    pub fn start() -> Stranger {
        let child = Command::new("sleep")
            .arg("600")
            .stdin(Stdio::null())
            .spawn()
            .expect("start a stranger");
        Stranger(child)
    }

    /// Takes charge of a stranger started another way (a process holding a lock, say).
    pub fn adopt(child: Child) -> Stranger {
        Stranger(child)
    }

    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Stranger {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
