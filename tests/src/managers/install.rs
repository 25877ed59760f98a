//! Installing what the managers need, from the tests themselves, once: Debian packages
//! with apt, and things built into a cache directory (a root file system, a
//! virtualenv) that later runs reuse.
//!
//! The cache is `$DAEMON_TESTS_CACHE` if set, else `/var/cache/daemon-runtime-tests`
//! as root, else `$XDG_CACHE_HOME/daemon-runtime-tests` (or `~/.cache/...`). Test
//! binaries running at the same time serialise on `flock`s of files in it: one for
//! apt, one per cached entry. An entry counts as built only once its `NAME.done` stamp
//! exists, so an interrupted build is thrown away and redone.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use super::Unavailable;
use crate::text;

/// The environment variable that overrides the cache directory.
pub const CACHE_ENV: &str = "DAEMON_TESTS_CACHE";

/// How long one install step (apt, debootstrap, pip) may take.
const INSTALL_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// The cache directory, created if missing.
pub fn cache_dir() -> Result<PathBuf, Unavailable> {
    let dir = match std::env::var_os(CACHE_ENV) {
        Some(dir) => PathBuf::from(dir),
        None if crate::is_root() => PathBuf::from("/var/cache/daemon-runtime-tests"),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
            .ok_or_else(|| {
                Unavailable::new(
                    "the cache directory",
                    "neither HOME nor XDG_CACHE_HOME is set",
                )
            })?
            .join("daemon-runtime-tests"),
    };
    std::fs::create_dir_all(&dir).map_err(|e| {
        Unavailable::io(
            "the cache directory",
            format!("cannot create {}", dir.display()),
            e,
        )
    })?;
    Ok(dir)
}

/// An exclusive `flock` on `NAME.lock` in the cache directory, held until dropped.
struct CacheLock {
    _file: File,
}

fn lock(name: &str) -> Result<CacheLock, Unavailable> {
    let path = cache_dir()?.join(format!("{name}.lock"));
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o644)
        .open(&path)
        .map_err(|e| Unavailable::io(name, format!("cannot open {}", path.display()), e))?;
    // Blocks while another test binary installs the same thing.
    file.lock()
        .map_err(|e| Unavailable::io(name, format!("cannot lock {}", path.display()), e))?;
    Ok(CacheLock { _file: file })
}

/// The cache entry `name`, built by `build` (into the directory it is given, which
/// does not exist yet) unless an earlier run built it. Returns its path.
pub fn cached(
    name: &str,
    build: impl FnOnce(&Path) -> Result<(), Unavailable>,
) -> Result<PathBuf, Unavailable> {
    let dir = cache_dir()?;
    let entry = dir.join(name);
    let done = dir.join(format!("{name}.done"));
    if done.exists() {
        return Ok(entry);
    }
    let _lock = lock(name)?;
    if done.exists() {
        return Ok(entry);
    }
    if entry.exists() {
        // A build that was interrupted.
        std::fs::remove_dir_all(&entry)
            .map_err(|e| Unavailable::io(name, format!("cannot remove {}", entry.display()), e))?;
    }
    let started = Instant::now();
    if let Err(e) = build(&entry) {
        let _ = std::fs::remove_dir_all(&entry);
        return Err(e);
    }
    File::create(&done)
        .map_err(|e| Unavailable::io(name, format!("cannot write {}", done.display()), e))?;
    println!(
        "cache: built {} in {:.1?}",
        entry.display(),
        started.elapsed()
    );
    Ok(entry)
}

/// Makes sure the Debian `packages` are installed, installing the missing ones with
/// apt (as root only), without starting any service they ship.
pub fn apt(packages: &[&str]) -> Result<(), Unavailable> {
    if packages.is_empty() || missing(packages)?.is_empty() {
        return Ok(());
    }
    let what = packages.join(" ");
    if !crate::is_root() {
        return Err(Unavailable::new(
            what,
            format!(
                "not installed, and only root may install {:?}",
                missing(packages)?
            ),
        ));
    }
    let _lock = lock("apt")?;
    let missing = missing(packages)?;
    if missing.is_empty() {
        return Ok(());
    }
    let _no_services = NoServices::install()
        .map_err(|e| Unavailable::io(&what, "cannot write /usr/sbin/policy-rc.d", e))?;
    let started = Instant::now();
    update_once(&what)?;
    let mut install = apt_get(&["install", "-y", "-q", "--no-install-recommends"]);
    install.args(&missing);
    let output = run_install(&mut install, &what)?;
    if !output.status.success() {
        return Err(Unavailable::new(
            what,
            format!("apt-get install failed: {}", failure(&output)),
        ));
    }
    println!(
        "cache: apt installed {} in {:.1?}",
        missing.join(" "),
        started.elapsed()
    );
    Ok(())
}

/// The packages of `packages` that dpkg does not have installed.
fn missing(packages: &[&str]) -> Result<Vec<String>, Unavailable> {
    let Some(dpkg_query) = super::which("dpkg-query") else {
        return Err(Unavailable::new(
            packages.join(" "),
            "this is not a Debian system (no dpkg-query)",
        ));
    };
    let output = crate::run(
        Command::new(dpkg_query)
            .args(["-W", "-f", "${Package} ${db:Status-Status}\n"])
            .args(packages),
    );
    let stdout = text(&output.stdout);
    let installed: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.strip_suffix(" installed"))
        .collect();
    Ok(packages
        .iter()
        .filter(|p| !installed.contains(p))
        .map(|p| p.to_string())
        .collect())
}

/// `apt-get update`, once per test binary: a fresh machine may have no package lists.
fn update_once(what: &str) -> Result<(), Unavailable> {
    static UPDATE: Once = Once::new();
    let mut result = Ok(());
    UPDATE.call_once(|| {
        result = run_install(&mut apt_get(&["update", "-q"]), what).and_then(|output| {
            if output.status.success() {
                Ok(())
            } else {
                Err(Unavailable::new(
                    what,
                    format!("apt-get update failed: {}", failure(&output)),
                ))
            }
        });
    });
    result
}

fn apt_get(args: &[&str]) -> Command {
    let mut cmd = Command::new("apt-get");
    // Waits for another apt (someone else's) instead of failing at once.
    cmd.args(["-o", "DPkg::Lock::Timeout=600"])
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive");
    cmd
}

/// Runs an install step with its own, longer deadline.
pub fn run_install(cmd: &mut Command, what: &str) -> Result<Output, Unavailable> {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Unavailable::io(what, format!("cannot run {cmd:?}"), e))?;
    Ok(crate::wait_output(child, INSTALL_DEADLINE))
}

/// The end of a failed step's output, for the skip message.
pub fn failure(output: &Output) -> String {
    let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
    format!(
        "{}: {}",
        output.status,
        super::tail(all.trim(), 5).replace('\n', " | ")
    )
}

/// `/usr/sbin/policy-rc.d` exiting 101 while apt runs, so that no package starts its
/// service (rsyslog, docker, runit's runsvdir) on the host: removed on drop. A policy
/// that is already there is left as it is.
struct NoServices {
    created: Option<PathBuf>,
}

impl NoServices {
    fn install() -> io::Result<NoServices> {
        let path = PathBuf::from("/usr/sbin/policy-rc.d");
        if path.symlink_metadata().is_ok() {
            return Ok(NoServices { created: None });
        }
        let mut file = OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o755)
            .open(&path)?;
        file.write_all(
            b"#!/bin/sh\n# daemon-runtime tests: start no service while they install.\nexit 101\n",
        )?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        Ok(NoServices {
            created: Some(path),
        })
    }
}

impl Drop for NoServices {
    fn drop(&mut self) {
        if let Some(path) = &self.created {
            let _ = std::fs::remove_file(path);
        }
    }
}
