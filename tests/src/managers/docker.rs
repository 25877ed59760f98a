//! Docker (Debian's `docker.io`, 20.10) with a private `dockerd`: its own data root,
//! exec root, PID file, configuration file and API socket in a scratch directory,
//! never the system's socket; no iptables rules, no bridge, no IP forwarding, so the
//! host's network is untouched (containers run with `--network none`). `dockerd`
//! reports its readiness (`READY=1`) on a notify socket of ours.
//!
//! The image is made offline: the staged binaries under [`BIN_DIR`], the shared
//! libraries `ldd` names, `/tmp` and `/run`, imported with `docker import`. No
//! registry is involved.
//!
//! Dropping it removes every container, stops `dockerd` (SIGTERM: it stops its
//! `containerd` and the shims), then unmounts whatever is still mounted under its
//! directories (the data root's own bind mount, overlays, network namespaces).
//! `dockerd` itself writes `/etc/docker/key.json` and `/run/docker/plugins` on the
//! host, wherever its roots are; those stay.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use nix::sys::signal::Signal;

use super::suite::Manager;
use super::{
    Context, Namespaces, NotifySocket, Spawned, TIMEOUT, Unavailable, check, follow, require,
    run_quietly, tail, unmount_below,
};
use crate::text;

/// Where the staged binaries are in the image.
pub const BIN_DIR: &str = "/opt/bin";

/// A private `dockerd` with the test image imported.
#[derive(Debug)]
pub struct Docker {
    dir: PathBuf,
    client: PathBuf,
    image: String,
    namespaces: Namespaces,
    dockerd: Spawned,
}

impl Manager for Docker {
    const NAME: &'static str = "docker";
    const PACKAGES: &'static [&'static str] = &["docker.io"];

    fn start(ctx: &Context) -> Result<Docker, Unavailable> {
        Unavailable::require_root("a private dockerd")?;
        super::install::apt(Self::PACKAGES)?;
        let dockerd = require("dockerd", "docker.io")?;
        // Debian's client, not another `docker` that may come first in PATH.
        let client = PathBuf::from("/usr/bin/docker");
        if !client.is_file() {
            return Err(Unavailable::new(
                "/usr/bin/docker",
                "it is not installed (docker.io)",
            ));
        }
        let docker = Docker::launch(ctx, &dockerd, client);
        docker.import_image(ctx);
        Ok(docker)
    }
}

impl Docker {
    fn launch(ctx: &Context, dockerd: &Path, client: PathBuf) -> Docker {
        let dir = ctx.dir("docker");
        let notify = NotifySocket::bind(&dir.join("notify.sock")).expect("bind the notify socket");
        // Its own (empty) configuration, not the host's /etc/docker/daemon.json.
        std::fs::write(dir.join("daemon.json"), "{}\n").expect("write daemon.json");
        let mut cmd = Command::new(dockerd);
        cmd.arg("--config-file")
            .arg(dir.join("daemon.json"))
            .arg("--data-root")
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(dir.join("dockerd.pid"))
            .arg("--host")
            .arg(format!("unix://{}", dir.join("docker.sock").display()))
            .args([
                "--iptables=false",
                "--ip-forward=false",
                "--ip-masq=false",
                "--bridge=none",
                "--userland-proxy=false",
            ])
            .env("NOTIFY_SOCKET", notify.path());
        let dockerd =
            Spawned::spawn("dockerd", &mut cmd, &dir.join("dockerd.log")).expect("start dockerd");
        if let Err(e) = notify.wait_for("READY", dockerd.pidfd(), TIMEOUT) {
            panic!("dockerd: {e}\n{}", tail(&dockerd.output(), 30));
        }
        Docker {
            image: format!("daemon-tests:{}", std::process::id()),
            dir,
            client,
            namespaces: ctx.namespaces(),
            dockerd,
        }
    }

    /// Builds the image's root in a directory and imports it.
    fn import_image(&self, ctx: &Context) {
        let root = self.dir.join("image");
        // The examples keep their default state under /tmp; PID files go to /run.
        for sub in ["tmp", "run", BIN_DIR.trim_start_matches('/')] {
            std::fs::create_dir_all(root.join(sub)).expect("create the image's directories");
        }
        std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777))
            .expect("chmod /tmp");
        for (name, path) in ctx.binaries() {
            std::fs::copy(path, root.join(BIN_DIR.trim_start_matches('/')).join(name))
                .expect("copy a binary into the image");
            for library in shared_libraries(path) {
                let inside =
                    root.join(library.strip_prefix("/").expect("ldd gives absolute paths"));
                std::fs::create_dir_all(inside.parent().expect("a library's directory"))
                    .expect("create a library directory");
                // Follows the symlink: the image gets the library itself.
                std::fs::copy(&library, &inside).expect("copy a shared library");
            }
        }
        let tarball = self.dir.join("image.tar");
        super::run_ok(
            Command::new("tar")
                .arg("-C")
                .arg(&root)
                .arg("-cf")
                .arg(&tarball)
                .arg("."),
        );
        self.docker_ok(&["import", &tarball.display().to_string(), &self.image]);
    }

    /// The image: the staged binaries in [`BIN_DIR`] and what they need to run.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// The Docker client, talking to this `dockerd` only.
    pub fn client(&self) -> Command {
        let mut cmd = Command::new(&self.client);
        cmd.arg("--host")
            .arg(format!("unix://{}", self.dir.join("docker.sock").display()))
            // The client's own configuration goes here, not to ~/.docker.
            .env("DOCKER_CONFIG", self.dir.join("client"));
        cmd
    }

    /// `docker args`.
    pub fn docker(&self, args: &[&str]) -> Output {
        crate::run(self.client().args(args))
    }

    /// `docker args`, which must succeed; returns its standard output.
    pub fn docker_ok(&self, args: &[&str]) -> String {
        let output = self.docker(args);
        if !output.status.success() {
            check(
                &output,
                &format!(
                    "docker {}\ndockerd:\n{}",
                    args.join(" "),
                    tail(&self.dockerd.output(), 20)
                ),
            );
        }
        text(&output.stdout)
    }

    /// `docker run --detach --network none OPTIONS IMAGE COMMAND...`; the container is
    /// removed when the returned handle is dropped.
    pub fn run(&self, options: &[&str], command: &[&str]) -> Container<'_> {
        let args = [
            &["run", "--detach", "--network", "none"],
            options,
            &[self.image.as_str()],
            command,
        ]
        .concat();
        let id = self.docker_ok(&args).trim().to_owned();
        let container = Container { docker: self, id };
        self.namespaces.record(container.pid());
        container
    }
}

/// The shared libraries `ldd` says `binary` loads (the vDSO has no file).
fn shared_libraries(binary: &Path) -> Vec<PathBuf> {
    let output = super::run_ok(Command::new("ldd").arg(binary));
    output
        .lines()
        .filter_map(|line| line.split_whitespace().find(|word| word.starts_with('/')))
        .map(PathBuf::from)
        .collect()
}

impl Drop for Docker {
    fn drop(&mut self) {
        let all = run_quietly(self.client().args(["ps", "--all", "--quiet"])).unwrap_or_default();
        for id in all.split_whitespace() {
            run_quietly(self.client().args(["rm", "--force", id]));
        }
        self.dockerd.stop(Signal::SIGTERM, TIMEOUT);
        unmount_below(&self.dir);
    }
}

/// A container of the private `dockerd`.
#[derive(Debug)]
pub struct Container<'d> {
    docker: &'d Docker,
    id: String,
}

impl Container<'_> {
    /// Its id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `docker inspect --format FORMAT`.
    pub fn inspect(&self, format: &str) -> String {
        self.docker
            .docker_ok(&["inspect", "--format", format, &self.id])
            .trim()
            .to_owned()
    }

    /// The host pid of its first process, 0 once it has stopped.
    pub fn pid(&self) -> u32 {
        self.inspect("{{.State.Pid}}").parse().expect("a pid")
    }

    /// Follows `docker logs` until a line contains `needle`; returns the lines so far.
    pub fn wait_for_log(&self, needle: &str) -> Vec<String> {
        let mut cmd = self.docker.client();
        cmd.args(["logs", "--follow", &self.id]);
        follow(&mut cmd, needle, TIMEOUT).unwrap_or_else(|seen| {
            panic!("no {needle:?} in the container's output within {TIMEOUT:?}: {seen:?}")
        })
    }

    /// Its whole output so far.
    pub fn logs(&self) -> String {
        let output = self.docker.docker(&["logs", &self.id]);
        format!("{}{}", text(&output.stdout), text(&output.stderr))
    }

    /// `docker stop --time SECONDS` (SIGTERM, SIGKILL after the timeout); returns the
    /// exit code the container ended with (143 is death by SIGTERM, 137 by SIGKILL).
    pub fn stop(&self, timeout: Duration) -> i32 {
        self.docker
            .docker_ok(&["stop", "--time", &timeout.as_secs().to_string(), &self.id]);
        self.inspect("{{.State.ExitCode}}")
            .parse()
            .expect("an exit code")
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        run_quietly(self.docker.client().args(["rm", "--force", &self.id]));
    }
}
