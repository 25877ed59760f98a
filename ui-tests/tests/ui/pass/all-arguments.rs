// Every argument, as literals and as expressions. The handlers are not called: running
// them would need root (`user`, `chroot`).
use std::path::PathBuf;
use std::time::Duration;

use daemon_runtime::{DaemonArgs, daemonize};

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    daemon: DaemonArgs,
}

fn bind() -> Result<u16, String> {
    Ok(80)
}

#[daemonize(
    user = "nobody",
    group = 65534,
    dir = "/",
    pid_file = "/run/all.pid",
    umask = 0o027,
    stdout = "/var/log/all.log",
    stderr = "/var/log/all.err",
    chroot = "/var/empty",
    stop_timeout = 10,
    start_timeout = 0.5,
    name = "all",
    config = "/etc/all/all.toml",
    daemon = false,
    privileged = bind,
    ready = "auto",
    args = daemon,
    crate = ::daemon_runtime,
)]
fn literals(_args: ServeArgs, _port: u16) {}

const MASK: u32 = 0o077;

fn state(file: &str) -> PathBuf {
    std::env::temp_dir().join(file)
}

#[daemonize(
    user = String::from("nobody"),
    group = "nogroup".to_owned(),
    dir = state(""),
    pid_file = state("all.pid"),
    umask = MASK,
    stdout = state("all.log"),
    stderr = state("all.err"),
    chroot = PathBuf::from("/var/empty"),
    stop_timeout = Duration::from_millis(1500),
    start_timeout = Duration::from_secs(3),
    name = env!("CARGO_CRATE_NAME"),
    config = state("all.toml"),
    daemon = std::env::var_os("ALWAYS_DETACH").is_some(),
    privileged = bind,
    ready = "manual",
)]
fn expressions(_args: ServeArgs, _port: u16) {
    daemon_runtime::ready();
}

fn main() {
    let _ = (literals, expressions);
}
