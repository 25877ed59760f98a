//! systemd 252 as PID 1 of a `systemd-nspawn` container, booted from a cached Debian
//! bookworm root file system (`debootstrap --variant=minbase`, with systemd, dbus and
//! procps).
//!
//! The container is booted with `--volatile=overlay` (every change goes to a tmpfs
//! and vanishes with the container, so the cached root stays pristine and concurrent
//! runs can share it), `--private-network`, `--register=no --keep-unit` (there is no
//! systemd on the host to register with), and the staged binaries bind-mounted
//! read-only at [`BIN_DIR`]. `systemd-nspawn --notify-ready=yes` reports the
//! container's leader pid and then its readiness (systemd's own `READY=1` at the end of
//! the boot) on a notify socket of ours: no polling. Commands run inside through
//! `nsenter`; files are read and written through `/proc/<leader>/root`.
//!
//! Dropping it sends SIGTERM to `systemd-nspawn`, which powers the container off
//! cleanly; if that takes too long, the leader (and with it the whole PID namespace)
//! and `systemd-nspawn` are killed. Its mounts live in its own mount namespace.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nix::sys::signal::Signal;

use super::suite::Manager;
use super::{
    Context, NotifySocket, Spawned, TIMEOUT, Unavailable, check, follow, install, require, tail,
    wait_for_text,
};
use crate::{Pidfd, text};

/// Where the staged binaries are inside the container.
pub const BIN_DIR: &str = "/opt/bin";

/// The cache entry holding the root file system; bump the number to rebuild it.
const ROOTFS: &str = "rootfs-bookworm-systemd-1";

/// A booted container with systemd as its PID 1.
#[derive(Debug)]
pub struct Systemd {
    nspawn: Spawned,
    leader: Pidfd,
}

impl Manager for Systemd {
    const NAME: &'static str = "systemd";
    const PACKAGES: &'static [&'static str] = &["systemd-container", "debootstrap"];

    fn start(ctx: &Context) -> Result<Systemd, Unavailable> {
        Unavailable::require_root("systemd-nspawn")?;
        install::apt(Self::PACKAGES)?;
        require("systemd-nspawn", "systemd-container")?;
        let rootfs = install::cached(ROOTFS, debootstrap)?;
        Ok(Systemd::boot(ctx, &rootfs))
    }
}

/// Builds the root file system into `dir`.
fn debootstrap(dir: &Path) -> Result<(), Unavailable> {
    let what = "a Debian root file system (debootstrap)";
    let output = install::run_install(
        Command::new(require("debootstrap", "debootstrap")?)
            .args([
                "--variant=minbase",
                "--include=systemd,dbus,systemd-sysv,procps",
                "bookworm",
            ])
            .arg(dir)
            .arg(mirror()),
        what,
    )?;
    if output.status.success() {
        Ok(())
    } else {
        Err(Unavailable::new(
            what,
            format!("debootstrap failed: {}", install::failure(&output)),
        ))
    }
}

/// The host's Debian mirror (the first `URIs:` of its deb822 sources), so that the
/// container comes from where apt already reaches; Debian's own by default.
fn mirror() -> String {
    std::fs::read_to_string("/etc/apt/sources.list.d/debian.sources")
        .ok()
        .and_then(|sources| {
            sources.lines().find_map(|line| {
                let uri = line.strip_prefix("URIs:")?.split_whitespace().next()?;
                uri.ends_with("/debian").then(|| uri.to_owned())
            })
        })
        .unwrap_or_else(|| "http://deb.debian.org/debian".to_owned())
}

impl Systemd {
    fn boot(ctx: &Context, rootfs: &Path) -> Systemd {
        let dir = ctx.dir("systemd");
        let notify = NotifySocket::bind(&dir.join("notify.sock")).expect("bind the notify socket");
        let machine = format!("daemon-tests-{}", std::process::id());
        let mut cmd = Command::new("systemd-nspawn");
        cmd.args([
            "--quiet",
            "--boot",
            "--register=no",
            "--keep-unit",
            "--volatile=overlay",
            "--private-network",
            "--notify-ready=yes",
        ])
        .arg(format!("--machine={machine}"))
        .arg("--directory")
        .arg(rootfs)
        .arg(format!("--bind-ro={}:{BIN_DIR}", ctx.bin_dir().display()))
        .env("NOTIFY_SOCKET", notify.path());
        let nspawn = Spawned::spawn("systemd-nspawn", &mut cmd, &dir.join("console.log"))
            .expect("start systemd-nspawn");
        let booted = |key| {
            notify
                .wait_for(key, nspawn.pidfd(), TIMEOUT)
                .unwrap_or_else(|e| {
                    panic!(
                        "systemd-nspawn: {e}\nconsole:\n{}",
                        tail(&nspawn.output(), 30)
                    )
                })
        };
        let leader: u32 = booted("X_NSPAWN_LEADER_PID")
            .parse()
            .expect("X_NSPAWN_LEADER_PID is a pid");
        let leader = Pidfd::open(leader).expect("pidfd of the container's leader");
        ctx.namespaces().record(leader.pid());
        booted("READY");
        let systemd = Systemd { nspawn, leader };
        systemd.settle();
        systemd
    }

    /// Waits for the boot's jobs to finish; a degraded system is noted, not fatal.
    fn settle(&self) {
        let state = self.systemctl(&["is-system-running", "--wait"]);
        let state = text(&state.stdout).trim().to_owned();
        match state.as_str() {
            "running" => {}
            "degraded" => {
                let failed = self.systemctl(&["--failed", "--no-legend", "--plain"]);
                eprintln!(
                    "note: systemd in the container is degraded: {}",
                    text(&failed.stdout).trim()
                );
            }
            other => panic!("systemd in the container is {other:?} after booting"),
        }
    }

    /// The container's leader (systemd) as the host sees it.
    pub fn leader(&self) -> u32 {
        self.leader.pid()
    }

    /// A command run inside the container, in all its namespaces. The PID namespace
    /// matters even to commands that do not look at pids: outside it, the container's
    /// `/proc/self` does not exist (`journalctl --follow` then never wakes up).
    /// `nsenter` forks to enter it and waits for the command.
    pub fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg("-t")
            .arg(self.leader().to_string())
            .args(["-m", "-u", "-i", "-n", "-p"])
            .args(args);
        cmd
    }

    /// Runs `args` inside the container.
    pub fn exec<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        crate::run(&mut self.command(args))
    }

    /// `systemctl args` inside the container.
    pub fn systemctl(&self, args: &[&str]) -> Output {
        self.exec(&[&["systemctl", "--no-pager"], args].concat())
    }

    /// `systemctl args`, which must succeed; returns its output. On failure, the
    /// panic shows the end of the journal.
    pub fn systemctl_ok(&self, args: &[&str]) -> String {
        let output = self.systemctl(args);
        if !output.status.success() {
            check(
                &output,
                &format!(
                    "systemctl {}\njournal:\n{}\n",
                    args.join(" "),
                    self.journal(&["-n", "30"])
                ),
            );
        }
        text(&output.stdout)
    }

    /// A property of a unit (`systemctl show -p NAME --value`).
    pub fn show(&self, unit: &str, property: &str) -> String {
        self.systemctl_ok(&["show", "-p", property, "--value", unit])
            .trim()
            .to_owned()
    }

    /// A unit's main pid (as the container sees it), if it has one.
    pub fn main_pid(&self, unit: &str) -> Option<u32> {
        self.show(unit, "MainPID")
            .parse()
            .ok()
            .filter(|&pid| pid != 0)
    }

    /// Writes unit file `name` (`hello.service`) into `/etc/systemd/system` and
    /// reloads systemd.
    pub fn install_unit(&self, name: &str, contents: &str) {
        self.write(&format!("/etc/systemd/system/{name}"), contents);
        self.systemctl_ok(&["daemon-reload"]);
    }

    /// Where path `inside` of the container is, seen from the host.
    pub fn host_path(&self, inside: &str) -> PathBuf {
        let relative = inside.trim_start_matches('/');
        PathBuf::from(format!("/proc/{}/root", self.leader())).join(relative)
    }

    /// Writes a file inside the container, creating its directory.
    pub fn write(&self, inside: &str, contents: &str) {
        let path = self.host_path(inside);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        }
        std::fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("write {inside} in the container: {e}"));
    }

    /// A file inside the container, if it exists.
    pub fn read(&self, inside: &str) -> Option<String> {
        std::fs::read_to_string(self.host_path(inside)).ok()
    }

    /// Whether a path exists inside the container.
    pub fn exists(&self, inside: &str) -> bool {
        self.host_path(inside).symlink_metadata().is_ok()
    }

    /// Waits until a file inside the container contains `needle`; returns it.
    pub fn wait_for_text(&self, inside: &str, needle: &str) -> String {
        wait_for_text(&self.host_path(inside), needle, TIMEOUT).unwrap_or_else(|so_far| {
            panic!("no {needle:?} in {inside} within {TIMEOUT:?}: {so_far}")
        })
    }

    /// `journalctl --no-pager args` inside the container.
    pub fn journal(&self, args: &[&str]) -> String {
        let output = self.exec(&[&["journalctl", "--no-pager"], args].concat());
        text(&output.stdout)
    }

    /// Follows `journalctl --follow args` inside the container until a line contains
    /// `needle`; returns the lines read.
    pub fn follow_journal(&self, args: &[&str], needle: &str) -> Vec<String> {
        let mut cmd = self.command(&[&["journalctl", "--no-pager", "--follow"], args].concat());
        follow(&mut cmd, needle, TIMEOUT).unwrap_or_else(|seen| {
            panic!("no {needle:?} in journalctl {args:?} within {TIMEOUT:?}: {seen:?}")
        })
    }
}

impl Drop for Systemd {
    fn drop(&mut self) {
        // systemd-nspawn turns SIGTERM into a clean poweroff of the container.
        self.nspawn.stop(Signal::SIGTERM, TIMEOUT);
        if !self.leader.exited() {
            // Killing a PID namespace's init kills every process in it.
            let _ = self.leader.signal(Signal::SIGKILL);
            self.leader.wait_exit(TIMEOUT);
        }
    }
}
