//! dpkg's `start-stop-daemon` (1.21 on bookworm), as SysV init scripts use it. It is
//! not a supervisor: nothing runs between its invocations, so there is nothing to
//! stop here. With `--background --notify-await` it waits on an sd_notify socket of
//! its own for `READY=1`, or fails at once on `ERRNO=` (and only then: a program that
//! exits without a word leaves it waiting out `--notify-timeout`).

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output};

use super::suite::Manager;
use super::{Context, Unavailable, require};

/// The `start-stop-daemon` binary.
#[derive(Debug)]
pub struct StartStopDaemon {
    path: PathBuf,
}

impl Manager for StartStopDaemon {
    const NAME: &'static str = "start-stop-daemon";
    const PACKAGES: &'static [&'static str] = &["dpkg"];

    fn start(_: &Context) -> Result<StartStopDaemon, Unavailable> {
        Ok(StartStopDaemon {
            path: require("start-stop-daemon", "dpkg")?,
        })
    }
}

impl StartStopDaemon {
    /// `start-stop-daemon args`, with the tests' deadline.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        crate::run(Command::new(&self.path).args(args))
    }
}
