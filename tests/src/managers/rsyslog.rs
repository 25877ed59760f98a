//! rsyslog (Debian's), run by the test in the foreground with its own configuration:
//! `imuxsock` listening on a socket in a scratch directory (the system socket,
//! `/dev/log`, is not touched), every message written to one file as
//! `FACILITY.SEVERITY TAGMESSAGE`. This is the receiving end for a logger's syslog
//! target pointed at [`Rsyslog::socket`].
//!
//! rsyslogd reports its readiness (`READY=1`) on a notify socket of ours once its
//! inputs are open. Dropping it sends SIGTERM.

use std::path::{Path, PathBuf};
use std::process::Command;

use nix::sys::signal::Signal;

use super::suite::Manager;
use super::{Context, NotifySocket, Spawned, TIMEOUT, Unavailable, require, tail, wait_for_text};

/// A private rsyslogd.
#[derive(Debug)]
pub struct Rsyslog {
    dir: PathBuf,
    daemon: Spawned,
}

impl Manager for Rsyslog {
    const NAME: &'static str = "rsyslog";
    const PACKAGES: &'static [&'static str] = &["rsyslog"];

    fn start(ctx: &Context) -> Result<Rsyslog, Unavailable> {
        super::install::apt(Self::PACKAGES)?;
        let rsyslogd = require("rsyslogd", "rsyslog")?;
        Ok(Rsyslog::launch(ctx, &rsyslogd))
    }
}

impl Rsyslog {
    fn launch(ctx: &Context, rsyslogd: &Path) -> Rsyslog {
        let dir = ctx.dir("rsyslog");
        let config = dir.join("rsyslog.conf");
        std::fs::write(&config, configuration(&dir)).expect("write rsyslog.conf");
        let notify = NotifySocket::bind(&dir.join("notify.sock")).expect("bind the notify socket");
        let mut cmd = Command::new(rsyslogd);
        cmd.arg("-n")
            .arg("-f")
            .arg(&config)
            .arg("-i")
            .arg(dir.join("rsyslogd.pid"))
            .env("NOTIFY_SOCKET", notify.path());
        let daemon = Spawned::spawn("rsyslogd", &mut cmd, &dir.join("rsyslogd.log"))
            .expect("start rsyslogd");
        if let Err(e) = notify.wait_for("READY", daemon.pidfd(), TIMEOUT) {
            panic!("rsyslogd: {e}\n{}", tail(&daemon.output(), 20));
        }
        Rsyslog { dir, daemon }
    }

    /// The socket it receives messages on (datagrams, like `/dev/log`).
    pub fn socket(&self) -> PathBuf {
        self.dir.join("log.sock")
    }

    /// The file it writes every message to.
    pub fn output_file(&self) -> PathBuf {
        self.dir.join("messages")
    }

    /// What it wrote so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.output_file()).unwrap_or_default()
    }

    /// Waits until a message containing `needle` was written; returns that line.
    pub fn wait_for(&self, needle: &str) -> String {
        let all = wait_for_text(&self.output_file(), needle, TIMEOUT).unwrap_or_else(|so_far| {
            panic!(
                "rsyslogd wrote no {needle:?} within {TIMEOUT:?}: {so_far}\nrsyslogd: {}",
                tail(&self.daemon.output(), 10)
            )
        });
        all.lines()
            .find(|line| line.contains(needle))
            .unwrap_or_default()
            .to_owned()
    }
}

fn configuration(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "global(workDirectory=\"{d}\")\n\
         module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
         input(type=\"imuxsock\" Socket=\"{d}/log.sock\")\n\
         template(name=\"plain\" type=\"string\" \
         string=\"%syslogfacility-text%.%syslogseverity-text% %syslogtag%%msg%\\n\")\n\
         *.* action(type=\"omfile\" file=\"{d}/messages\" template=\"plain\")\n"
    )
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        self.daemon.stop(Signal::SIGTERM, TIMEOUT);
    }
}
