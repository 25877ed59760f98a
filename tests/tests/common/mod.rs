//! The probe daemon, as the tests start it.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::process::{Command, Output};

use daemon_tests::{Killer, Scratch, expect_code, read_pid_file, run};

/// The probe binary, with its PID file in `scratch` and the scratch path in its
/// command line (so strays can be found). Its log goes nowhere unless a test says
/// otherwise (`--log-target`): this machine has no syslog, and a detached daemon with
/// none warns about it on every start, which tests counting stderr lines would see.
pub fn probe(scratch: &Scratch) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_probe"));
    cmd.arg("--pid-file").arg(pid_file(scratch));
    cmd.args(["--log-target", "none"]);
    cmd
}

pub fn pid_file(scratch: &Scratch) -> PathBuf {
    scratch.join("probe.pid")
}

/// A daemon a test started; killed when dropped.
pub struct Started {
    pub pid: u32,
    pub launcher: Output,
    pub killer: Killer,
}

/// Runs `cmd` (which should detach), expects exit 0, and returns the daemon named by
/// the PID file.
pub fn start(scratch: &Scratch, cmd: &mut Command) -> Started {
    let launcher = run(cmd);
    expect_code(&launcher, 0);
    let pid = read_pid_file(&pid_file(scratch)).expect("the PID file names the daemon");
    Started {
        pid,
        launcher,
        killer: Killer::new(pid),
    }
}
