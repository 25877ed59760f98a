//! What `/proc` says about other processes: whether one is alive (a zombie is not),
//! who runs it, what it is, whether it holds a file open, and who holds a lock.
//!
//! Linux only; elsewhere each answer is "cannot tell" (`None`), except liveness, which
//! falls back to `kill(pid, 0)` (where `EPERM` means alive).

use std::fs::File;
use std::path::PathBuf;

use nix::sys::stat::{FileStat, fstat};

/// A file's identity: device and inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FileId {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
}

impl FileId {
    #[allow(
        clippy::unnecessary_cast,
        reason = "dev_t and ino_t differ between systems"
    )]
    pub(crate) fn of(st: &FileStat) -> FileId {
        FileId {
            dev: st.st_dev as u64,
            ino: st.st_ino as u64,
        }
    }

    /// The identity of an open file.
    pub(crate) fn of_file(file: &File) -> Option<FileId> {
        fstat(file).ok().map(|st| FileId::of(&st))
    }
}

/// Whether `pid` is a live process: it exists and is not a zombie (a zombie's pid is
/// taken, but nothing runs).
pub(crate) fn is_live(pid: u32) -> bool {
    if cfg!(any(target_os = "linux", target_os = "android")) {
        return state(pid).is_some_and(|state| !matches!(state, 'Z' | 'X' | 'x'));
    }
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        return false;
    };
    matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None),
        Ok(()) | Err(nix::errno::Errno::EPERM)
    )
}

/// The state letter of `/proc/PID/stat` (`R`, `S`, `Z`, ...).
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain anything: look after it.
    let after = stat.get(stat.rfind(')')? + 1..)?;
    after.split_whitespace().next()?.chars().next()
}

/// The real uid of `pid`.
pub(crate) fn uid(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The command name of `pid` (`/proc/PID/comm`).
pub(crate) fn command(pid: u32) -> Option<String> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(comm.trim_end().to_owned())
}

/// The executable of `pid`; readable for our own processes, or as root.
pub(crate) fn exe(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok()
}

/// The command line of `pid`, one entry per argument.
pub(crate) fn cmdline(pid: u32) -> Option<Vec<std::ffi::OsString>> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        bytes
            .split(|&b| b == 0)
            .filter(|arg| !arg.is_empty())
            .map(|arg| std::ffi::OsStr::from_bytes(arg).to_owned())
            .collect(),
    )
}

/// The processes running `exe` (but this one), by `/proc/PID/exe`: readable for our own
/// processes, or as root.
pub(crate) fn running(exe: &std::path::Path) -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me && is_live(pid))
        .filter(|&pid| self::exe(pid).as_deref() == Some(exe))
        .collect()
}

/// The paths of the files `pid` has open whose names end with `suffix`.
pub(crate) fn open_files_ending(pid: u32, suffix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| std::fs::read_link(entry.path()).ok())
        .filter(|path| {
            path.as_os_str()
                .as_encoded_bytes()
                .ends_with(suffix.as_bytes())
        })
        .collect()
}

/// Whether process `pid` has the file `id` open (`/proc/PID/fd`).
///
/// `None` when that cannot be told: no `/proc`, or no permission to look (a daemon that
/// switched user is not dumpable, so only root may read its descriptor table).
pub(crate) fn holds_open(pid: u32, id: FileId) -> Option<bool> {
    let entries = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    let mut any = false;
    for entry in entries.flatten() {
        any = true;
        if let Ok(st) = nix::sys::stat::stat(&entry.path())
            && FileId::of(&st) == id
        {
            return Some(true);
        }
    }
    // An empty listing means we could not see the entries, not that there are none.
    any.then_some(false)
}

/// The pids `/proc/locks` gives for `flock` locks on file `id`: those that took them.
///
/// A lock outlives the process that took it when it forked (the launcher of a daemon),
/// so a pid here may be gone, or reused: callers check what they find.
pub(crate) fn lock_takers(id: FileId) -> Vec<u32> {
    let Ok(locks) = std::fs::read_to_string("/proc/locks") else {
        return Vec::new();
    };
    locks
        .lines()
        .filter_map(|line| lock_taker(line, id))
        .collect()
}

/// `1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF` names pid 4242 for file
/// `fd:01` (major:minor, in hex) inode 1234; `1: -> FLOCK ...` (a waiter) names none.
fn lock_taker(line: &str, id: FileId) -> Option<u32> {
    let mut fields = line.split_whitespace().skip(1);
    if fields.next()? != "FLOCK" {
        return None;
    }
    let pid: u32 = fields.nth(2)?.parse().ok()?;
    let mut device = fields.next()?.split(':');
    let major = u64::from_str_radix(device.next()?, 16).ok()?;
    let minor = u64::from_str_radix(device.next()?, 16).ok()?;
    let ino: u64 = device.next()?.parse().ok()?;
    #[allow(clippy::unnecessary_cast, reason = "dev_t differs between systems")]
    let dev = libc::makedev(major as _, minor as _) as u64;
    (dev == id.dev && ino == id.ino).then_some(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_lines() {
        let id = FileId {
            dev: libc::makedev(0xfd, 1) as u64,
            ino: 1234,
        };
        assert_eq!(
            lock_taker("1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF", id),
            Some(4242)
        );
        assert_eq!(
            lock_taker("1: -> FLOCK  ADVISORY  WRITE 4243 fd:01:1234 0 EOF", id),
            None
        );
        assert_eq!(
            lock_taker("2: FLOCK  ADVISORY  WRITE 4242 fd:01:1235 0 EOF", id),
            None
        );
        assert_eq!(
            lock_taker("3: POSIX  ADVISORY  WRITE 4242 fd:01:1234 0 EOF", id),
            None
        );
    }

    #[test]
    fn a_real_lock_is_listed_with_our_pid() {
        let dir = tempfile::tempdir().unwrap();
        let file = File::create(dir.path().join("x")).unwrap();
        file.lock().unwrap();
        let id = FileId::of_file(&file).unwrap();
        assert!(lock_takers(id).contains(&std::process::id()));
        assert_eq!(holds_open(std::process::id(), id), Some(true));
        assert!(is_live(std::process::id()));
    }
}
