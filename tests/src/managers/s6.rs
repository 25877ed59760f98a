//! s6 (Debian's `s6` package): one `s6-supervise` per service directory, driven with
//! `s6-svc`, observed with `s6-svstat`, waited for with `s6-svc -w...` (which
//! subscribes to the service's event FIFO directory: no polling).
//!
//! `s6-supervise` opens its control FIFO before it first writes `supervise/status`,
//! so the harness waits for that file before the first `s6-svc`. Dropping a service
//! writes `d` (down) and `x` (exit when down) to its control FIFO and waits for
//! `s6-supervise` to exit.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nix::sys::signal::Signal;

use super::suite::Manager;
use super::{
    Context, Spawned, TIMEOUT, Unavailable, check, require, tail, wait_for_path, write_control,
    write_run_script,
};
use crate::text;

/// s6's tools, installed.
#[derive(Debug)]
pub struct S6 {
    supervise: PathBuf,
    svc: PathBuf,
    svstat: PathBuf,
}

impl Manager for S6 {
    const NAME: &'static str = "s6";
    const PACKAGES: &'static [&'static str] = &["s6"];

    fn start(_: &Context) -> Result<S6, Unavailable> {
        super::install::apt(Self::PACKAGES)?;
        Ok(S6 {
            supervise: require("s6-supervise", "s6")?,
            svc: require("s6-svc", "s6")?,
            svstat: require("s6-svstat", "s6")?,
        })
    }
}

/// How a service directory is set up.
#[derive(Clone, Debug, Default)]
pub struct ServiceOptions {
    /// Starts down (a `down` file) until `s6-svc -u`.
    pub down: bool,
    /// The service's readiness descriptor (a `notification-fd` file): the daemon writes
    /// a newline to it once ready, which `s6-svc -wU` and `s6-svwait -U` wait for.
    /// This is where the readiness-fd scenarios plug in.
    pub notification_fd: Option<u32>,
}

impl S6 {
    /// A service directory `name` whose `run` script is `run`, under a new
    /// `s6-supervise`.
    pub fn service(
        &self,
        ctx: &Context,
        name: &str,
        run: &str,
        options: &ServiceOptions,
    ) -> S6Service {
        let dir = ctx.dir(&format!("s6-{name}"));
        write_run_script(&dir, run).expect("write the run script");
        if options.down {
            std::fs::write(dir.join("down"), "").expect("write the down file");
        }
        if let Some(fd) = options.notification_fd {
            std::fs::write(dir.join("notification-fd"), format!("{fd}\n"))
                .expect("write notification-fd");
        }
        let mut cmd = Command::new(&self.supervise);
        cmd.arg(&dir);
        let supervise = Spawned::spawn(
            "s6-supervise",
            &mut cmd,
            &dir.with_extension("supervise.log"),
        )
        .expect("start s6-supervise");
        if !wait_for_path(&dir.join("supervise/status"), TIMEOUT) {
            panic!(
                "s6-supervise did not start within {TIMEOUT:?}: {}",
                supervise.output()
            );
        }
        S6Service {
            dir,
            svc: self.svc.clone(),
            svstat: self.svstat.clone(),
            supervise,
        }
    }
}

/// A service directory under its `s6-supervise`.
#[derive(Debug)]
pub struct S6Service {
    dir: PathBuf,
    svc: PathBuf,
    svstat: PathBuf,
    supervise: Spawned,
}

impl S6Service {
    /// The service directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `s6-svc args <dir>`.
    pub fn svc(&self, args: &[&str]) -> Output {
        crate::run(Command::new(&self.svc).args(args).arg(&self.dir))
    }

    /// `s6-svc args <dir>`, which must succeed (with `-w...`, the awaited event
    /// came within `-T`).
    pub fn svc_ok(&self, args: &[&str]) {
        let output = self.svc(args);
        if !output.status.success() {
            check(
                &output,
                &format!(
                    "s6-svc {}\nstatus: {}\ns6-supervise: {}",
                    args.join(" "),
                    self.svstat(),
                    tail(&self.supervise.output(), 10)
                ),
            );
        }
    }

    /// `s6-svstat`: `up (pid 42) 3 seconds` or `down (exitcode 0) 1 seconds, ...`.
    pub fn svstat(&self) -> String {
        text(&crate::run(Command::new(&self.svstat).arg(&self.dir)).stdout)
            .trim()
            .to_owned()
    }

    /// `s6-svstat -o FIELDS` (`up`, `pid`, `exitcode`, `signal`, `ready`, ...), one
    /// value per field.
    pub fn svstat_fields(&self, fields: &[&str]) -> Vec<String> {
        let output = crate::run(
            Command::new(&self.svstat)
                .arg("-o")
                .arg(fields.join(","))
                .arg(&self.dir),
        );
        check(&output, "s6-svstat -o");
        text(&output.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for S6Service {
    fn drop(&mut self) {
        // Down, then exit once down.
        let _ = write_control(&self.dir.join("supervise/control"), b"dx");
        if self.supervise.wait_exit(TIMEOUT).is_none() {
            self.supervise.stop(Signal::SIGKILL, TIMEOUT);
        }
    }
}
