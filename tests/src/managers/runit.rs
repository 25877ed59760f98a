//! runit (Debian's `runit` package): one `runsv` per service directory, driven with
//! `sv`. No `runsvdir` and nothing in `/etc/service`: the host's runit, if any, is
//! left alone.
//!
//! `sv` talks to `runsv` through `supervise/ok` and `supervise/control`; `runsv` makes
//! `supervise/ok` and then opens it, so the harness waits for that open (inotify's
//! `IN_OPEN`) before the first `sv`. Dropping a service writes `d` (down) and `x`
//! (exit) to its control FIFO and waits for `runsv` to exit.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nix::sys::signal::Signal;

use super::suite::Manager;
use super::{
    Context, Spawned, TIMEOUT, Unavailable, check, require, tail, wait_until_opened, write_control,
    write_run_script,
};
use crate::text;

/// runit's tools, installed.
#[derive(Debug)]
pub struct Runit {
    runsv: PathBuf,
    sv: PathBuf,
}

impl Manager for Runit {
    const NAME: &'static str = "runit";
    const PACKAGES: &'static [&'static str] = &["runit"];

    fn start(_: &Context) -> Result<Runit, Unavailable> {
        super::install::apt(Self::PACKAGES)?;
        Ok(Runit {
            runsv: require("runsv", "runit")?,
            sv: require("sv", "runit")?,
        })
    }
}

impl Runit {
    /// A service directory `name` whose `run` script is `run`, supervised by a new
    /// `runsv`. With `down`, the service starts down (a `down` file) until `sv up`.
    pub fn service(&self, ctx: &Context, name: &str, run: &str, down: bool) -> RunitService {
        let dir = ctx.dir(&format!("runit-{name}"));
        write_run_script(&dir, run).expect("write the run script");
        if down {
            std::fs::write(dir.join("down"), "").expect("write the down file");
        }
        let mut cmd = Command::new(&self.runsv);
        cmd.arg(&dir);
        let log = dir.with_extension("runsv.log");
        let runsv = Spawned::spawn("runsv", &mut cmd, &log).expect("start runsv");
        if !wait_until_opened(&dir.join("supervise/ok"), TIMEOUT) {
            panic!(
                "runsv did not open supervise/ok within {TIMEOUT:?}: {}",
                runsv.output()
            );
        }
        RunitService {
            dir,
            sv: self.sv.clone(),
            runsv,
        }
    }
}

/// A service directory under its `runsv`.
#[derive(Debug)]
pub struct RunitService {
    dir: PathBuf,
    sv: PathBuf,
    runsv: Spawned,
}

impl RunitService {
    /// The service directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `sv args <dir>` (a path with a slash names the service directory itself).
    pub fn sv(&self, args: &[&str]) -> Output {
        crate::run(Command::new(&self.sv).args(args).arg(&self.dir))
    }

    /// `sv args <dir>`, which must succeed; returns its output.
    pub fn sv_ok(&self, args: &[&str]) -> String {
        let output = self.sv(args);
        if !output.status.success() {
            check(
                &output,
                &format!(
                    "sv {}\nrunsv: {}",
                    args.join(" "),
                    tail(&self.runsv.output(), 10)
                ),
            );
        }
        text(&output.stdout)
    }

    /// `sv status`: `run: DIR: (pid 42) 3s` or `down: DIR: 1s, normally up`.
    pub fn status(&self) -> String {
        text(&self.sv(&["status"]).stdout).trim().to_owned()
    }

    /// The service's pid while it runs, from `sv status`.
    pub fn pid(&self) -> Option<u32> {
        let status = self.status();
        let rest = status.strip_prefix("run: ")?.split("(pid ").nth(1)?;
        rest.split(')').next()?.parse().ok()
    }
}

impl Drop for RunitService {
    fn drop(&mut self) {
        // Down, then exit: runsv stops the service (TERM, CONT) and exits once it is down.
        let _ = write_control(&self.dir.join("supervise/control"), b"dx");
        if self.runsv.wait_exit(TIMEOUT).is_none() {
            self.runsv.stop(Signal::SIGKILL, TIMEOUT);
        }
    }
}
