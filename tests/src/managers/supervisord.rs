//! supervisord 4.x from PyPI, in a cached virtualenv (Debian's `python3-venv`), run in
//! the foreground (`-n`) with its own configuration, log and unix socket in a scratch
//! directory. Programs are added as files in its `programs/` directory and picked up
//! with `supervisorctl update`.
//!
//! supervisord writes its PID file after its socket listens: the harness waits for
//! that file (inotify), then talks to it. Dropping it sends SIGTERM, on which
//! supervisord stops its programs and exits.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nix::sys::signal::Signal;

use super::suite::Manager;
use super::{
    Context, Spawned, TIMEOUT, Unavailable, check, install, tail, wait_for_path, wait_for_text,
};
use crate::text;

/// The cache entry holding the virtualenv; bump the number to rebuild it.
const VENV: &str = "venv-supervisor-4-1";

/// A running supervisord.
#[derive(Debug)]
pub struct Supervisord {
    dir: PathBuf,
    venv: PathBuf,
    daemon: Spawned,
}

impl Manager for Supervisord {
    const NAME: &'static str = "supervisord";
    const PACKAGES: &'static [&'static str] = &["python3-venv"];

    fn start(ctx: &Context) -> Result<Supervisord, Unavailable> {
        install::apt(Self::PACKAGES)?;
        let venv = install::cached(VENV, virtualenv)?;
        Ok(Supervisord::launch(ctx, venv))
    }
}

fn virtualenv(dir: &Path) -> Result<(), Unavailable> {
    let what = "supervisor (PyPI) in a virtualenv";
    let step = |cmd: &mut Command| -> Result<(), Unavailable> {
        let output = install::run_install(cmd, what)?;
        if output.status.success() {
            Ok(())
        } else {
            Err(Unavailable::new(
                what,
                format!("{cmd:?}: {}", install::failure(&output)),
            ))
        }
    };
    // Debian's interpreter, not whatever `python3` comes first in PATH (pyenv's, say).
    step(
        Command::new("/usr/bin/python3")
            .args(["-m", "venv"])
            .arg(dir),
    )?;
    step(Command::new(dir.join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "supervisor>=4,<5",
    ]))
}

impl Supervisord {
    fn launch(ctx: &Context, venv: PathBuf) -> Supervisord {
        let dir = ctx.dir("supervisord");
        std::fs::create_dir(dir.join("programs")).expect("create programs/");
        let config = dir.join("supervisord.conf");
        std::fs::write(&config, configuration(&dir)).expect("write supervisord.conf");
        let mut cmd = Command::new(venv.join("bin/supervisord"));
        cmd.arg("--nodaemon").arg("--configuration").arg(&config);
        let daemon = Spawned::spawn("supervisord", &mut cmd, &dir.join("stdout.log"))
            .expect("start supervisord");
        let supervisord = Supervisord { dir, venv, daemon };
        // Written once its socket listens (supervisord's `run`: servers, then PID file).
        if !wait_for_path(&supervisord.dir.join("supervisord.pid"), TIMEOUT) {
            panic!(
                "supervisord did not write its PID file within {TIMEOUT:?}:\n{}\n{}",
                tail(&supervisord.daemon.output(), 20),
                tail(&supervisord.log(), 20)
            );
        }
        supervisord
    }

    /// Adds `[program:NAME]` with the lines in `body` (`command=...`, ...) and makes
    /// supervisord take it in (`supervisorctl update`).
    pub fn add_program(&self, name: &str, body: &str) {
        let file = self.dir.join("programs").join(format!("{name}.conf"));
        std::fs::write(&file, format!("[program:{name}]\n{body}\n"))
            .expect("write a program's section");
        self.ctl_ok(&["update"]);
    }

    /// `supervisorctl args`.
    pub fn ctl(&self, args: &[&str]) -> Output {
        crate::run(
            Command::new(self.venv.join("bin/supervisorctl"))
                .arg("--configuration")
                .arg(self.dir.join("supervisord.conf"))
                .args(args),
        )
    }

    /// `supervisorctl args`, which must succeed; returns its output.
    pub fn ctl_ok(&self, args: &[&str]) -> String {
        let output = self.ctl(args);
        if !output.status.success() {
            check(
                &output,
                &format!(
                    "supervisorctl {}\nsupervisord.log:\n{}\n",
                    args.join(" "),
                    tail(&self.log(), 20)
                ),
            );
        }
        text(&output.stdout)
    }

    /// A program's state (`RUNNING`, `STOPPED`, ...) and pid, from `supervisorctl
    /// status` (`hello  RUNNING   pid 42, uptime 0:00:01`).
    pub fn status(&self, name: &str) -> (String, Option<u32>) {
        // Exits non-zero unless the program runs: read the output either way.
        let output = text(&self.ctl(&["status", name]).stdout);
        let mut words = output.split_whitespace().skip(1);
        let state = words.next().unwrap_or_default().to_owned();
        let pid = output
            .split("pid ")
            .nth(1)
            .and_then(|rest| rest.split(',').next()?.trim().parse().ok());
        (state, pid)
    }

    /// supervisord's own log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("supervisord.log")).unwrap_or_default()
    }

    /// Waits until supervisord's log contains `needle`; returns the log.
    pub fn wait_for_log(&self, needle: &str) -> String {
        wait_for_text(&self.dir.join("supervisord.log"), needle, TIMEOUT).unwrap_or_else(|log| {
            panic!("no {needle:?} in supervisord.log within {TIMEOUT:?}:\n{log}")
        })
    }

    /// The scratch directory it runs in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn configuration(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "[unix_http_server]\nfile={d}/supervisor.sock\nchmod=0700\n\n\
         [supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\n\
         childlogdir={d}\nloglevel=info\n\n\
         [rpcinterface:supervisor]\n\
         supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
         [supervisorctl]\nserverurl=unix://{d}/supervisor.sock\n\n\
         [include]\nfiles = {d}/programs/*.conf\n"
    )
}

impl Drop for Supervisord {
    fn drop(&mut self) {
        // SIGTERM: supervisord stops its programs (each with its stopsignal) and exits.
        self.daemon.stop(Signal::SIGTERM, TIMEOUT);
    }
}
