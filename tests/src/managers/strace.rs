//! strace (Debian's `strace`), to lose a race on purpose: `-e inject=SYSCALL:delay_enter=`
//! holds every call of one system call in the traced processes (forks followed) for a
//! while, so the other side of a race wins every time. Not a manager, but a tool a group
//! of scenarios needs installed, which is what [`Manager`] describes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::suite::Manager;
use super::{Context, Unavailable, require};

/// The `strace` binary.
#[derive(Debug)]
pub struct Strace {
    path: PathBuf,
}

impl Manager for Strace {
    const NAME: &'static str = "strace";
    const PACKAGES: &'static [&'static str] = &["strace"];

    fn start(_: &Context) -> Result<Strace, Unavailable> {
        super::install::apt(Self::PACKAGES)?;
        Ok(Strace {
            path: require("strace", "strace")?,
        })
    }
}

impl Strace {
    /// `program` run under strace, which follows its forks and delays each of their
    /// `syscall` calls by `delay` before the kernel sees it; strace prints nothing, and
    /// exits when the last traced process does.
    pub fn delaying(&self, syscall: &str, delay: Duration, program: &Path) -> Command {
        let mut cmd = Command::new(&self.path);
        cmd.args(["-f", "-qq", "-o", "/dev/null", "-e"])
            .arg(format!("trace={syscall}"))
            .arg("-e")
            .arg(format!(
                "inject={syscall}:delay_enter={}",
                delay.as_micros()
            ))
            .arg(program);
        cmd
    }
}
