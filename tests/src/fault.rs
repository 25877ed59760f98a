//! Tools of the fault-injection tests: a gate that releases many launchers at the same
//! instant, a seeded random source whose seed a failing test can name, and a bounded
//! wait for what a killed start left behind.

use std::os::fd::OwnedFd;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::{Pidfd, processes_mentioning};

/// Waits until no live process mentions `marker` (exiting ones get until `deadline`);
/// returns those still running then.
///
/// A launcher that gives up SIGKILLs what it started, but need not wait for it to die
/// (a process group killed before the daemon's pid was known): right after the
/// launcher's exit, a process with SIGKILL pending can still show as running in
/// `/proc`, on a loaded machine for a while. A daemon really left behind is still
/// there at the deadline.
pub fn left_running(marker: &str, deadline: Duration) -> Vec<u32> {
    let until = Instant::now() + deadline;
    loop {
        let left = processes_mentioning(marker);
        if left.is_empty() || Instant::now() >= until {
            return left;
        }
        for pid in left {
            if let Ok(process) = Pidfd::open(pid) {
                process.wait_exit(until.saturating_duration_since(Instant::now()));
            }
        }
    }
}

/// Holds back commands until [`open`](Gate::open), so that they all start at once, as
/// far as the scheduler allows, instead of one spawn (a millisecond) apart.
///
/// A held command runs as `sh -c 'read _; exec "$0" "$@"' PROGRAM ARGS...` with the
/// gate's pipe on its standard input: `read` returns at end of file, when the gate
/// opens, and the shell becomes the program. (Waiting between `fork` and `exec`, in a
/// `pre_exec` hook, would not do: `spawn` returns only once the child has exec'd.)
#[derive(Debug)]
pub struct Gate {
    read: OwnedFd,
    write: Option<OwnedFd>,
}

impl Default for Gate {
    fn default() -> Self {
        Gate::new()
    }
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Gate {
        let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe");
        Gate {
            read,
            write: Some(write),
        }
    }

    /// `cmd` (its program, arguments, environment and directory), held at the gate.
    /// Its standard input is the gate's pipe.
    pub fn hold(&self, cmd: &Command) -> Command {
        let mut held = Command::new("sh");
        held.arg("-c")
            .arg("read _; exec \"$0\" \"$@\"")
            .arg(cmd.get_program())
            .args(cmd.get_args())
            .stdin(Stdio::from(self.read.try_clone().expect("dup the gate")));
        for (name, value) in cmd.get_envs() {
            match value {
                Some(value) => held.env(name, value),
                None => held.env_remove(name),
            };
        }
        if let Some(dir) = cmd.get_current_dir() {
            held.current_dir(dir);
        }
        held
    }

    /// Opens the gate: every held command goes on.
    ///
    /// Commands spawned from other threads of this process while the gate was closed
    /// hold a copy of its write end until they exec; that only delays the opening by
    /// as long as their fork takes.
    pub fn open(&mut self) {
        self.write = None;
    }
}

/// Runs `copies` copies of `cmd` released at the same instant, and collects each one's
/// output (all of them, in spawn order), giving each until `deadline` to exit.
pub fn race(cmd: &Command, copies: usize, deadline: Duration) -> Vec<Output> {
    let mut gate = Gate::new();
    let launchers: Vec<Child> = (0..copies)
        .map(|_| {
            gate.hold(cmd)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn a held command")
        })
        .collect();
    gate.open();
    launchers
        .into_iter()
        .map(|l| crate::wait_output(l, deadline))
        .collect()
}

/// A small seeded random source (SplitMix64): the fault tests say their seed when they
/// fail, and `DAEMON_TESTS_SEED=<seed>` replays a run.
#[derive(Clone, Debug)]
pub struct Rng {
    seed: u64,
    state: u64,
}

impl Rng {
    /// Seeded from `DAEMON_TESTS_SEED` if set (a seed that does not parse is an error:
    /// a replay must not quietly become a new random run), else from the clock and the
    /// pid.
    pub fn from_env() -> Rng {
        let seed = match std::env::var("DAEMON_TESTS_SEED") {
            Ok(seed) => seed.trim().parse().unwrap_or_else(|e| {
                panic!("DAEMON_TESTS_SEED={seed:?} is not a seed (a u64): {e}")
            }),
            Err(_) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64);
                now ^ u64::from(std::process::id()).rotate_left(32)
            }
        };
        Rng::new(seed)
    }

    /// Seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng { seed, state: seed }
    }

    /// The seed, to print on failure.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// `true` with probability `1 / n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}
