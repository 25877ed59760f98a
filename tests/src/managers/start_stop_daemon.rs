//! dpkg's `start-stop-daemon` (1.21 on bookworm), as SysV init scripts use it. It is
//! not a supervisor: nothing runs between its invocations, so there is nothing to
//! stop here. (`--notify-await`, its sd_notify wait, is there for later scenarios.)

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
