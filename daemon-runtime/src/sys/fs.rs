//! Opening files while privileged, without trusting what other users control.
//!
//! The launcher and the daemon run as root until they drop privileges (DESIGN section 9),
//! and the files they open often sit in directories other users can write: `/run/app`
//! and `/var/log/app` owned by the service user, a group-writable log directory, `/tmp`.
//! A plain `open(path)` there follows whatever symlink such a user planted, writes
//! through a hard link to `/etc/shadow`, or blocks for ever on a FIFO. Every file the
//! runtime opens while privileged goes through this module instead, under one rule.
//!
//! **The walk.** A path (absolute: callers make it so) is walked one component at a time
//! from `/`: `fstatat(AT_SYMLINK_NOFOLLOW)`, then `openat(O_NOFOLLOW | O_DIRECTORY)`
//! (with `O_PATH` on Linux, so a directory that may be searched but not read still
//! works), then `fstat` on the new descriptor, whose device and inode must be the ones
//! just seen: a component swapped in between is refused. `.` is skipped; `..` returns to
//! the directory the walk came from (the physical parent, never above `/`, and never a
//! lexical shortcut past a symlink). At most [`MAX_SYMLINKS`] symlinks are followed.
//!
//! **Symlinks** on the way (and at the name of a file read or a directory opened) are
//! followed only if root owns them and the directory holding them is owned by root and writable by nobody else (no
//! group or other write bit; a POSIX ACL that grants writing shows in the group bits). This
//! is systemd's `chase()` with `CHASE_SAFE`, and stricter than the kernel's
//! `protected_symlinks` (which covers only sticky world-writable directories, and can be
//! turned off): root's own links keep working (Debian's `/var/run -> /run`, NixOS's
//! `/etc` links into `/nix/store`), nobody else's are followed. A process that is not
//! root also follows its own symlinks in directories only it or root can write, which
//! can only lead where it could go by hand. Directories themselves may belong to anyone:
//! what protects us is the symlink rule plus the checks on the final file.
//!
//! **Files written** (PID file, lock file, log files) must be regular files with exactly
//! one link (`nlink > 1` is another name for the same inode, possibly `/etc/shadow`:
//! possible where `protected_hardlinks` is off, and on the BSDs and macOS), owned by a
//! [`Trusted`] uid, and are never reached through a symlink at their own name (not even
//! root's): their directory and name are what SIGHUP reopens and the exit unlinks, and
//! DESIGN section 3 opens them `O_NOFOLLOW`. The name is checked with `fstatat` before
//! it is opened, so a FIFO or
//! a device is not even opened; it is opened with `O_NOFOLLOW | O_NONBLOCK | O_NOCTTY`,
//! so a FIFO swapped in meanwhile cannot block us; the descriptor is checked again with
//! `fstat` before anything is written. A new file is made with `O_CREAT | O_EXCL |
//! O_NOFOLLOW`, then given its owner and exact mode on the descriptor (`fchown`,
//! `fchmod`: the umask may have stripped bits), never by path. start-stop-daemon has the
//! like for PID files (as root it will not trust one owned by another user, or one every
//! user can write); here every file written gets the owner check. A trusted owner's
//! world-writable file is still written: the mode only matters for files read.
//!
//! **Files read** (the config file) take the same walk, and must be regular files no
//! larger than a limit; under the strict [`ReadPolicy`] (the default) they must also be
//! owned by a trusted uid and not world-writable, since whoever can write the config
//! file chooses `user = "root"`.
//!
//! A refusal is a [`Refused`] naming the path and the [`Reason`], always before anything
//! is written. [`reopen_at`] is the async-signal-safe part, for the SIGHUP handler.
#![allow(dead_code)]

use std::error::Error as StdError;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, FcntlArg, OFlag, fcntl, open, openat, readlinkat};
use nix::sys::stat::{FileStat, Mode, fchmod, fstat, fstatat};
use nix::unistd::{Gid, Uid, UnlinkatFlags, fchown, geteuid, unlinkat};

/// How many symlinks one walk follows before it gives up, as Linux's `MAXSYMLINKS`.
pub(crate) const MAX_SYMLINKS: u32 = 40;

/// The default size limit for files read (the config file): 1 MiB.
pub(crate) const DEFAULT_READ_LIMIT: u64 = 1 << 20;

/// How many times a file that disappears between `O_EXCL` failing and the reopen is
/// tried again; only a hostile or very busy directory needs more than one.
const OPEN_RETRIES: u32 = 8;

/// Opens a directory of the walk: with `O_PATH` where there is one, which needs only
/// search permission on it; elsewhere a read-only open.
#[cfg(any(target_os = "linux", target_os = "android"))]
const DIR_FLAGS: OFlag = OFlag::O_PATH
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// What a directory entry is, from its `st_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A regular file.
    Regular,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// A FIFO (named pipe).
    Fifo,
    /// A Unix domain socket.
    Socket,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// Anything else (a whiteout, a door, ...).
    Unknown,
}

impl Kind {
    fn of(st: &FileStat) -> Kind {
        match st.st_mode & libc::S_IFMT {
            libc::S_IFREG => Kind::Regular,
            libc::S_IFDIR => Kind::Directory,
            libc::S_IFLNK => Kind::Symlink,
            libc::S_IFIFO => Kind::Fifo,
            libc::S_IFSOCK => Kind::Socket,
            libc::S_IFCHR => Kind::CharDevice,
            libc::S_IFBLK => Kind::BlockDevice,
            _ => Kind::Unknown,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Regular => "a regular file",
            Kind::Directory => "a directory",
            Kind::Symlink => "a symlink",
            Kind::Fifo => "a FIFO (named pipe)",
            Kind::Socket => "a socket",
            Kind::CharDevice => "a character device",
            Kind::BlockDevice => "a block device",
            Kind::Unknown => "a file of unknown type",
        })
    }
}

/// The uids whose files may be written, and read as configuration: root, this process's
/// effective uid, and the service user.
///
/// A fixed-size array, so that the SIGHUP handler can check a reopened log file
/// without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Trusted {
    uids: [u32; 3],
}

impl Trusted {
    /// Root, the effective uid of this process, and `service` (the user the daemon
    /// switches to) if there is one.
    pub(crate) fn new(service: Option<Uid>) -> Trusted {
        let me = geteuid().as_raw();
        Trusted {
            uids: [0, me, service.map_or(me, Uid::as_raw)],
        }
    }

    /// Whether files owned by `uid` are trusted.
    pub(crate) fn contains(&self, uid: u32) -> bool {
        self.uids.contains(&uid)
    }
}

impl fmt::Display for Trusted {
    /// "root", "root or uid 1000", "root, uid 1000 or uid 65534".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut unique = [0u32; 3];
        let mut n = 0;
        for uid in self.uids {
            if !unique[..n].contains(&uid) {
                unique[n] = uid;
                n += 1;
            }
        }
        for (i, uid) in unique[..n].iter().enumerate() {
            match i {
                0 => {}
                _ if i + 1 == n => f.write_str(" or ")?,
                _ => f.write_str(", ")?,
            }
            match uid {
                0 => f.write_str("root")?,
                uid => write!(f, "uid {uid}")?,
            }
        }
        Ok(())
    }
}

/// How a file is opened once it passed its checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// `O_RDONLY`: a PID file looked at by `--status`.
    Read,
    /// `O_RDWR`: a PID or lock file (read back, truncated, written at offset 0).
    ReadWrite,
    /// `O_WRONLY | O_APPEND`: a log file.
    Append,
}

impl Access {
    fn flags(self) -> OFlag {
        match self {
            Access::Read => OFlag::O_RDONLY,
            Access::ReadWrite => OFlag::O_RDWR,
            Access::Append => OFlag::O_WRONLY | OFlag::O_APPEND,
        }
    }
}

/// How [`Parent::create_or_open`] and [`reopen_at`] open a file for writing.
///
/// `Copy` and free of heap data, so that a copy can sit in a static for the signal handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Create {
    /// How the file is opened.
    pub(crate) access: Access,
    /// The exact mode a new file gets, whatever the umask.
    pub(crate) mode: Mode,
    /// Who a new file is handed to (the service user, so that it can reopen its logs);
    /// `None` leaves it to this process. An existing file keeps its owner.
    pub(crate) owner: Option<(Uid, Gid)>,
    /// Who an existing file may belong to.
    pub(crate) trusted: Trusted,
}

/// What [`read`] accepts besides a regular file within the size limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ownership {
    /// The file must be owned by one of these uids and not be world-writable.
    Checked(Trusted),
    /// Any owner and mode: for a program that knowingly reads a file others may write.
    Unchecked,
}

/// What [`read`] accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReadPolicy {
    /// The largest accepted size, in bytes.
    pub(crate) limit: u64,
    /// Whose files are read.
    pub(crate) ownership: Ownership,
}

impl Default for ReadPolicy {
    /// The strict policy: [`DEFAULT_READ_LIMIT`], files of root or this process's user
    /// that not everyone can write.
    fn default() -> Self {
        ReadPolicy {
            limit: DEFAULT_READ_LIMIT,
            ownership: Ownership::Checked(Trusted::new(None)),
        }
    }
}

/// The operation that failed, for [`Reason::Io`] and [`Fault::Sys`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// `fstatat`, `fstat`.
    Inspect,
    /// `openat` of an existing entry.
    Open,
    /// `openat` with `O_CREAT | O_EXCL`.
    Create,
    /// `fchown` of a new file.
    Chown,
    /// `fchmod` of a new file.
    Chmod,
    /// `read`.
    Read,
    /// `readlinkat`.
    ReadLink,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Inspect => "inspecting",
            Op::Open => "opening",
            Op::Create => "creating",
            Op::Chown => "setting the owner of",
            Op::Chmod => "setting the mode of",
            Op::Read => "reading",
            Op::ReadLink => "reading the symlink",
        })
    }
}

/// Why a name in an already opened directory was not opened: what [`reopen_at`] can
/// report from a signal handler, with no path and nothing on the heap.
/// [`Parent::refused`] turns it into a [`Refused`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The name is a symlink, owned by `owner`. Names in a walked directory are never
    /// followed when opened: the walk has already resolved root's own links.
    Symlink {
        /// The symlink's owner.
        owner: u32,
    },
    /// Not a regular file (or, for `/dev/null`, not a character device).
    NotRegular(Kind),
    /// A character device other than the null device.
    NotNullDevice {
        /// Its major number.
        major: u64,
        /// Its minor number.
        minor: u64,
    },
    /// More than one link, or none.
    HardLinked {
        /// `st_nlink`.
        links: u64,
    },
    /// Owned by a uid outside the trusted set.
    ForeignOwner {
        /// The owner.
        uid: u32,
        /// Who was trusted.
        trusted: Trusted,
    },
    /// Writable by every user (files read under [`Ownership::Checked`]).
    WorldWritable {
        /// The permission bits.
        mode: u32,
    },
    /// The name came to refer to something else while it was being opened.
    Replaced,
    /// A system call failed.
    Sys {
        /// Which.
        op: Op,
        /// How.
        errno: Errno,
    },
}

/// Why a path was not opened. See [`Refused`]'s `Display` for the texts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Reason {
    /// The path is relative; the walk starts at `/`.
    NotAbsolute,
    /// A symlink owned by a user other than root (or, when not root, this process's user).
    UntrustedSymlink {
        /// The symlink, as walked.
        link: PathBuf,
        /// Its owner.
        owner: u32,
        /// The effective uid of the walk, whose own links are also followed.
        euid: u32,
    },
    /// A trusted user's symlink, in a directory that someone else can write (and so
    /// could have replaced it).
    SymlinkInWritableDir {
        /// The symlink, as walked.
        link: PathBuf,
        /// The directory holding it.
        dir: PathBuf,
        /// The directory's owner.
        dir_owner: u32,
        /// The directory's permission bits.
        dir_mode: u32,
        /// The effective uid of the walk.
        euid: u32,
    },
    /// A symlink that may be followed on the way sits at the name of the file itself,
    /// where none is followed.
    NamedBySymlink {
        /// The symlink, as walked.
        link: PathBuf,
    },
    /// More than `limit` symlinks on the way.
    TooManySymlinks {
        /// [`MAX_SYMLINKS`].
        limit: u32,
    },
    /// A component on the way is not a directory.
    NotADirectory {
        /// The component, as walked.
        component: PathBuf,
        /// What it is.
        kind: Kind,
    },
    /// A component, or the file itself, does not exist.
    Missing {
        /// The first missing component, as walked.
        component: PathBuf,
    },
    /// A component changed between the look and the open.
    Replaced {
        /// The component, as walked.
        component: PathBuf,
    },
    /// The file is not a regular file.
    NotRegular {
        /// What it is.
        kind: Kind,
    },
    /// `/dev/null` is not the null device.
    NotNullDevice {
        /// What it is.
        kind: Kind,
        /// Its major and minor numbers, if it is a character device.
        device: Option<(u64, u64)>,
    },
    /// A file to write has more than one link (or none).
    HardLinked {
        /// `st_nlink`.
        links: u64,
    },
    /// The file's owner is not trusted.
    ForeignOwner {
        /// The owner.
        uid: u32,
        /// Who is trusted.
        trusted: Trusted,
    },
    /// A file read as configuration is writable by every user.
    WorldWritable {
        /// Its permission bits.
        mode: u32,
    },
    /// A file to read is larger than the limit.
    TooLarge {
        /// Its size, or as much of it as was read.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A system call failed at a component.
    Io {
        /// The component, as walked.
        component: PathBuf,
        /// What was being done.
        op: Op,
        /// The error.
        source: Errno,
    },
}

impl Reason {
    /// Whether this is a policy refusal rather than a file that cannot be opened.
    fn is_refusal(&self) -> bool {
        !matches!(
            self,
            Reason::Missing { .. } | Reason::NotADirectory { .. } | Reason::Io { .. }
        )
    }
}

/// A path that was not opened, and why: one type for every refusal and failure of this
/// module, so that callers report them all the same way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refused {
    /// The path as the caller gave it.
    pub(crate) path: PathBuf,
    /// Why.
    pub(crate) reason: Reason,
}

impl Refused {
    fn new(path: &Path, reason: Reason) -> Refused {
        Refused {
            path: path.to_owned(),
            reason,
        }
    }

    /// The error number that fits, for callers that map `ENOENT` to "missing input"
    /// (exit 66) or "cannot create" (exit 73): `ENOENT` for [`Reason::Missing`],
    /// `ENOTDIR`, `ELOOP`, the system call's for [`Reason::Io`]; `None` for policy
    /// refusals.
    pub(crate) fn errno(&self) -> Option<Errno> {
        match &self.reason {
            Reason::Missing { .. } => Some(Errno::ENOENT),
            Reason::NotADirectory { .. } => Some(Errno::ENOTDIR),
            Reason::TooManySymlinks { .. } => Some(Errno::ELOOP),
            Reason::Io { source, .. } => Some(*source),
            _ => None,
        }
    }

    /// Whether the path (or a directory on it) does not exist.
    pub(crate) fn is_missing(&self) -> bool {
        matches!(self.reason, Reason::Missing { .. })
    }
}

/// "it" when `component` is the path the caller gave, else the component itself.
struct Subject<'a>(&'a Path, &'a Path);

impl fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == self.1 {
            f.write_str("it")
        } else {
            write!(f, "{}", self.0.display())
        }
    }
}

/// The symlink rule, as the end of a refusal, for a walk with this effective uid.
struct Rule(u32);

impl Rule {
    /// Whose symlinks are followed.
    fn who(&self) -> String {
        match self.0 {
            0 => "root".to_owned(),
            euid => format!("root and uid {euid}"),
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => {
                f.write_str("only root's symlinks in directories only root can write are followed")
            }
            euid => write!(
                f,
                "only symlinks of root or uid {euid} in directories only they can write \
                 are followed"
            ),
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.verb(), self.path.display(), self.why())
    }
}

impl Refused {
    /// `refusing` for a policy refusal, `cannot open` for a file that is not there or
    /// cannot be reached.
    pub(crate) fn verb(&self) -> &'static str {
        if self.reason.is_refusal() {
            "refusing"
        } else {
            "cannot open"
        }
    }

    /// Whether this is a policy refusal rather than a file that cannot be opened.
    pub(crate) fn is_refusal(&self) -> bool {
        self.reason.is_refusal()
    }

    /// What is wrong, without the path: `it is a FIFO (named pipe), not a regular file`.
    pub(crate) fn why(&self) -> impl fmt::Display + '_ {
        Why(self)
    }
}

/// The part of a [`Refused`] message after the path.
struct Why<'a>(&'a Refused);

impl fmt::Display for Why<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.reason.describe_file(f) {
            Some(done) => done,
            None => self.0.describe_walk(f),
        }
    }
}

impl Refused {
    /// The reasons met on the way to the file, which name the component at fault.
    fn describe_walk(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let it = |component| Subject(component, &self.path);
        match &self.reason {
            Reason::NotAbsolute => f.write_str("the path is not absolute"),
            Reason::UntrustedSymlink { link, owner, euid } => {
                let (link, rule) = (it(link), Rule(*euid));
                write!(f, "{link} is a symlink owned by uid {owner}; {rule}")
            }
            Reason::SymlinkInWritableDir {
                link,
                dir,
                dir_owner,
                dir_mode,
                euid,
            } => {
                let (link, dir, rule) = (it(link), dir.display(), Rule(*euid));
                write!(
                    f,
                    "{link} is a symlink in {dir} (owner uid {dir_owner}, mode {dir_mode:04o}), \
                     which users other than {} can write; {rule}",
                    Rule(*euid).who()
                )
            }
            Reason::NamedBySymlink { link } => write!(
                f,
                "{} is a symlink, and a file opened while privileged is not reached through a \
                 symlink at its own name; name the file it points to",
                it(link)
            ),
            Reason::TooManySymlinks { limit } => {
                write!(f, "more than {limit} symlinks on the way (a symlink loop?)")
            }
            Reason::NotADirectory { component, kind } => {
                write!(f, "{} is {kind}, not a directory", it(component))
            }
            Reason::Missing { component } => write!(f, "{} does not exist", it(component)),
            Reason::Replaced { component } => {
                let component = it(component);
                write!(f, "{component} was replaced while it was being opened")
            }
            Reason::Io {
                component,
                op,
                source,
            } => write!(f, "{op} {} failed: {source}", it(component)),
            // Described by `describe_file`.
            Reason::NotRegular { .. }
            | Reason::NotNullDevice { .. }
            | Reason::HardLinked { .. }
            | Reason::ForeignOwner { .. }
            | Reason::WorldWritable { .. }
            | Reason::TooLarge { .. } => Ok(()),
        }
    }
}

impl Reason {
    /// The reasons about the file itself, or `None` for those met on the way to it.
    fn describe_file(&self, f: &mut fmt::Formatter<'_>) -> Option<fmt::Result> {
        Some(match self {
            Reason::NotRegular { kind } => write!(f, "it is {kind}, not a regular file"),
            Reason::NotNullDevice {
                device: Some((major, minor)),
                ..
            } => write!(
                f,
                "it is character device {major}:{minor}, not the null device (1:3)"
            ),
            Reason::NotNullDevice { kind, device: None } => {
                write!(f, "it is {kind}, not the null device")
            }
            Reason::HardLinked { links } => write!(
                f,
                "it has {links} links; a file written while privileged must have exactly one, \
                 or the write lands in a file elsewhere too"
            ),
            Reason::ForeignOwner { uid, trusted } => write!(
                f,
                "it is owned by uid {uid}; only files owned by {trusted} are trusted"
            ),
            Reason::WorldWritable { mode } => write!(
                f,
                "every user can write it (mode {mode:04o}), and so choose its settings"
            ),
            Reason::TooLarge { size, limit } => {
                write!(f, "it is {size} bytes, more than the limit of {limit}")
            }
            _ => return None,
        })
    }
}

impl StdError for Refused {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.reason {
            Reason::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<Refused> for io::Error {
    /// Keeps the kind callers test for: `NotFound` for a missing component, the system
    /// call's kind for I/O errors, `PermissionDenied` for a policy refusal.
    fn from(refused: Refused) -> io::Error {
        let kind = match refused.errno() {
            Some(errno) => io::Error::from(errno).kind(),
            None => io::ErrorKind::PermissionDenied,
        };
        io::Error::new(kind, refused)
    }
}

/// The permission bits of `st`, as `u32` everywhere (`mode_t` is `u16` on macOS).
#[allow(clippy::useless_conversion)]
fn mode_bits(st: &FileStat) -> u32 {
    u32::from(st.st_mode) & 0o7777
}

/// `st_nlink` as `u64` everywhere (its width differs between platforms).
#[allow(clippy::useless_conversion)]
fn links(st: &FileStat) -> u64 {
    u64::from(st.st_nlink)
}

fn same_inode(a: &FileStat, b: &FileStat) -> bool {
    a.st_dev == b.st_dev && a.st_ino == b.st_ino
}

/// Whether a symlink owned by `owner`, in the directory `dir`, may be followed by a
/// process with effective uid `euid`; if not, the reason.
fn symlink_verdict(link: PathBuf, owner: u32, dir: &Dir, euid: u32) -> Result<(), Reason> {
    let trusted = |uid: u32| uid == 0 || uid == euid;
    if !trusted(owner) {
        return Err(Reason::UntrustedSymlink { link, owner, euid });
    }
    let dir_mode = mode_bits(&dir.stat);
    // Group or other write; an ACL granting write to anyone shows in the group bits.
    if !trusted(dir.stat.st_uid) || dir_mode & 0o022 != 0 {
        return Err(Reason::SymlinkInWritableDir {
            link,
            dir: dir.path.clone(),
            dir_owner: dir.stat.st_uid,
            dir_mode,
            euid,
        });
    }
    Ok(())
}

/// A directory reached by a walk: its descriptor, what `fstat` said of it, and its path
/// as walked (for messages).
#[derive(Debug)]
struct Dir {
    fd: OwnedFd,
    stat: FileStat,
    path: PathBuf,
}

/// What one step of a walk found.
enum Step {
    /// A directory, now the current one.
    Entered,
    /// A symlink that may be followed, and its target.
    Link(OsString),
    /// The last component, left for the caller to open (it need not exist yet).
    Last,
}

/// What a walk does with the last component of the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Last {
    /// Enters it as a directory, like the others.
    Enter,
    /// Leaves it unopened for the caller, after following it if it is a symlink that
    /// may be followed: a file read, `/dev/null`.
    Follow,
    /// Leaves it unopened for the caller, whatever it is. A file written is opened by
    /// its own name with `O_NOFOLLOW` (DESIGN section 3): its directory and name are what
    /// SIGHUP reopens and the exit unlinks.
    Keep,
}

/// A walk in progress, from `/` down one component at a time.
struct Walk<'a> {
    /// The path the caller gave, for errors.
    path: &'a Path,
    /// The directory reached so far.
    top: Dir,
    /// The directories above it, `/` first: where `..` goes back to.
    above: Vec<Dir>,
    /// The components still to walk, the next one last.
    pending: Vec<Vec<u8>>,
    /// Symlinks followed so far.
    hops: u32,
    euid: u32,
}

/// The non-empty components of a path or symlink target; `.` and `..` included.
fn components(bytes: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    bytes.split(|&b| b == b'/').filter(|c| !c.is_empty())
}

impl<'a> Walk<'a> {
    fn start(path: &'a Path) -> Result<Walk<'a>, Refused> {
        let bytes = path.as_os_str().as_bytes();
        if bytes.first() != Some(&b'/') {
            return Err(Refused::new(path, Reason::NotAbsolute));
        }
        let root = Path::new("/");
        let io = |op, source| {
            let component = root.to_owned();
            Refused::new(
                path,
                Reason::Io {
                    component,
                    op,
                    source,
                },
            )
        };
        let fd = open(root, DIR_FLAGS, Mode::empty()).map_err(|e| io(Op::Open, e))?;
        let stat = fstat(&fd).map_err(|e| io(Op::Inspect, e))?;
        let path_walked = root.to_owned();
        Ok(Walk::beneath(
            path,
            Dir {
                fd,
                stat,
                path: path_walked,
            },
            bytes,
        ))
    }

    /// A walk of `rel` that treats `root` as `/`: `..` stops there and absolute symlink
    /// targets start over from it. `path` is what errors name.
    fn beneath(path: &'a Path, root: Dir, rel: &[u8]) -> Walk<'a> {
        Walk {
            path,
            top: root,
            above: Vec::new(),
            pending: components(rel).rev().map(<[u8]>::to_vec).collect(),
            hops: 0,
            euid: geteuid().as_raw(),
        }
    }

    fn refuse(&self, reason: Reason) -> Refused {
        Refused::new(self.path, reason)
    }

    fn io(&self, component: &Path, op: Op, source: Errno) -> Refused {
        let component = component.to_owned();
        self.refuse(Reason::Io {
            component,
            op,
            source,
        })
    }

    /// Walks the pending components, the last one as `last` says. `None` unless `last`
    /// is [`Last::Enter`] means the path ends in `.` or `..`: it names a directory.
    fn run(&mut self, last: Last) -> Result<Option<CString>, Refused> {
        while let Some(name) = self.pending.pop() {
            match name.as_slice() {
                b"." => continue,
                b".." => {
                    // Back where the walk came from; `/..` is `/`, as in the kernel.
                    if let Some(up) = self.above.pop() {
                        self.top = up;
                    }
                    continue;
                }
                _ => {}
            }
            let at = self.top.path.join(OsStr::from_bytes(&name));
            let Ok(name) = CString::new(name) else {
                return Err(self.io(&at, Op::Inspect, Errno::EINVAL));
            };
            let is_last = self.pending.is_empty() && last != Last::Enter;
            if is_last && last == Last::Keep {
                return Ok(Some(name));
            }
            match self.step(&name, &at, is_last)? {
                Step::Entered => {}
                Step::Link(target) => self.follow(&at, &target)?,
                Step::Last => return Ok(Some(name)),
            }
        }
        Ok(None)
    }

    fn step(&mut self, name: &CStr, at: &Path, last: bool) -> Result<Step, Refused> {
        let seen = match fstatat(&self.top.fd, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(seen) => seen,
            Err(Errno::ENOENT) if last => return Ok(Step::Last),
            Err(Errno::ENOENT) => {
                let component = at.to_owned();
                return Err(self.refuse(Reason::Missing { component }));
            }
            Err(source) => return Err(self.io(at, Op::Inspect, source)),
        };
        match Kind::of(&seen) {
            Kind::Symlink => {
                symlink_verdict(at.to_owned(), seen.st_uid, &self.top, self.euid)
                    .map_err(|reason| self.refuse(reason))?;
                // Only root (or we) can replace the link in such a directory, so the
                // target read now is the one that was judged.
                let target = readlinkat(&self.top.fd, name)
                    .map_err(|source| self.io(at, Op::ReadLink, source))?;
                Ok(Step::Link(target))
            }
            _ if last => Ok(Step::Last),
            Kind::Directory => self.enter(name, at, &seen).map(|()| Step::Entered),
            kind => {
                let component = at.to_owned();
                Err(self.refuse(Reason::NotADirectory { component, kind }))
            }
        }
    }

    /// Opens the directory `name` that `fstatat` just saw, and makes it the current one
    /// if it still is the same inode.
    fn enter(&mut self, name: &CStr, at: &Path, seen: &FileStat) -> Result<(), Refused> {
        let replaced = |walk: &Self| {
            let component = at.to_owned();
            walk.refuse(Reason::Replaced { component })
        };
        let fd = match openat(&self.top.fd, name, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => fd,
            // A directory an instant ago: gone, or a symlink or file now.
            Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP | Errno::EMLINK) => {
                return Err(replaced(self));
            }
            Err(source) => return Err(self.io(at, Op::Open, source)),
        };
        let stat = fstat(&fd).map_err(|source| self.io(at, Op::Inspect, source))?;
        if !same_inode(&stat, seen) {
            return Err(replaced(self));
        }
        let path = at.to_owned();
        let up = std::mem::replace(&mut self.top, Dir { fd, stat, path });
        self.above.push(up);
        Ok(())
    }

    /// Continues the walk with the target of the symlink `link`, relative to the
    /// directory holding it, or from `/` if it is absolute.
    fn follow(&mut self, link: &Path, target: &OsStr) -> Result<(), Refused> {
        self.hops += 1;
        if self.hops > MAX_SYMLINKS {
            let limit = MAX_SYMLINKS;
            return Err(self.refuse(Reason::TooManySymlinks { limit }));
        }
        let bytes = target.as_bytes();
        if bytes.is_empty() {
            // An empty target resolves to nothing, as in the kernel.
            return Err(self.io(link, Op::ReadLink, Errno::ENOENT));
        }
        if bytes.first() == Some(&b'/') {
            let mut above = std::mem::take(&mut self.above).into_iter();
            if let Some(root) = above.next() {
                self.top = root;
            }
        }
        self.pending
            .extend(components(bytes).rev().map(<[u8]>::to_vec));
        Ok(())
    }
}

/// A file's directory, reached by the walk and held open, and the file's name in it.
///
/// Everything about the file is then done relative to the descriptor: opening, creating,
/// reopening on SIGHUP, and removing the PID file, which still works after `chroot`
/// when the path no longer resolves.
#[derive(Debug)]
pub(crate) struct Parent {
    dir: Dir,
    name: CString,
    /// The path as the caller gave it, for messages.
    path: PathBuf,
    euid: u32,
}

/// A file opened for writing by [`Parent::create_or_open`].
#[derive(Debug)]
pub(crate) struct Opened {
    /// The file, checked: a regular file with one link and a trusted owner.
    pub(crate) file: File,
    /// Whether this call created it (with the requested owner and mode).
    pub(crate) created: bool,
}

impl Parent {
    /// Walks to the directory that holds `path` (which must be absolute) under the rules
    /// in the module documentation, for a file to write. The file itself need not exist,
    /// and is not looked at: a symlink at its name is refused when it is opened.
    pub(crate) fn walk(path: &Path) -> Result<Parent, Refused> {
        Parent::walk_to(path, Last::Keep)
    }

    /// Like [`walk`](Self::walk), for a file to read: a symlink at the file's name is
    /// followed if it may be (NixOS's `/etc/app.toml`), so that the directory and name
    /// are those of the real file.
    pub(crate) fn walk_following(path: &Path) -> Result<Parent, Refused> {
        Parent::walk_to(path, Last::Follow)
    }

    fn walk_to(path: &Path, last: Last) -> Result<Parent, Refused> {
        let mut walk = Walk::start(path)?;
        match walk.run(last)? {
            Some(name) => Ok(Parent {
                dir: walk.top,
                name,
                path: path.to_owned(),
                euid: walk.euid,
            }),
            None => Err(walk.refuse(Reason::NotRegular {
                kind: Kind::Directory,
            })),
        }
    }

    /// The directory, held open (`O_PATH` on Linux: good for `*at` calls and `fstat`).
    pub(crate) fn dir(&self) -> BorrowedFd<'_> {
        self.dir.fd.as_fd()
    }

    /// The file's name in [`dir`](Self::dir).
    pub(crate) fn name(&self) -> &CStr {
        &self.name
    }

    /// The path the caller gave.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The file's path as walked: where the caller's path led after root's symlinks.
    pub(crate) fn resolved(&self) -> PathBuf {
        self.dir.path.join(OsStr::from_bytes(self.name.to_bytes()))
    }

    /// The directory descriptor and the name, to keep for [`reopen_at`] or an `unlinkat`
    /// in a signal handler.
    pub(crate) fn into_parts(self) -> (OwnedFd, CString) {
        (self.dir.fd, self.name)
    }

    /// Opens the file for writing, creating it if it does not exist.
    ///
    /// A new file is made with `O_CREAT | O_EXCL | O_NOFOLLOW`, then handed to
    /// `how.owner` and given exactly `how.mode` on its descriptor; if that fails it is
    /// removed again. An existing file must be a regular file with one link owned by
    /// `how.trusted`, and keeps its owner and mode. Nothing is truncated.
    pub(crate) fn create_or_open(&self, how: &Create) -> Result<Opened, Refused> {
        let (fd, created) =
            create_or_open_at(self.dir(), &self.name, how).map_err(|f| self.refused(f))?;
        Ok(Opened {
            file: File::from(fd),
            created,
        })
    }

    /// Opens the existing file, with the checks of [`create_or_open`](Self::create_or_open)
    /// (a regular file, one link, a trusted owner). A missing file is
    /// [`Reason::Missing`].
    pub(crate) fn open_existing(&self, access: Access, trusted: &Trusted) -> Result<File, Refused> {
        let check = |st: &FileStat| writable(st, trusted);
        open_existing_at(self.dir(), &self.name, access, check)
            .map(|(fd, _)| File::from(fd))
            .map_err(|f| self.refused(f))
    }

    /// The same directory, with `name` in it instead: a file beside this one (the PID
    /// file's lock). The directory descriptor is duplicated, close-on-exec.
    pub(crate) fn sibling(&self, name: CString) -> Result<Parent, Refused> {
        let fd = self.dir.fd.try_clone().map_err(|e| {
            self.refused(Fault::Sys {
                op: Op::Open,
                errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EMFILE)),
            })
        })?;
        let path = self.path.with_file_name(OsStr::from_bytes(name.to_bytes()));
        Ok(Parent {
            dir: Dir {
                fd,
                stat: self.dir.stat,
                path: self.dir.path.clone(),
            },
            name,
            path,
            euid: self.euid,
        })
    }

    /// Opens the existing file to read what it says (the PID file, for `--status`):
    /// a regular file reached without a symlink at its name, opened non-blocking so
    /// that a FIFO planted there cannot hang the caller. Any owner: only reading.
    pub(crate) fn open_to_read(&self) -> Result<(File, FileStat), Refused> {
        let check = |st: &FileStat| readable(st, &Ownership::Unchecked);
        open_existing_at(self.dir(), &self.name, Access::Read, check)
            .map(|(fd, st)| (File::from(fd), st))
            .map_err(|f| self.refused(f))
    }

    /// The file's status, without following a symlink at its name; `None` if it is
    /// not there.
    pub(crate) fn stat(&self) -> Result<Option<FileStat>, Refused> {
        match fstatat(
            self.dir(),
            self.name.as_c_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        ) {
            Ok(st) => Ok(Some(st)),
            Err(Errno::ENOENT) => Ok(None),
            Err(errno) => Err(self.refused(Fault::Sys {
                op: Op::Inspect,
                errno,
            })),
        }
    }

    /// Removes the file if its name still refers to the inode `file` holds: a PID file
    /// replaced by someone else's is left alone. `Ok(false)` when it does not (or is
    /// gone). Async-signal-safe, like [`reopen_at`].
    ///
    /// Whoever can write the directory can still swap the name between the check and
    /// the `unlinkat`; they can then only make us remove a name they could remove.
    pub(crate) fn unlink_if_same(&self, file: impl AsFd) -> Result<bool, Errno> {
        unlink_if_same_at(self.dir(), &self.name, file.as_fd())
    }

    /// Opens `/dev/null` (or what the tests put in its place) read-write: it must be a
    /// character device, on Linux exactly 1:3.
    fn open_null(&self) -> Result<File, Refused> {
        open_existing_at(self.dir(), &self.name, Access::ReadWrite, null_device)
            .map(|(fd, _)| File::from(fd))
            .map_err(|fault| match fault {
                Fault::NotRegular(kind) => {
                    self.refuse(Reason::NotNullDevice { kind, device: None })
                }
                fault => self.refused(fault),
            })
    }

    fn refuse(&self, reason: Reason) -> Refused {
        Refused::new(&self.path, reason)
    }

    /// The [`Refused`] for a [`Fault`] met opening this file.
    pub(crate) fn refused(&self, fault: Fault) -> Refused {
        let here = self.resolved();
        let reason = match fault {
            Fault::Symlink { owner } => {
                match symlink_verdict(here.clone(), owner, &self.dir, self.euid) {
                    Err(reason) => reason,
                    Ok(()) => Reason::NamedBySymlink { link: here },
                }
            }
            Fault::NotRegular(kind) => Reason::NotRegular { kind },
            Fault::NotNullDevice { major, minor } => Reason::NotNullDevice {
                kind: Kind::CharDevice,
                device: Some((major, minor)),
            },
            Fault::HardLinked { links } => Reason::HardLinked { links },
            Fault::ForeignOwner { uid, trusted } => Reason::ForeignOwner { uid, trusted },
            Fault::WorldWritable { mode } => Reason::WorldWritable { mode },
            Fault::Replaced => Reason::Replaced { component: here },
            Fault::Sys {
                op: Op::Inspect | Op::Open,
                errno: Errno::ENOENT,
            } => Reason::Missing { component: here },
            Fault::Sys { op, errno } => Reason::Io {
                component: here,
                op,
                source: errno,
            },
        };
        self.refuse(reason)
    }
}

/// Walks to the directory `path` (absolute) under the rules in the module documentation,
/// and returns it open (`O_PATH` on Linux), so that callers learn it exists and is a
/// directory without a second lookup by path.
///
/// A directory opened before `chroot` lies outside the new root: do not `fchdir` into
/// it, or keep it, past the `chroot`.
pub(crate) fn open_dir(path: &Path) -> Result<OwnedFd, Refused> {
    let mut walk = Walk::start(path)?;
    walk.run(Last::Enter)?;
    Ok(walk.top.fd)
}

/// Walks to the directory `path` as a process will see it after `chroot(root)`: `root`
/// (absolute) is walked as by [`open_dir`], then `path` beneath it with `root` as `/`,
/// so that `..` stops at `root` and root's absolute symlinks inside the jail lead where
/// they will lead in it, not into the host's tree. Errors name `root` joined with `path`.
///
/// For checking the `dir` setting before the fork; the same caveat as [`open_dir`]
/// holds for the descriptor.
pub(crate) fn open_dir_in(root: &Path, path: &Path) -> Result<OwnedFd, Refused> {
    let mut jail = Walk::start(root)?;
    jail.run(Last::Enter)?;
    let shown = root.join(path.strip_prefix("/").unwrap_or(path));
    let mut walk = Walk::beneath(&shown, jail.top, path.as_os_str().as_bytes());
    walk.run(Last::Enter)?;
    Ok(walk.top.fd)
}

/// Reads the whole file at `path` (absolute), a regular file reached by the walk, of at
/// most `policy.limit` bytes, from an owner `policy` accepts.
pub(crate) fn read(path: &Path, policy: &ReadPolicy) -> Result<Vec<u8>, Refused> {
    let parent = Parent::walk_following(path)?;
    let check = |st: &FileStat| readable(st, &policy.ownership);
    let (fd, st) = open_existing_at(parent.dir(), &parent.name, Access::Read, check)
        .map_err(|f| parent.refused(f))?;
    let limit = policy.limit;
    let too_large = |size| parent.refuse(Reason::TooLarge { size, limit });
    let size = u64::try_from(st.st_size).unwrap_or(0);
    if size > limit {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // One byte past the limit tells a file that grew since the fstat.
    let read = File::from(fd)
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes);
    if let Err(e) = read {
        let source = Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO));
        let component = parent.resolved();
        return Err(parent.refuse(Reason::Io {
            component,
            op: Op::Read,
            source,
        }));
    }
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if read > limit {
        return Err(too_large(read));
    }
    Ok(bytes)
}

/// Opens `/dev/null` read-write for the daemon's stdio, checking that it is the null
/// device (a character device; on Linux exactly 1:3) and not a file someone put there.
pub(crate) fn open_dev_null() -> Result<File, Refused> {
    Parent::walk_following(Path::new("/dev/null"))?.open_null()
}

/// Reopens the log file `name` in the directory `dir` after it was rotated, creating it
/// as [`Parent::create_or_open`] does, with the same checks on an existing file.
///
/// For the SIGHUP handler: async-signal-safe and allocation-free. It only calls
/// `openat`, `fstatat`, `fstat`, `fchown`, `fchmod`, `fcntl`, `unlinkat` and `close`,
/// and reports a [`Fault`] (no path, nothing on the heap). The caller `dup2`s the new
/// descriptor onto 1 or 2 and drops it.
pub(crate) fn reopen_at(dir: BorrowedFd<'_>, name: &CStr, how: &Create) -> Result<OwnedFd, Fault> {
    create_or_open_at(dir, name, how).map(|(fd, _)| fd)
}

/// [`Parent::create_or_open`] without paths or allocation (see [`reopen_at`]).
fn create_or_open_at(
    dir: BorrowedFd<'_>,
    name: &CStr,
    how: &Create,
) -> Result<(OwnedFd, bool), Fault> {
    let flags = how.access.flags()
        | OFlag::O_CREAT
        | OFlag::O_EXCL
        | OFlag::O_NOFOLLOW
        | OFlag::O_CLOEXEC
        | OFlag::O_NOCTTY;
    let check = |st: &FileStat| writable(st, &how.trusted);
    for _ in 0..OPEN_RETRIES {
        // O_EXCL fails on any existing name, a dangling symlink included.
        match openat(dir, name, flags, how.mode) {
            Ok(fd) => return settle(dir, name, fd, how).map(|fd| (fd, true)),
            Err(Errno::EEXIST) => {}
            Err(errno) => {
                return Err(Fault::Sys {
                    op: Op::Create,
                    errno,
                });
            }
        }
        match open_existing_at(dir, name, how.access, check) {
            // Removed since O_EXCL saw it: create it after all.
            Err(Fault::Sys {
                errno: Errno::ENOENT,
                ..
            }) => {}
            other => return other.map(|(fd, _)| (fd, false)),
        }
    }
    Err(Fault::Replaced)
}

/// Gives a file this process just created its owner and exact mode. A file that cannot
/// get them is removed again, so that a refused start leaves nothing behind.
fn settle(dir: BorrowedFd<'_>, name: &CStr, fd: OwnedFd, how: &Create) -> Result<OwnedFd, Fault> {
    match give(&fd, how) {
        Ok(()) => Ok(fd),
        Err(fault) => {
            let _ = unlink_if_same_at(dir, name, fd.as_fd());
            Err(fault)
        }
    }
}

fn give(fd: &OwnedFd, how: &Create) -> Result<(), Fault> {
    if let Some((uid, gid)) = how.owner {
        fchown(fd, Some(uid), Some(gid)).map_err(|errno| Fault::Sys {
            op: Op::Chown,
            errno,
        })?;
    }
    // After fchown, which may clear set-id bits; and whatever the umask took away.
    fchmod(fd, how.mode).map_err(|errno| Fault::Sys {
        op: Op::Chmod,
        errno,
    })
}

/// Opens the existing entry `name` in `dir` if `check` accepts what `fstatat` sees
/// before the open and what `fstat` sees after it (the same inode). A symlink is never
/// opened: the walk has already followed those it may.
fn open_existing_at<F>(
    dir: BorrowedFd<'_>,
    name: &CStr,
    access: Access,
    check: F,
) -> Result<(OwnedFd, FileStat), Fault>
where
    F: Fn(&FileStat) -> Result<(), Fault>,
{
    let inspect = |errno| Fault::Sys {
        op: Op::Inspect,
        errno,
    };
    let seen = fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW).map_err(inspect)?;
    if Kind::of(&seen) == Kind::Symlink {
        return Err(Fault::Symlink { owner: seen.st_uid });
    }
    check(&seen)?;
    // O_NONBLOCK: a FIFO swapped in after the check cannot block the open.
    let flags =
        access.flags() | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC | OFlag::O_NOCTTY;
    let fd = match openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(errno @ Errno::ENOENT) => {
            return Err(Fault::Sys {
                op: Op::Open,
                errno,
            });
        }
        // It passed the check an instant ago; now a symlink (ELOOP, EMLINK on FreeBSD),
        // a FIFO or socket without a reader (ENXIO) or a directory (EISDIR).
        Err(Errno::ELOOP | Errno::EMLINK | Errno::ENXIO | Errno::EISDIR) => {
            return Err(now(dir, name, &check));
        }
        Err(errno) => {
            return Err(Fault::Sys {
                op: Op::Open,
                errno,
            });
        }
    };
    let held = fstat(&fd).map_err(inspect)?;
    if !same_inode(&held, &seen) {
        return Err(Fault::Replaced);
    }
    check(&held)?;
    blocking(&fd)?;
    Ok((fd, held))
}

/// What `name` turned into after it passed `check`, for a precise refusal.
fn now<F>(dir: BorrowedFd<'_>, name: &CStr, check: &F) -> Fault
where
    F: Fn(&FileStat) -> Result<(), Fault>,
{
    match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) if Kind::of(&st) == Kind::Symlink => Fault::Symlink { owner: st.st_uid },
        Ok(st) => check(&st).err().unwrap_or(Fault::Replaced),
        Err(_) => Fault::Replaced,
    }
}

/// Clears the `O_NONBLOCK` the file was opened with: it is shared with every copy of
/// the descriptor (the daemon's stdout), and no longer needed once the file is known
/// to be regular.
fn blocking(fd: &OwnedFd) -> Result<(), Fault> {
    let fail = |errno| Fault::Sys {
        op: Op::Open,
        errno,
    };
    let flags = OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL).map_err(fail)?);
    fcntl(fd, FcntlArg::F_SETFL(flags & !OFlag::O_NONBLOCK)).map_err(fail)?;
    Ok(())
}

fn unlink_if_same_at(
    dir: BorrowedFd<'_>,
    name: &CStr,
    file: BorrowedFd<'_>,
) -> Result<bool, Errno> {
    let held = fstat(file)?;
    match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(named) if same_inode(&named, &held) => {}
        Ok(_) | Err(Errno::ENOENT) => return Ok(false),
        Err(e) => return Err(e),
    }
    unlinkat(dir, name, UnlinkatFlags::NoRemoveDir)?;
    Ok(true)
}

fn regular(st: &FileStat) -> Result<(), Fault> {
    match Kind::of(st) {
        Kind::Regular => Ok(()),
        kind => Err(Fault::NotRegular(kind)),
    }
}

/// What a file written while privileged must be.
fn writable(st: &FileStat, trusted: &Trusted) -> Result<(), Fault> {
    regular(st)?;
    match links(st) {
        1 => {}
        // Unlinked since the look: the name now means something else, or nothing.
        0 => return Err(Fault::Replaced),
        links => return Err(Fault::HardLinked { links }),
    }
    if !trusted.contains(st.st_uid) {
        let (uid, trusted) = (st.st_uid, *trusted);
        return Err(Fault::ForeignOwner { uid, trusted });
    }
    Ok(())
}

/// What a file read as configuration must be. Links are not counted: a hard link only
/// lets us read what its owner could, and NixOS's store deduplicates with hard links.
fn readable(st: &FileStat, ownership: &Ownership) -> Result<(), Fault> {
    regular(st)?;
    if let Ownership::Checked(trusted) = ownership {
        if !trusted.contains(st.st_uid) {
            let (uid, trusted) = (st.st_uid, *trusted);
            return Err(Fault::ForeignOwner { uid, trusted });
        }
        let mode = mode_bits(st);
        if mode & 0o002 != 0 {
            return Err(Fault::WorldWritable { mode });
        }
    }
    Ok(())
}

/// What `/dev/null` must be.
fn null_device(st: &FileStat) -> Result<(), Fault> {
    match Kind::of(st) {
        Kind::CharDevice => {}
        kind => return Err(Fault::NotRegular(kind)),
    }
    // Device numbers differ between systems; Linux fixes the null device at 1:3.
    #[cfg(target_os = "linux")]
    {
        use nix::sys::stat::{major, minor};
        let (major, minor) = (major(st.st_rdev), minor(st.st_rdev));
        if (major, minor) != (1, 3) {
            return Err(Fault::NotNullDevice { major, minor });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::io::Write;
    use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt, lchown, symlink};
    use std::sync::mpsc;
    use std::time::Duration;

    use nix::unistd::{User, mkfifo};

    use super::*;

    fn skipped(test: &str, why: &str) {
        // Past the harness's capture, so the skip shows.
        let _ = writeln!(io::stderr(), "skipped: {test}: {why}");
    }

    /// A fresh temporary directory (root's, mode 0700) holding `private/secret`, a file
    /// only root may read or write, and `pub/`, a directory owned by `nobody` (the
    /// service user's `/run/app`), who plays the attacker.
    struct Scene {
        tmp: tempfile::TempDir,
        nobody: (Uid, Gid),
    }

    const SECRET: &str = "root's secret\n";

    impl Scene {
        /// `None`, after saying so, when not root or without `nobody`.
        fn new(test: &str) -> Option<Scene> {
            if !geteuid().is_root() {
                skipped(test, "it needs root (it plays another user against root)");
                return None;
            }
            let Ok(Some(nobody)) = User::from_name("nobody") else {
                skipped(test, "there is no user `nobody` to play the attacker");
                return None;
            };
            let scene = Scene {
                tmp: tempfile::tempdir().unwrap(),
                nobody: (nobody.uid, nobody.gid),
            };
            fs::create_dir(scene.at("private")).unwrap();
            fs::set_permissions(scene.at("private"), fs::Permissions::from_mode(0o700)).unwrap();
            fs::write(scene.at("private/secret"), SECRET).unwrap();
            fs::set_permissions(
                scene.at("private/secret"),
                fs::Permissions::from_mode(0o600),
            )
            .unwrap();
            fs::create_dir(scene.at("pub")).unwrap();
            scene.give_away(&scene.at("pub"));
            Some(scene)
        }

        fn at(&self, rel: &str) -> PathBuf {
            self.tmp.path().join(rel)
        }

        fn uid(&self) -> u32 {
            self.nobody.0.as_raw()
        }

        /// Hands `path` (not what it points to) to `nobody`.
        fn give_away(&self, path: &Path) {
            let (uid, gid) = (self.nobody.0.as_raw(), self.nobody.1.as_raw());
            lchown(path, Some(uid), Some(gid)).unwrap();
        }

        /// A symlink `link -> target` that `nobody` owns.
        fn plant(&self, target: &Path, link: &Path) {
            symlink(target, link).unwrap();
            self.give_away(link);
        }

        fn secret_untouched(&self) {
            let path = self.at("private/secret");
            assert_eq!(fs::read_to_string(&path).unwrap(), SECRET);
            let meta = fs::metadata(&path).unwrap();
            assert_eq!(
                (meta.uid(), meta.mode() & 0o7777, meta.nlink()),
                (0, 0o600, 1)
            );
        }
    }

    fn append(trusted: Trusted) -> Create {
        Create {
            access: Access::Append,
            mode: Mode::from_bits_truncate(0o640),
            owner: None,
            trusted,
        }
    }

    fn create(path: &Path) -> Result<Opened, Refused> {
        Parent::walk(path)?.create_or_open(&append(Trusted::new(None)))
    }

    /// Runs `f` on another thread and fails the test if it does not return within a
    /// few seconds (an open that blocks on a FIFO never would).
    fn promptly<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || tx.send(f()));
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the open blocked")
    }

    #[test]
    fn dangling_symlink_of_another_user_is_refused_and_nothing_created() {
        let Some(s) = Scene::new("dangling_symlink_of_another_user_is_refused_and_nothing_created")
        else {
            return;
        };
        let path = s.at("pub/x.pid");
        s.plant(&s.at("private/created"), &path);
        let err = create(&path).unwrap_err();
        assert_eq!(
            err.reason,
            Reason::UntrustedSymlink {
                link: path.clone(),
                owner: s.uid(),
                euid: 0
            }
        );
        assert_eq!(
            err.to_string(),
            format!(
                "refusing {}: it is a symlink owned by uid {}; only root's symlinks in \
                 directories only root can write are followed",
                path.display(),
                s.uid()
            )
        );
        assert!(!s.at("private/created").exists());
    }

    #[test]
    fn symlink_of_another_user_to_a_root_file_is_refused() {
        let Some(s) = Scene::new("symlink_of_another_user_to_a_root_file_is_refused") else {
            return;
        };
        let path = s.at("pub/x.log");
        s.plant(&s.at("private/secret"), &path);
        for trusted in [Trusted::new(None), Trusted::new(Some(s.nobody.0))] {
            let err = Parent::walk(&path)
                .and_then(|p| p.create_or_open(&append(trusted)))
                .unwrap_err();
            assert!(
                matches!(&err.reason, Reason::UntrustedSymlink { owner, .. } if *owner == s.uid()),
                "{err}"
            );
        }
        s.secret_untouched();
    }

    #[test]
    fn root_symlink_in_a_directory_others_can_write_is_refused() {
        let Some(s) = Scene::new("root_symlink_in_a_directory_others_can_write_is_refused") else {
            return;
        };
        // `nobody` could swap this link for another; it is root's only for now.
        let path = s.at("pub/x.log");
        symlink(s.at("private/secret"), &path).unwrap();
        let err = create(&path).unwrap_err();
        assert_eq!(
            err.reason,
            Reason::SymlinkInWritableDir {
                link: path.clone(),
                dir: s.at("pub"),
                dir_owner: s.uid(),
                dir_mode: 0o755,
                euid: 0,
            }
        );
        // A sticky world-writable directory, like /tmp, is no better.
        fs::create_dir(s.at("sticky")).unwrap();
        fs::set_permissions(s.at("sticky"), fs::Permissions::from_mode(0o1777)).unwrap();
        symlink(s.at("private"), s.at("sticky/logs")).unwrap();
        let err = create(&s.at("sticky/logs/x.log")).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "refusing {0}/sticky/logs/x.log: {0}/sticky/logs is a symlink in {0}/sticky \
                 (owner uid 0, mode 1777), which users other than root can write; only root's \
                 symlinks in directories only root can write are followed",
                s.tmp.path().display()
            )
        );
        s.secret_untouched();
        assert!(!s.at("private/x.log").exists());
    }

    #[test]
    fn symlinked_parent_directory_of_another_user_is_refused() {
        let Some(s) = Scene::new("symlinked_parent_directory_of_another_user_is_refused") else {
            return;
        };
        let logs = s.at("pub/logs");
        s.plant(&s.at("private"), &logs);
        let path = logs.join("x.log");
        let err = create(&path).unwrap_err();
        assert_eq!(
            err.reason,
            Reason::UntrustedSymlink {
                link: logs.clone(),
                owner: s.uid(),
                euid: 0
            }
        );
        assert!(
            err.to_string().starts_with(&format!(
                "refusing {}: {} is a symlink owned by uid",
                path.display(),
                logs.display()
            )),
            "{err}"
        );
        assert!(!s.at("private/x.log").exists());
        // Nor is it a way to a directory to open.
        assert!(matches!(
            open_dir(&logs).unwrap_err().reason,
            Reason::UntrustedSymlink { .. }
        ));
    }

    #[test]
    fn hard_link_to_a_root_file_is_refused() {
        let Some(s) = Scene::new("hard_link_to_a_root_file_is_refused") else {
            return;
        };
        let path = s.at("pub/x.pid");
        fs::hard_link(s.at("private/secret"), &path).unwrap();
        for access in [Access::Append, Access::ReadWrite] {
            let how = Create {
                access,
                ..append(Trusted::new(None))
            };
            let err = Parent::walk(&path)
                .and_then(|p| p.create_or_open(&how))
                .unwrap_err();
            assert_eq!(err.reason, Reason::HardLinked { links: 2 });
            assert!(err.to_string().contains("it has 2 links"), "{err}");
        }
        assert_eq!(fs::read_to_string(&path).unwrap(), SECRET);
        assert_eq!(fs::metadata(s.at("private/secret")).unwrap().nlink(), 2);
    }

    #[test]
    fn file_of_another_user_is_refused_unless_trusted() {
        let Some(s) = Scene::new("file_of_another_user_is_refused_unless_trusted") else {
            return;
        };
        let path = s.at("pub/x.pid");
        fs::write(&path, "4242\n").unwrap();
        s.give_away(&path);
        let parent = Parent::walk(&path).unwrap();
        let err = parent
            .create_or_open(&append(Trusted::new(None)))
            .unwrap_err();
        let trusted = Trusted::new(None);
        assert_eq!(
            err.reason,
            Reason::ForeignOwner {
                uid: s.uid(),
                trusted
            }
        );
        assert_eq!(
            err.to_string(),
            format!(
                "refusing {}: it is owned by uid {}; only files owned by root are trusted",
                path.display(),
                s.uid()
            )
        );
        let err = parent.open_existing(Access::Read, &trusted).unwrap_err();
        assert!(matches!(err.reason, Reason::ForeignOwner { .. }), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "4242\n");
        // The service user's own file is fine, and keeps its owner.
        let service = Trusted::new(Some(s.nobody.0));
        let opened = parent.create_or_open(&append(service)).unwrap();
        assert!(!opened.created);
        assert_eq!(fs::metadata(&path).unwrap().uid(), s.uid());
    }

    #[test]
    fn fifo_is_refused_at_once() {
        let Some(s) = Scene::new("fifo_is_refused_at_once") else {
            return;
        };
        let path = s.at("pub/x.pid");
        mkfifo(&path, Mode::from_bits_truncate(0o666)).unwrap();
        s.give_away(&path);
        let (p, q) = (path.clone(), path.clone());
        let err = promptly(move || create(&p).unwrap_err());
        assert_eq!(err.reason, Reason::NotRegular { kind: Kind::Fifo });
        assert_eq!(
            err.to_string(),
            format!(
                "refusing {}: it is a FIFO (named pipe), not a regular file",
                path.display()
            )
        );
        let policy = ReadPolicy {
            ownership: Ownership::Unchecked,
            ..ReadPolicy::default()
        };
        let err = promptly(move || read(&q, &policy).unwrap_err());
        assert_eq!(err.reason, Reason::NotRegular { kind: Kind::Fifo });
        assert!(fs::symlink_metadata(&path).unwrap().file_type().is_fifo());
    }

    #[test]
    fn fifo_swapped_in_after_the_look_neither_blocks_nor_passes() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.log");
        mkfifo(&path, Mode::from_bits_truncate(0o600)).unwrap();
        for access in [Access::Read, Access::ReadWrite, Access::Append] {
            let path = path.clone();
            let fault = promptly(move || {
                let parent = Parent::walk(&path).unwrap();
                // The look before the open saw a regular file: the FIFO came after it.
                let looked = std::cell::Cell::new(false);
                let check = |st: &FileStat| match looked.replace(true) {
                    false => Ok(()),
                    true => writable(st, &Trusted::new(None)),
                };
                open_existing_at(parent.dir(), parent.name(), access, check).unwrap_err()
            });
            assert_eq!(fault, Fault::NotRegular(Kind::Fifo), "{access:?}");
        }
    }

    #[test]
    fn directory_at_the_path_is_refused() {
        let Some(s) = Scene::new("directory_at_the_path_is_refused") else {
            return;
        };
        let path = s.at("pub/x.log");
        fs::create_dir(&path).unwrap();
        let err = create(&path).unwrap_err();
        assert_eq!(
            err.reason,
            Reason::NotRegular {
                kind: Kind::Directory
            }
        );
        // A path that ends in `..` names a directory too.
        let err = create(&path.join("..")).unwrap_err();
        assert_eq!(
            err.reason,
            Reason::NotRegular {
                kind: Kind::Directory
            }
        );
        assert_eq!(fs::read_dir(&path).unwrap().count(), 0);
        // And a file on the way is no directory.
        fs::write(s.at("pub/file"), "").unwrap();
        let err = create(&s.at("pub/file/x.log")).unwrap_err();
        let component = s.at("pub/file");
        let kind = Kind::Regular;
        assert_eq!(err.reason, Reason::NotADirectory { component, kind });
        assert_eq!(err.errno(), Some(Errno::ENOTDIR));
    }

    #[test]
    fn dot_dot_goes_back_the_way_walked_and_never_above_root() {
        let Some(s) = Scene::new("dot_dot_goes_back_the_way_walked_and_never_above_root") else {
            return;
        };
        let tmp = s.tmp.path().strip_prefix("/").unwrap();
        // `/..` is `/`.
        let path = Path::new("/../..").join(tmp).join("./private/../made.log");
        assert!(create(&path).unwrap().created);
        assert!(s.at("made.log").is_file());
        // `..` after another user's symlink is not a lexical shortcut past it.
        s.plant(Path::new("/etc"), &s.at("pub/evil"));
        let err = create(&s.at("pub/evil/../x.log")).unwrap_err();
        assert!(
            matches!(err.reason, Reason::UntrustedSymlink { .. }),
            "{err}"
        );
        assert!(!s.at("pub/x.log").exists());
        // After root's link, `..` is the parent of where it led.
        fs::create_dir_all(s.at("private/deep/inner")).unwrap();
        symlink("deep/inner", s.at("private/link")).unwrap();
        let parent = Parent::walk(&s.at("private/link/../y.log")).unwrap();
        assert_eq!(parent.resolved(), s.at("private/deep/y.log"));
        assert!(
            parent
                .create_or_open(&append(Trusted::new(None)))
                .unwrap()
                .created
        );
        assert!(s.at("private/deep/y.log").is_file());
    }

    #[test]
    fn symlinks_are_followed_at_most_forty_times() {
        let Some(s) = Scene::new("symlinks_are_followed_at_most_forty_times") else {
            return;
        };
        // Root's links in root's directory: a chain l0 -> l1 -> ... -> l40 -> real.
        fs::create_dir(s.at("real")).unwrap();
        for i in 0..=MAX_SYMLINKS {
            let next = if i == MAX_SYMLINKS {
                "real".to_owned()
            } else {
                format!("l{}", i + 1)
            };
            symlink(next, s.at(&format!("l{i}"))).unwrap();
        }
        assert!(create(&s.at("l1/forty.log")).unwrap().created);
        assert!(s.at("real/forty.log").is_file());
        let err = create(&s.at("l0/forty-one.log")).unwrap_err();
        assert_eq!(err.reason, Reason::TooManySymlinks { limit: 40 });
        assert_eq!(err.errno(), Some(Errno::ELOOP));
        assert!(!s.at("real/forty-one.log").exists());
        // A loop ends the same way.
        symlink("b", s.at("a")).unwrap();
        symlink("a", s.at("b")).unwrap();
        let err = create(&s.at("a/x.log")).unwrap_err();
        assert_eq!(err.reason, Reason::TooManySymlinks { limit: 40 });
    }

    #[test]
    fn created_file_gets_its_owner_and_mode_whatever_the_umask() {
        if Scene::new("created_file_gets_its_owner_and_mode_whatever_the_umask").is_none() {
            return;
        }
        // The umask is per process: change it in a process of our own, not under the
        // other tests running in this one.
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "sys::fs::tests::create_under_umask_077"])
            .args(["--include-ignored", "--test-threads=1", "--nocapture"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    #[ignore = "changes the umask: run alone by created_file_gets_its_owner_and_mode_whatever_the_umask"]
    fn create_under_umask_077() {
        let Some(s) = Scene::new("create_under_umask_077") else {
            return;
        };
        nix::sys::stat::umask(Mode::from_bits_truncate(0o077));
        let path = s.at("pub/x.log");
        let how = Create {
            owner: Some(s.nobody),
            ..append(Trusted::new(Some(s.nobody.0)))
        };
        let opened = Parent::walk(&path).unwrap().create_or_open(&how).unwrap();
        assert!(opened.created);
        let meta = fs::symlink_metadata(&path).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid(), meta.mode() & 0o7777),
            (s.uid(), s.nobody.1.as_raw(), 0o640)
        );
        let held = fstat(&opened.file).unwrap();
        assert_eq!((held.st_ino, held.st_nlink), (meta.ino(), 1));
        // Opened blocking, and for appending.
        let flags = OFlag::from_bits_truncate(fcntl(&opened.file, FcntlArg::F_GETFL).unwrap());
        assert!(flags.contains(OFlag::O_APPEND) && !flags.contains(OFlag::O_NONBLOCK));
    }

    #[test]
    fn debian_var_run_link_still_works() {
        let Some(_s) = Scene::new("debian_var_run_link_still_works") else {
            return;
        };
        let link = fs::symlink_metadata("/var/run");
        if !link.is_ok_and(|m| m.file_type().is_symlink() && m.uid() == 0) {
            skipped(
                "debian_var_run_link_still_works",
                "/var/run is not root's symlink here",
            );
            return;
        }
        let run = tempfile::Builder::new()
            .prefix("securefs-test")
            .tempdir_in("/run")
            .unwrap();
        let name = run.path().file_name().unwrap();
        let path = Path::new("/var/run").join(name).join("x.pid");
        let parent = Parent::walk(&path).unwrap();
        assert_eq!(parent.resolved(), run.path().join("x.pid"));
        let how = Create {
            access: Access::ReadWrite,
            ..append(Trusted::new(None))
        };
        assert!(parent.create_or_open(&how).unwrap().created);
        assert!(run.path().join("x.pid").is_file());
        assert_eq!(parent.path(), path);
    }

    #[test]
    fn root_symlinks_in_root_directories_still_work() {
        let Some(s) = Scene::new("root_symlinks_in_root_directories_still_work") else {
            return;
        };
        // A log directory that root moved elsewhere and linked.
        symlink(s.at("private"), s.at("logs")).unwrap();
        let opened = create(&s.at("logs/x.log")).unwrap();
        assert!(opened.created);
        assert!(s.at("private/x.log").is_file());
        assert!(open_dir(&s.at("logs")).is_ok());
        // Followed to read, as /etc/app.toml on NixOS; the directory and name kept
        // are the real ones.
        fs::write(s.at("private/real.toml"), "").unwrap();
        symlink(s.at("private/real.toml"), s.at("app.toml")).unwrap();
        let parent = Parent::walk_following(&s.at("app.toml")).unwrap();
        assert_eq!(parent.resolved(), s.at("private/real.toml"));
    }

    #[test]
    fn file_written_is_never_reached_through_a_symlink_at_its_name() {
        let Some(s) = Scene::new("file_written_is_never_reached_through_a_symlink_at_its_name")
        else {
            return;
        };
        // Even root's, in root's directory, dangling or not: what SIGHUP reopens and the
        // exit unlinks is the name itself.
        symlink(s.at("private/x.pid"), s.at("x.pid")).unwrap();
        symlink(s.at("private/secret"), s.at("x.log")).unwrap();
        for name in ["x.pid", "x.log"] {
            let path = s.at(name);
            let err = create(&path).unwrap_err();
            let link = path.clone();
            assert_eq!(err.reason, Reason::NamedBySymlink { link });
            assert_eq!(
                err.to_string(),
                format!(
                    "refusing {}: it is a symlink, and a file opened while privileged is not \
                     reached through a symlink at its own name; name the file it points to",
                    path.display()
                )
            );
            let parent = Parent::walk(&path).unwrap();
            let err = parent
                .open_existing(Access::Read, &Trusted::new(None))
                .unwrap_err();
            assert!(matches!(err.reason, Reason::NamedBySymlink { .. }), "{err}");
            assert!(fs::symlink_metadata(&path).unwrap().is_symlink());
        }
        assert!(!s.at("private/x.pid").exists());
        s.secret_untouched();
    }

    #[test]
    fn directory_in_a_chroot_is_walked_as_the_jail_sees_it() {
        let Some(s) = Scene::new("directory_in_a_chroot_is_walked_as_the_jail_sees_it") else {
            return;
        };
        let jail = s.at("jail");
        fs::create_dir_all(jail.join("data/www")).unwrap();
        fs::create_dir(jail.join("var")).unwrap();
        // Inside the jail, /var/www is /data/www; on the host it would be the host's /data.
        symlink("/data/www", jail.join("var/www")).unwrap();
        let ino = |fd: &OwnedFd| fstat(fd).unwrap().st_ino;
        let www = open_dir_in(&jail, Path::new("/var/www")).unwrap();
        assert_eq!(
            ino(&www),
            fs::metadata(jail.join("data/www")).unwrap().ino()
        );
        // `..` stops at the jail's root.
        let top = open_dir_in(&jail, Path::new("/var/../../..")).unwrap();
        assert_eq!(ino(&top), fs::metadata(&jail).unwrap().ino());
        // The same rule for symlinks inside it.
        s.plant(Path::new("/data"), &jail.join("var/planted"));
        let err = open_dir_in(&jail, Path::new("/var/planted/www")).unwrap_err();
        assert!(
            matches!(err.reason, Reason::UntrustedSymlink { .. }),
            "{err}"
        );
        assert_eq!(err.path, jail.join("var/planted/www"));
        let err = open_dir_in(&jail, Path::new("/nowhere")).unwrap_err();
        let component = jail.join("nowhere");
        assert_eq!(err.reason, Reason::Missing { component });
    }

    #[test]
    fn root_symlinked_config_is_read() {
        let Some(s) = Scene::new("root_symlinked_config_is_read") else {
            return;
        };
        fs::write(s.at("private/app.toml"), "user = \"nobody\"\n").unwrap();
        // As NixOS's /etc/app.toml -> /etc/static/app.toml -> /nix/store/...
        symlink("private", s.at("static")).unwrap();
        symlink("static/app.toml", s.at("app.toml")).unwrap();
        let bytes = read(&s.at("app.toml"), &ReadPolicy::default()).unwrap();
        assert_eq!(bytes, b"user = \"nobody\"\n");
        // Not when `nobody` made the link.
        s.plant(&s.at("private/app.toml"), &s.at("pub/app.toml"));
        let err = read(&s.at("pub/app.toml"), &ReadPolicy::default()).unwrap_err();
        assert!(
            matches!(err.reason, Reason::UntrustedSymlink { .. }),
            "{err}"
        );
    }

    #[test]
    fn config_larger_than_the_limit_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("app.toml");
        let policy = ReadPolicy {
            limit: 1024,
            ..ReadPolicy::default()
        };
        fs::write(&path, vec![b'#'; 1024]).unwrap();
        assert_eq!(read(&path, &policy).unwrap().len(), 1024);
        fs::write(&path, vec![b'#'; 1025]).unwrap();
        let err = read(&path, &policy).unwrap_err();
        assert_eq!(
            err.reason,
            Reason::TooLarge {
                size: 1025,
                limit: 1024
            }
        );
        assert_eq!(
            err.to_string(),
            format!(
                "refusing {}: it is 1025 bytes, more than the limit of 1024",
                path.display()
            )
        );
    }

    #[test]
    fn config_others_can_write_is_refused_under_the_strict_policy() {
        let Some(s) = Scene::new("config_others_can_write_is_refused_under_the_strict_policy")
        else {
            return;
        };
        let path = s.at("app.toml");
        fs::write(&path, "user = \"root\"\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
        let err = read(&path, &ReadPolicy::default()).unwrap_err();
        assert_eq!(err.reason, Reason::WorldWritable { mode: 0o666 });
        assert_eq!(
            err.to_string(),
            format!(
                "refusing {}: every user can write it (mode 0666), and so choose its settings",
                path.display()
            )
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        s.give_away(&path);
        let err = read(&path, &ReadPolicy::default()).unwrap_err();
        assert!(matches!(err.reason, Reason::ForeignOwner { uid, .. } if uid == s.uid()));
        let lenient = ReadPolicy {
            ownership: Ownership::Unchecked,
            ..ReadPolicy::default()
        };
        assert_eq!(read(&path, &lenient).unwrap(), b"user = \"root\"\n");
    }

    #[test]
    fn missing_paths_say_which_component_is_missing() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("etc/app.toml");
        let err = read(&path, &ReadPolicy::default()).unwrap_err();
        assert_eq!(
            err.reason,
            Reason::Missing {
                component: tmp.path().join("etc")
            }
        );
        assert!(err.is_missing() && err.errno() == Some(Errno::ENOENT));
        assert_eq!(io::Error::from(err.clone()).kind(), io::ErrorKind::NotFound);
        assert_eq!(
            err.to_string(),
            format!(
                "cannot open {}: {}/etc does not exist",
                path.display(),
                tmp.path().display()
            )
        );
        fs::create_dir(tmp.path().join("etc")).unwrap();
        let err = read(&path, &ReadPolicy::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("cannot open {}: it does not exist", path.display())
        );
        assert!(open_dir(&tmp.path().join("etc")).is_ok());
        let err = open_dir(Path::new("etc")).unwrap_err();
        assert_eq!(err.reason, Reason::NotAbsolute);
    }

    #[test]
    fn signal_safe_reopen_recreates_a_rotated_file_and_refuses_a_planted_symlink() {
        let Some(s) =
            Scene::new("signal_safe_reopen_recreates_a_rotated_file_and_refuses_a_planted_symlink")
        else {
            return;
        };
        let path = s.at("pub/x.log");
        let how = Create {
            owner: Some(s.nobody),
            ..append(Trusted::new(Some(s.nobody.0)))
        };
        let parent = Parent::walk(&path).unwrap();
        let mut first = parent.create_or_open(&how).unwrap().file;
        first.write_all(b"one\n").unwrap();
        // logrotate: rename, then SIGHUP.
        fs::rename(&path, s.at("pub/x.log.1")).unwrap();
        let (dir, name) = parent.into_parts();
        let fd = reopen_at(dir.as_fd(), &name, &how).unwrap();
        File::from(fd).write_all(b"two\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "two\n");
        assert_eq!(fs::read_to_string(s.at("pub/x.log.1")).unwrap(), "one\n");
        let meta = fs::metadata(&path).unwrap();
        assert_eq!((meta.uid(), meta.mode() & 0o7777), (s.uid(), 0o640));
        // An existing file is appended to.
        let fd = reopen_at(dir.as_fd(), &name, &how).unwrap();
        File::from(fd).write_all(b"three\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "two\nthree\n");
        // The service user plants a link at the name before the next SIGHUP.
        fs::remove_file(&path).unwrap();
        s.plant(&s.at("private/secret"), &path);
        let fault = reopen_at(dir.as_fd(), &name, &how).unwrap_err();
        assert_eq!(fault, Fault::Symlink { owner: s.uid() });
        s.secret_untouched();
    }

    #[test]
    fn dev_null_is_the_null_device() {
        let null = open_dev_null().unwrap();
        let st = fstat(&null).unwrap();
        assert_eq!(Kind::of(&st), Kind::CharDevice);
        #[cfg(target_os = "linux")]
        assert_eq!(
            (
                nix::sys::stat::major(st.st_rdev),
                nix::sys::stat::minor(st.st_rdev)
            ),
            (1, 3)
        );
        let flags = OFlag::from_bits_truncate(fcntl(&null, FcntlArg::F_GETFL).unwrap());
        assert_eq!(flags & OFlag::O_ACCMODE, OFlag::O_RDWR);
        // Something else in its place is refused: a file, or a FIFO, at once.
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("null");
        fs::write(&path, "").unwrap();
        let err = Parent::walk(&path).unwrap().open_null().unwrap_err();
        let kind = Kind::Regular;
        assert_eq!(err.reason, Reason::NotNullDevice { kind, device: None });
        assert_eq!(
            err.to_string(),
            format!(
                "refusing {}: it is a regular file, not the null device",
                path.display()
            )
        );
        fs::remove_file(&path).unwrap();
        mkfifo(&path, Mode::from_bits_truncate(0o600)).unwrap();
        let err = promptly(move || Parent::walk(&path).unwrap().open_null().unwrap_err());
        let kind = Kind::Fifo;
        assert_eq!(err.reason, Reason::NotNullDevice { kind, device: None });
    }

    #[test]
    fn unlink_if_same_leaves_a_replaced_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.pid");
        let parent = Parent::walk(&path).unwrap();
        let how = append(Trusted::new(None));
        let ours = parent.create_or_open(&how).unwrap().file;
        fs::write(tmp.path().join("theirs"), "theirs").unwrap();
        fs::rename(tmp.path().join("theirs"), &path).unwrap();
        assert!(!parent.unlink_if_same(&ours).unwrap());
        assert_eq!(fs::read_to_string(&path).unwrap(), "theirs");
        let theirs = parent.open_existing(Access::Read, &how.trusted).unwrap();
        assert!(parent.unlink_if_same(&theirs).unwrap());
        assert!(!path.exists());
        assert!(!parent.unlink_if_same(&theirs).unwrap());
    }
}
