//! `--restart`: a stop, then a start, with the arguments of the restart's own command
//! line, as init scripts and `start-stop-daemon` do (a PID file cannot carry the
//! arguments a daemon was started with).
//!
//! So that a restart never silently changes the daemon, it is refused, with what to
//! do instead, when the daemon it would stop was started with another command line
//! (`hello --daemon --config /etc/x.toml` restarted by a bare `hello --restart`), and
//! when a bare `--restart` finds nothing under its PID file while the same program runs
//! under another one (it would start a second daemon beside the first). A restart with
//! settings of its own names an instance of the program: others may rightly run with
//! other settings.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{Target, control_error};
use crate::control::status::{Status, status};
use crate::error::Error;
use crate::pidfile::LOCK_SUFFIX;
use crate::sys::procfs;

/// The flags that say what to do, not how: left out when command lines are compared.
const ACTIONS: &[&str] = &["--daemon", "--restart", "--foreground"];

/// Checks that restarting with this process's command line keeps the daemon as it is.
pub(crate) fn check(target: &Target) -> Result<(), Error> {
    let ours: Vec<OsString> = std::env::args_os().collect();
    match status(&target.pid_file) {
        Status::Running { pid } => same_command_line(target, pid, &ours),
        Status::NotRunning | Status::Stale { .. } if settings_args(&ours).is_empty() => {
            no_other_instance(target)
        }
        // Whatever is odd about the PID file, the stop reports it.
        _ => Ok(()),
    }
}

fn same_command_line(target: &Target, pid: u32, ours: &[OsString]) -> Result<(), Error> {
    // Unreadable (hidepid): nothing to compare with.
    let Some(theirs) = procfs::cmdline(pid) else {
        return Ok(());
    };
    if settings_args(&theirs) == settings_args(ours) {
        return Ok(());
    }
    Err(control_error(
        "restart",
        &target.name,
        format!(
            "it runs (pid {pid}) with the command line `{}`, and this one would start it \
             with other settings (`{}`); restart it with the arguments it was started with, \
             or --stop it and start it again",
            shown(&theirs),
            shown(ours)
        ),
        None,
    ))
}

fn no_other_instance(target: &Target) -> Result<(), Error> {
    let Some((pid, pid_file)) = other_instance() else {
        return Ok(());
    };
    let started = procfs::cmdline(pid)
        .map(|args| shown(&args))
        .unwrap_or_default();
    Err(control_error(
        "restart",
        &target.name,
        format!(
            "nothing runs under PID file {}, but {} runs as pid {pid} under {} (started as \
             `{started}`); a restart would start a second one: restart that one with the \
             arguments it was started with, or --stop it first",
            target.pid_file.display(),
            target.name,
            pid_file.display()
        ),
        None,
    ))
}

/// Another process of this very program that holds a PID file's lock, and that PID file.
fn other_instance() -> Option<(u32, PathBuf)> {
    let exe = procfs::exe(std::process::id())?;
    procfs::running(&exe).into_iter().find_map(|pid| {
        let lock = procfs::open_files_ending(pid, LOCK_SUFFIX)
            .into_iter()
            .next()?;
        let pid_file = lock.to_str()?.strip_suffix(LOCK_SUFFIX)?.into();
        Some((pid, pid_file))
    })
}

/// The arguments after the program's name, without the action flags.
fn settings_args(args: &[OsString]) -> Vec<&OsString> {
    args.iter()
        .skip(1)
        .filter(|arg| !ACTIONS.iter().any(|action| *arg == *action))
        .collect()
}

/// A command line as a shell would show it.
fn shown(args: &[OsString]) -> String {
    args.iter()
        .enumerate()
        .map(|(i, arg)| match i {
            0 => Path::new(arg)
                .file_name()
                .unwrap_or(arg)
                .to_string_lossy()
                .into_owned(),
            _ => arg.to_string_lossy().into_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<OsString> {
        line.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn action_flags_do_not_count() {
        let started = args("/usr/bin/hello --daemon --config /etc/x.toml");
        let restart = args("hello --config /etc/x.toml --restart");
        assert_eq!(settings_args(&started), settings_args(&restart));
        let bare = args("hello --restart");
        assert_ne!(settings_args(&started), settings_args(&bare));
        assert_eq!(shown(&started), "hello --daemon --config /etc/x.toml");
    }
}
