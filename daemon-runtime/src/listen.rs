//! Socket activation: the listening sockets a service manager opened for the program.
//!
//! systemd (a `.socket` unit), and tools that imitate it (`systemd-socket-activate`,
//! `systemfd`), pass sockets as descriptors 3, 4, ... and describe them in the
//! environment: `LISTEN_PID` (the process they are for), `LISTEN_FDS` (how many) and
//! `LISTEN_FDNAMES` (their names, `:`-separated; `FileDescriptorName=` in the unit, and
//! the socket unit's name by default). The runtime checks them as it starts: that they
//! are meant for this process, that the count is sane, and that every descriptor is an
//! open socket. It makes them close-on-exec and removes the variables from the
//! environment, then keeps the sockets, across the fork of `--daemon`, for the program
//! to take with [`listeners`].
//!
//! Take each socket as the std type it should be: the kind is checked, so a unit file
//! that passes a UDP socket where the program expects a TCP listener is an error that
//! says so, not a program that fails on its first `accept`. The same binary still runs
//! without a manager when it binds the socket itself if none was passed:
//!
//! ```no_run
//! use std::net::TcpListener;
//! use std::os::unix::net::UnixListener;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut passed = daemon_runtime::listeners();
//! let web = match passed.tcp("web")? {
//!     Some(listener) => listener,
//!     None => TcpListener::bind("[::]:8080")?,
//! };
//! let control = match passed.unix("control")? {
//!     Some(listener) => listener,
//!     None => UnixListener::bind("/run/hello/control.sock")?,
//! };
//! # Ok(())
//! # }
//! ```
//!
//! With a unit such as:
//!
//! ```ini
//! # hello.socket
//! [Socket]
//! ListenStream=8080
//! FileDescriptorName=web
//! Service=hello.service
//! ```

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::net::{TcpListener, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::sync::{Mutex, PoisonError};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sys::socket::{AddressFamily, SockType, SockaddrLike, SockaddrStorage, sockopt};

use crate::sys::process::SingleThreaded;

const LISTEN_PID: &str = "LISTEN_PID";
const LISTEN_FDS: &str = "LISTEN_FDS";
const LISTEN_FDNAMES: &str = "LISTEN_FDNAMES";
/// Set by recent systemd next to `LISTEN_PID`; removed with the others.
const LISTEN_PIDFDID: &str = "LISTEN_PIDFDID";

/// The first descriptor passed (`SD_LISTEN_FDS_START`).
const FIRST_FD: RawFd = 3;

/// The most descriptors accepted. systemd passes one per `Listen*=` line of a socket unit;
/// a thousand is far beyond any real unit and keeps a stray `LISTEN_FDS` from making the
/// runtime walk (and claim) millions of descriptors.
const MAX_FDS: u64 = 1024;

/// The name systemd gives a descriptor when `LISTEN_FDNAMES` is not set.
const UNKNOWN_NAME: &str = "unknown";

/// Why socket activation's variables or descriptors cannot be used, or a passed socket
/// cannot be taken as the kind the program asked for.
#[derive(Debug)]
#[non_exhaustive]
pub enum ListenError {
    /// `LISTEN_PID`, `LISTEN_FDS` or `LISTEN_FDNAMES` has an unusable value.
    InvalidVariable {
        /// The variable.
        variable: &'static str,
        /// Its value, as given.
        value: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// A descriptor `LISTEN_FDS` passes is not an open socket.
    InvalidDescriptor {
        /// `LISTEN_FDS` as given.
        listen_fds: String,
        /// The descriptor.
        fd: RawFd,
        /// What is wrong with it, as the end of a sentence ("is not open").
        reason: String,
        /// The error from `fcntl` or `fstat`, where one says more than the reason.
        source: Option<Errno>,
    },
    /// A passed socket is not of the kind the program asked for.
    WrongKind {
        /// Which socket: its name or position, and its descriptor.
        socket: String,
        /// What the program asked for ("a listening TCP socket").
        expected: &'static str,
        /// What it is ("an IPv4 UDP socket").
        found: String,
    },
    /// Finding out what kind of socket a passed descriptor is failed.
    Inspect {
        /// Which socket: its name or position, and its descriptor.
        socket: String,
        /// The error from `getsockopt` or `getsockname`.
        source: Errno,
    },
}

impl fmt::Display for ListenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenError::InvalidVariable {
                variable,
                value,
                reason,
            } => write!(f, "invalid {variable} `{}`: {reason}", value.escape_debug()),
            ListenError::InvalidDescriptor {
                listen_fds,
                fd,
                reason,
                source,
            } => {
                let listen_fds = listen_fds.escape_debug();
                write!(f, "invalid {LISTEN_FDS} `{listen_fds}`: fd {fd} {reason}")?;
                match source {
                    Some(errno) => write!(f, ": {errno}"),
                    None => Ok(()),
                }
            }
            ListenError::WrongKind {
                socket,
                expected,
                found,
            } => write!(
                f,
                "{socket} passed by the service manager is {found}, not {expected}"
            ),
            ListenError::Inspect { socket, source } => write!(
                f,
                "cannot inspect {socket} passed by the service manager: {source}"
            ),
        }
    }
}

impl std::error::Error for ListenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ListenError::InvalidDescriptor { source, .. } => source.as_ref().map(|e| e as _),
            ListenError::Inspect { source, .. } => Some(source),
            ListenError::InvalidVariable { .. } | ListenError::WrongKind { .. } => None,
        }
    }
}

/// The variables as they were.
#[derive(Debug, Default, Clone)]
struct ListenEnv {
    pid: Option<OsString>,
    fds: Option<OsString>,
    names: Option<OsString>,
}

impl ListenEnv {
    /// Reads the variables and removes them from the environment, as
    /// `sd_listen_fds(unset_environment=1)` does, whether they are meant for us or not,
    /// where `single` proves the process has one thread (`std::env::remove_var` is
    /// unsound otherwise).
    fn take(single: Option<&SingleThreaded>) -> ListenEnv {
        let env = ListenEnv {
            pid: std::env::var_os(LISTEN_PID),
            fds: std::env::var_os(LISTEN_FDS),
            names: std::env::var_os(LISTEN_FDNAMES),
        };
        if let Some(single) = single {
            for variable in [LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PIDFDID] {
                single.remove_var(variable);
            }
        }
        env
    }
}

/// The descriptors the variables describe, not checked yet.
#[derive(Debug, PartialEq, Eq)]
struct Passed {
    /// `LISTEN_FDS` as given, for messages.
    listen_fds: String,
    fds: Vec<RawFd>,
    /// One per descriptor.
    names: Vec<String>,
}

fn invalid(variable: &'static str, value: &OsStr, reason: impl Into<String>) -> ListenError {
    ListenError::InvalidVariable {
        variable,
        value: value.to_string_lossy().into_owned(),
        reason: reason.into(),
    }
}

/// What the variables pass to `our_pid`: `Ok(None)` when nothing (no `LISTEN_PID`, or
/// another process's). `open_files` is the soft `RLIMIT_NOFILE`: every descriptor passed
/// must lie below it.
fn parse(env: &ListenEnv, our_pid: u32, open_files: u64) -> Result<Option<Passed>, ListenError> {
    let Some(pid) = &env.pid else {
        return Ok(None);
    };
    match pid.to_str().map(str::parse::<u32>) {
        Some(Ok(pid)) if pid > 0 => {
            if pid != our_pid {
                return Ok(None);
            }
        }
        _ => return Err(invalid(LISTEN_PID, pid, "it is not a process id")),
    }
    let Some(fds) = &env.fds else {
        return Ok(None);
    };
    let count = parse_count(fds, open_files)?;
    let names = parse_names(env.names.as_deref(), count)?;
    // `parse_count` bounded `count`; the conversion and the sum are checked all the same.
    let end = RawFd::try_from(count)
        .ok()
        .and_then(|count| FIRST_FD.checked_add(count))
        .ok_or_else(|| invalid(LISTEN_FDS, fds, "it passes too many descriptors"))?;
    Ok(Some(Passed {
        listen_fds: fds.to_string_lossy().into_owned(),
        fds: (FIRST_FD..end).collect(),
        names,
    }))
}

fn parse_count(value: &OsStr, open_files: u64) -> Result<usize, ListenError> {
    let too_many = || {
        let reason = format!("more than the {MAX_FDS} descriptors the runtime accepts");
        invalid(LISTEN_FDS, value, reason)
    };
    let count = match value.to_str().map(str::parse::<u64>) {
        Some(Ok(count)) => count,
        Some(Err(e)) if *e.kind() == std::num::IntErrorKind::PosOverflow => {
            return Err(too_many());
        }
        _ => {
            let reason = "it is not a whole number of descriptors";
            return Err(invalid(LISTEN_FDS, value, reason));
        }
    };
    if count > MAX_FDS {
        return Err(too_many());
    }
    let first = u64::try_from(FIRST_FD).unwrap_or(u64::MAX);
    let end = first.checked_add(count).ok_or_else(too_many)?;
    if end > open_files {
        let reason = format!(
            "descriptors {first} to {} are beyond the limit of {open_files} open files \
             (RLIMIT_NOFILE)",
            end - 1
        );
        return Err(invalid(LISTEN_FDS, value, reason));
    }
    usize::try_from(count).map_err(|_| too_many())
}

/// One name per descriptor: `LISTEN_FDNAMES` split on `:`, or "unknown" for each when it
/// is unset. A count that differs from `LISTEN_FDS` is an error, as in
/// `sd_listen_fds_with_names`: which name belongs to which socket is then anyone's guess.
fn parse_names(value: Option<&OsStr>, count: usize) -> Result<Vec<String>, ListenError> {
    let Some(value) = value else {
        return Ok(vec![UNKNOWN_NAME.to_owned(); count]);
    };
    let Some(text) = value.to_str() else {
        return Err(invalid(LISTEN_FDNAMES, value, "it is not valid UTF-8"));
    };
    let names: Vec<String> = match text {
        "" => Vec::new(),
        _ => text.split(':').map(str::to_owned).collect(),
    };
    if names.len() != count {
        let reason = format!(
            "it names {} descriptors, but {LISTEN_FDS} passes {count}",
            names.len()
        );
        return Err(invalid(LISTEN_FDNAMES, value, reason));
    }
    Ok(names)
}

/// Checks that every descriptor of `passed` is an open socket, makes it close-on-exec and
/// takes it over. On an error, the descriptors checked so far are closed (the bad one too,
/// if it is open); the rest are left as they were.
///
/// # Safety
///
/// The descriptors in `passed` are distinct, and nothing else in the process owns those
/// that are open: the returned [`Listeners`] closes them.
unsafe fn claim(passed: Passed) -> Result<Listeners, ListenError> {
    let mut sockets = Vec::with_capacity(passed.fds.len());
    for (fd, name) in passed.fds.into_iter().zip(passed.names) {
        let invalid = |reason: &str, source| ListenError::InvalidDescriptor {
            listen_fds: passed.listen_fds.clone(),
            fd,
            reason: reason.to_owned(),
            source,
        };
        // SAFETY: F_GETFD takes no pointer and only reads the descriptor's flags; a number
        // that is not open fails with EBADF.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            return Err(match Errno::last() {
                Errno::EBADF => invalid("is not open", None),
                errno => invalid("cannot be inspected", Some(errno)),
            });
        }
        // SAFETY: `fd` is open (F_GETFD succeeded); the caller guarantees that it appears
        // once in `passed` and that nothing else owns it.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        let stat = nix::sys::stat::fstat(&owned)
            .map_err(|errno| invalid("cannot be inspected", Some(errno)))?;
        let kind = stat.st_mode & libc::S_IFMT;
        if kind != libc::S_IFSOCK {
            return Err(invalid(
                &format!("is not a socket but {}", file_kind(kind)),
                None,
            ));
        }
        fcntl(&owned, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))
            .map_err(|errno| invalid("cannot be made close-on-exec", Some(errno)))?;
        sockets.push(Slot {
            name,
            number: fd,
            fd: Some(owned),
        });
    }
    Ok(Listeners { sockets })
}

fn file_kind(kind: libc::mode_t) -> &'static str {
    match kind {
        libc::S_IFREG => "a regular file",
        libc::S_IFDIR => "a directory",
        libc::S_IFCHR => "a character device",
        libc::S_IFBLK => "a block device",
        libc::S_IFIFO => "a pipe",
        libc::S_IFLNK => "a symbolic link",
        _ => "an unknown kind of file",
    }
}

/// The sockets a service manager passed to the program (socket activation), by name and
/// by position.
///
/// Each socket can be taken once, as the std type for its kind; the kind is checked
/// first. Positions stay as they were passed when sockets are taken, and [`len`](Self::len)
/// and [`names`](Self::names) still count the taken ones. The sockets not taken are closed
/// when the `Listeners` is dropped.
///
/// Get it with [`listeners`]; see the [module docs](self) for an example.
#[derive(Debug, Default)]
pub struct Listeners {
    sockets: Vec<Slot>,
}

#[derive(Debug)]
struct Slot {
    name: String,
    /// The descriptor's number, for messages after it has been taken.
    number: RawFd,
    fd: Option<OwnedFd>,
}

/// A kind of socket a program can ask for.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Tcp,
    Unix,
    Udp,
    Any,
}

impl Kind {
    fn expected(self) -> &'static str {
        match self {
            Kind::Tcp => "a listening TCP socket",
            Kind::Unix => "a listening Unix stream socket",
            Kind::Udp => "a UDP socket",
            Kind::Any => "a socket",
        }
    }

    fn accepts(self, shape: &Shape) -> bool {
        let inet = matches!(
            shape.family,
            Some(AddressFamily::Inet | AddressFamily::Inet6)
        );
        let unix = shape.family == Some(AddressFamily::Unix);
        match self {
            Kind::Tcp => inet && shape.ty == SockType::Stream && shape.listening,
            Kind::Unix => unix && shape.ty == SockType::Stream && shape.listening,
            Kind::Udp => inet && shape.ty == SockType::Datagram,
            Kind::Any => true,
        }
    }
}

/// What a socket is.
#[derive(Debug)]
struct Shape {
    family: Option<AddressFamily>,
    ty: SockType,
    listening: bool,
}

impl Shape {
    fn of(fd: &OwnedFd) -> Result<Shape, Errno> {
        let ty = nix::sys::socket::getsockopt(fd, sockopt::SockType)?;
        let listening = nix::sys::socket::getsockopt(fd, sockopt::AcceptConn)?;
        let family = nix::sys::socket::getsockname::<SockaddrStorage>(fd.as_raw_fd())?.family();
        Ok(Shape {
            family,
            ty,
            listening,
        })
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let family = match self.family {
            Some(AddressFamily::Inet) => "IPv4".to_owned(),
            Some(AddressFamily::Inet6) => "IPv6".to_owned(),
            Some(AddressFamily::Unix) => "Unix".to_owned(),
            Some(other) => format!("{other:?}"),
            None => "unknown-family".to_owned(),
        };
        let inet = matches!(
            self.family,
            Some(AddressFamily::Inet | AddressFamily::Inet6)
        );
        let ty = match self.ty {
            SockType::Stream if inet => "TCP",
            SockType::Datagram if inet => "UDP",
            SockType::Stream => "stream",
            SockType::Datagram => "datagram",
            SockType::SeqPacket => "seqpacket",
            SockType::Raw => "raw",
            _ => "other",
        };
        let connection = matches!(self.ty, SockType::Stream | SockType::SeqPacket);
        let article = if family.starts_with("IPv") { "an" } else { "a" };
        match (connection, self.listening) {
            (true, true) => write!(f, "a listening {family} {ty} socket"),
            (true, false) => write!(f, "{article} {family} {ty} socket that is not listening"),
            (false, _) => write!(f, "{article} {family} {ty} socket"),
        }
    }
}

/// Which socket the program asked for.
#[derive(Debug, Clone, Copy)]
enum Which<'a> {
    Name(&'a str),
    Index(usize),
}

impl Listeners {
    /// How many sockets were passed (taking one does not change it).
    pub fn len(&self) -> usize {
        self.sockets.len()
    }

    /// Whether no socket was passed: the program was not socket-activated.
    pub fn is_empty(&self) -> bool {
        self.sockets.is_empty()
    }

    /// The sockets' names, in the order they were passed (`unknown` for each when the
    /// manager did not name them). Names need not be unique.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.sockets.iter().map(|slot| slot.name.as_str())
    }

    /// Takes the first socket named `name` not taken yet, which must be a listening TCP
    /// socket (IPv4 or IPv6). `Ok(None)` when there is none by that name.
    pub fn tcp(&mut self, name: &str) -> Result<Option<TcpListener>, ListenError> {
        Ok(self
            .take(Which::Name(name), Kind::Tcp)?
            .map(TcpListener::from))
    }

    /// Takes the socket at `index` (0 is descriptor 3) as with [`tcp`](Self::tcp).
    /// `Ok(None)` when there is no such position or that socket was taken.
    pub fn tcp_at(&mut self, index: usize) -> Result<Option<TcpListener>, ListenError> {
        Ok(self
            .take(Which::Index(index), Kind::Tcp)?
            .map(TcpListener::from))
    }

    /// Takes the first socket named `name` not taken yet, which must be a listening Unix
    /// stream socket. `Ok(None)` when there is none by that name.
    pub fn unix(&mut self, name: &str) -> Result<Option<UnixListener>, ListenError> {
        Ok(self
            .take(Which::Name(name), Kind::Unix)?
            .map(UnixListener::from))
    }

    /// Takes the socket at `index` as with [`unix`](Self::unix).
    pub fn unix_at(&mut self, index: usize) -> Result<Option<UnixListener>, ListenError> {
        Ok(self
            .take(Which::Index(index), Kind::Unix)?
            .map(UnixListener::from))
    }

    /// Takes the first socket named `name` not taken yet, which must be a UDP socket (IPv4
    /// or IPv6). `Ok(None)` when there is none by that name.
    pub fn udp(&mut self, name: &str) -> Result<Option<UdpSocket>, ListenError> {
        Ok(self
            .take(Which::Name(name), Kind::Udp)?
            .map(UdpSocket::from))
    }

    /// Takes the socket at `index` as with [`udp`](Self::udp).
    pub fn udp_at(&mut self, index: usize) -> Result<Option<UdpSocket>, ListenError> {
        Ok(self
            .take(Which::Index(index), Kind::Udp)?
            .map(UdpSocket::from))
    }

    /// Takes the first socket named `name` not taken yet, whatever its kind (netlink,
    /// seqpacket, a socket for an async runtime's own type). `Ok(None)` when there is none
    /// by that name.
    pub fn fd(&mut self, name: &str) -> Result<Option<OwnedFd>, ListenError> {
        self.take(Which::Name(name), Kind::Any)
    }

    /// Takes the socket at `index` as with [`fd`](Self::fd).
    pub fn fd_at(&mut self, index: usize) -> Result<Option<OwnedFd>, ListenError> {
        self.take(Which::Index(index), Kind::Any)
    }

    /// The descriptors not taken yet, for the daemon's close-all.
    #[allow(dead_code, reason = "wired into the start-up sequence by the lead")]
    pub(crate) fn raw_fds(&self) -> Vec<RawFd> {
        let held = self.sockets.iter().filter_map(|slot| slot.fd.as_ref());
        held.map(AsRawFd::as_raw_fd).collect()
    }

    /// Takes a socket after checking its kind. A socket of the wrong kind stays, so the
    /// program can still take it another way.
    fn take(&mut self, which: Which<'_>, kind: Kind) -> Result<Option<OwnedFd>, ListenError> {
        let found = match which {
            Which::Name(name) => self
                .sockets
                .iter_mut()
                .find(|slot| slot.name == name && slot.fd.is_some()),
            Which::Index(index) => self.sockets.get_mut(index),
        };
        let Some(slot) = found else {
            return Ok(None);
        };
        let Some(fd) = &slot.fd else {
            return Ok(None);
        };
        let described = || match which {
            Which::Name(name) => format!("socket \"{}\" (fd {})", name.escape_debug(), slot.number),
            Which::Index(index) => format!(
                "socket {index} (fd {}, named \"{}\")",
                slot.number,
                slot.name.escape_debug()
            ),
        };
        let shape = Shape::of(fd).map_err(|source| ListenError::Inspect {
            socket: described(),
            source,
        })?;
        if !kind.accepts(&shape) {
            return Err(ListenError::WrongKind {
                socket: described(),
                expected: kind.expected(),
                found: shape.to_string(),
            });
        }
        Ok(slot.fd.take())
    }
}

/// The sockets passed to this process, from start-up until the program takes them.
static STORE: Mutex<Option<Listeners>> = Mutex::new(None);

/// The sockets a service manager passed to the program (socket activation), checked and
/// close-on-exec. The first call takes them; later calls, and a program that was not
/// socket-activated, get an empty [`Listeners`].
pub fn listeners() -> Listeners {
    let mut store = STORE.lock().unwrap_or_else(PoisonError::into_inner);
    store.take().unwrap_or_default()
}

/// Keeps `listeners` for [`listeners`], replacing (and closing) any kept before.
#[allow(dead_code, reason = "wired into the start-up sequence by the lead")]
pub(crate) fn store(listeners: Listeners) {
    *STORE.lock().unwrap_or_else(PoisonError::into_inner) = Some(listeners);
}

/// The kept descriptors, for the daemon's close-all.
#[allow(dead_code, reason = "wired into the start-up sequence by the lead")]
pub(crate) fn raw_fds() -> Vec<RawFd> {
    let store = STORE.lock().unwrap_or_else(PoisonError::into_inner);
    store.as_ref().map(Listeners::raw_fds).unwrap_or_default()
}

/// Reads `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES`, removes them (and
/// `LISTEN_PIDFDID`) from the environment, and, when they are meant for `our_pid`, checks
/// and takes over the descriptors they pass. An empty [`Listeners`] when they are not.
///
/// The variables are removed where `single` proves the process has one thread.
///
/// # Safety
///
/// Call it once, before anything else in the process could have taken over descriptors
/// 3 and up that the variables name.
pub(crate) unsafe fn take_from_env(
    our_pid: u32,
    single: Option<&SingleThreaded>,
) -> Result<Listeners, ListenError> {
    let env = ListenEnv::take(single);
    match parse(&env, our_pid, open_files_limit())? {
        None => Ok(Listeners::default()),
        // SAFETY: the range FIRST_FD.. has distinct numbers, passed to this process by its
        // manager; the caller guarantees nothing else took them over.
        Some(passed) => unsafe { claim(passed) },
    }
}

/// The soft limit on open files; unlimited when it cannot be read.
#[allow(
    clippy::useless_conversion,
    clippy::unnecessary_fallible_conversions,
    reason = "rlim_t is u64 on Linux and macOS but i64 on FreeBSD"
)]
fn open_files_limit() -> u64 {
    use nix::sys::resource::{Resource, getrlimit};
    getrlimit(Resource::RLIMIT_NOFILE).map_or(u64::MAX, |(soft, _)| {
        u64::try_from(soft).unwrap_or(u64::MAX)
    })
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, TcpStream};
    use std::os::fd::IntoRawFd;
    use std::os::unix::net::{UnixDatagram, UnixStream};

    use nix::sys::socket::{SockFlag, socket};

    use super::*;

    fn env(pid: &str, fds: Option<&str>, names: Option<&str>) -> ListenEnv {
        ListenEnv {
            pid: Some(pid.into()),
            fds: fds.map(Into::into),
            names: names.map(Into::into),
        }
    }

    fn parsed(env: &ListenEnv) -> Result<Option<Passed>, ListenError> {
        parse(env, 100, 1 << 20)
    }

    #[test]
    fn passed_to_this_process() {
        let passed = parsed(&env("100", Some("2"), Some("web:admin"))).unwrap();
        assert_eq!(
            passed,
            Some(Passed {
                listen_fds: "2".into(),
                fds: vec![3, 4],
                names: vec!["web".into(), "admin".into()],
            })
        );
        let unnamed = parsed(&env("100", Some("3"), None)).unwrap().unwrap();
        assert_eq!(unnamed.fds, [3, 4, 5]);
        assert_eq!(unnamed.names, ["unknown"; 3]);
        let none = parsed(&env("100", Some("0"), Some(""))).unwrap().unwrap();
        assert!(none.fds.is_empty() && none.names.is_empty());
        let most = parsed(&env("100", Some("1024"), None)).unwrap().unwrap();
        assert_eq!((most.fds.first(), most.fds.last()), (Some(&3), Some(&1026)));
    }

    #[test]
    fn not_passed_to_this_process() {
        assert_eq!(parsed(&ListenEnv::default()).unwrap(), None);
        assert_eq!(parsed(&env("101", Some("2"), Some("a:b"))).unwrap(), None);
        assert_eq!(parsed(&env("100", None, None)).unwrap(), None);
        // Another process's variables are not checked: they are not ours to judge.
        assert_eq!(parsed(&env("101", Some("lots"), None)).unwrap(), None);
    }

    #[test]
    fn bad_variables_are_refused() {
        let cases = [
            (
                env("me", Some("1"), None),
                "invalid LISTEN_PID `me`: it is not a process id",
            ),
            (
                env("0", Some("1"), None),
                "invalid LISTEN_PID `0`: it is not a process id",
            ),
            (
                env("100", Some("two"), None),
                "invalid LISTEN_FDS `two`: it is not a whole number of descriptors",
            ),
            (
                env("100", Some("-1"), None),
                "invalid LISTEN_FDS `-1`: it is not a whole number of descriptors",
            ),
            (
                env("100", Some("1025"), None),
                "invalid LISTEN_FDS `1025`: more than the 1024 descriptors the runtime accepts",
            ),
            (
                env("100", Some("300000000"), None),
                "invalid LISTEN_FDS `300000000`: more than the 1024 descriptors the runtime \
                 accepts",
            ),
            (
                env("100", Some("99999999999999999999999999"), None),
                "invalid LISTEN_FDS `99999999999999999999999999`: more than the 1024 \
                 descriptors the runtime accepts",
            ),
            (
                env("100", Some("2"), Some("web")),
                "invalid LISTEN_FDNAMES `web`: it names 1 descriptors, but LISTEN_FDS passes 2",
            ),
            (
                env("100", Some("2"), Some("a:b:c")),
                "invalid LISTEN_FDNAMES `a:b:c`: it names 3 descriptors, but LISTEN_FDS passes 2",
            ),
            (
                env("100", Some("1"), Some("")),
                "invalid LISTEN_FDNAMES ``: it names 0 descriptors, but LISTEN_FDS passes 1",
            ),
        ];
        for (env, text) in cases {
            assert_eq!(parsed(&env).unwrap_err().to_string(), text);
        }
    }

    #[test]
    fn descriptors_stay_below_the_open_files_limit() {
        let env = env("100", Some("62"), None);
        assert_eq!(parse(&env, 100, 65).unwrap().unwrap().fds.len(), 62);
        assert_eq!(
            parse(&env, 100, 64).unwrap_err().to_string(),
            "invalid LISTEN_FDS `62`: descriptors 3 to 64 are beyond the limit of 64 open \
             files (RLIMIT_NOFILE)"
        );
        assert!(parse(&env, 100, 0).is_err());
    }

    /// Gives up ownership of `fd` into a [`Passed`] naming it `name`.
    fn passing(sockets: Vec<(&str, OwnedFd)>) -> Passed {
        let (names, fds) = sockets
            .into_iter()
            .map(|(name, fd)| (name.to_owned(), fd.into_raw_fd()))
            .unzip();
        Passed {
            listen_fds: "test".into(),
            fds,
            names,
        }
    }

    fn claimed(sockets: Vec<(&str, OwnedFd)>) -> Listeners {
        // SAFETY: `passing` gives up the ownership of distinct open descriptors.
        unsafe { claim(passing(sockets)) }.unwrap()
    }

    fn tcp_listener() -> TcpListener {
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap()
    }

    fn tcp_not_listening() -> OwnedFd {
        use nix::sys::socket::{AddressFamily, SockType};
        let flags = SockFlag::SOCK_CLOEXEC;
        socket(AddressFamily::Inet, SockType::Stream, flags, None).unwrap()
    }

    fn udp_socket() -> UdpSocket {
        UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap()
    }

    #[test]
    fn sockets_taken_by_name_as_their_std_types() {
        let dir = tempfile::tempdir().unwrap();
        let web = tcp_listener();
        let web_addr = web.local_addr().unwrap();
        let dns = udp_socket();
        let dns_addr = dns.local_addr().unwrap();
        let control = UnixListener::bind(dir.path().join("control")).unwrap();
        let mut passed = claimed(vec![
            ("web", web.into()),
            ("dns", dns.into()),
            ("control", control.into()),
        ]);
        assert_eq!((passed.len(), passed.is_empty()), (3, false));
        assert_eq!(
            passed.names().collect::<Vec<_>>(),
            ["web", "dns", "control"]
        );
        assert_eq!(passed.raw_fds().len(), 3);

        let web = passed.tcp("web").unwrap().expect("passed");
        assert_eq!(web.local_addr().unwrap(), web_addr);
        let client = TcpStream::connect(web_addr).unwrap();
        let (_, peer) = web.accept().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(
            passed.udp("dns").unwrap().unwrap().local_addr().unwrap(),
            dns_addr
        );
        let control = passed.unix("control").unwrap().unwrap();
        let path = control
            .local_addr()
            .unwrap()
            .as_pathname()
            .unwrap()
            .to_owned();
        assert_eq!(path, dir.path().join("control"));

        // Each socket once; unknown names are not an error.
        assert!(passed.tcp("web").unwrap().is_none());
        assert!(passed.tcp_at(0).unwrap().is_none());
        assert!(passed.tcp("admin").unwrap().is_none());
        assert!(passed.raw_fds().is_empty());
        assert_eq!(passed.len(), 3);
    }

    #[test]
    fn sockets_taken_by_position() {
        let mut passed = claimed(vec![
            ("unknown", tcp_listener().into()),
            ("unknown", udp_socket().into()),
            ("unknown", tcp_not_listening()),
        ]);
        assert!(passed.tcp_at(0).unwrap().is_some());
        assert!(passed.udp_at(1).unwrap().is_some());
        assert!(passed.fd_at(2).unwrap().is_some());
        assert!(passed.fd_at(3).unwrap().is_none());
        assert!(passed.udp_at(usize::MAX).unwrap().is_none());
    }

    #[test]
    fn repeated_names_are_taken_in_order() {
        let first = tcp_listener();
        let second = tcp_listener();
        let addrs = [first.local_addr().unwrap(), second.local_addr().unwrap()];
        let mut passed = claimed(vec![("web", first.into()), ("web", second.into())]);
        let taken = [
            passed.tcp("web").unwrap().unwrap(),
            passed.tcp("web").unwrap().unwrap(),
        ];
        assert_eq!(taken.map(|l| l.local_addr().unwrap()), addrs);
        assert!(passed.tcp("web").unwrap().is_none());
    }

    #[test]
    fn wrong_kind_names_the_socket_and_what_it_is() {
        let (unix_stream, _peer) = UnixStream::pair().unwrap();
        let (unix_datagram, _peer) = UnixDatagram::pair().unwrap();
        let mut passed = claimed(vec![
            ("dns", udp_socket().into()),
            ("idle", tcp_not_listening()),
            ("web", tcp_listener().into()),
            ("pair", unix_stream.into()),
            ("log", unix_datagram.into()),
        ]);
        let numbers: Vec<RawFd> = passed.sockets.iter().map(|slot| slot.number).collect();
        let cases = [
            (
                passed.tcp("dns").unwrap_err(),
                format!(
                    "socket \"dns\" (fd {}) passed by the service manager is an IPv4 UDP \
                     socket, not a listening TCP socket",
                    numbers[0]
                ),
            ),
            (
                passed.tcp("idle").unwrap_err(),
                format!(
                    "socket \"idle\" (fd {}) passed by the service manager is an IPv4 TCP \
                     socket that is not listening, not a listening TCP socket",
                    numbers[1]
                ),
            ),
            (
                passed.unix_at(2).unwrap_err(),
                format!(
                    "socket 2 (fd {}, named \"web\") passed by the service manager is a \
                     listening IPv4 TCP socket, not a listening Unix stream socket",
                    numbers[2]
                ),
            ),
            (
                passed.udp("web").unwrap_err(),
                format!(
                    "socket \"web\" (fd {}) passed by the service manager is a listening IPv4 \
                     TCP socket, not a UDP socket",
                    numbers[2]
                ),
            ),
            (
                passed.unix("pair").unwrap_err(),
                format!(
                    "socket \"pair\" (fd {}) passed by the service manager is a Unix stream \
                     socket that is not listening, not a listening Unix stream socket",
                    numbers[3]
                ),
            ),
            (
                passed.unix("log").unwrap_err(),
                format!(
                    "socket \"log\" (fd {}) passed by the service manager is a Unix datagram \
                     socket, not a listening Unix stream socket",
                    numbers[4]
                ),
            ),
        ];
        for (error, text) in cases {
            assert!(matches!(error, ListenError::WrongKind { .. }));
            assert_eq!(error.to_string(), text);
        }
        // A refused socket stays for the right taker.
        assert!(passed.udp("dns").unwrap().is_some());
        assert!(passed.tcp("web").unwrap().is_some());
        assert!(passed.fd("log").unwrap().is_some());
    }

    #[test]
    fn claimed_sockets_become_close_on_exec() {
        let socket = udp_socket();
        fcntl(&socket, FcntlArg::F_SETFD(FdFlag::empty())).unwrap();
        let mut passed = claimed(vec![("dns", socket.into())]);
        let fd = passed.fd("dns").unwrap().unwrap();
        let flags = FdFlag::from_bits_truncate(fcntl(&fd, FcntlArg::F_GETFD).unwrap());
        assert!(flags.contains(FdFlag::FD_CLOEXEC));
    }

    #[test]
    fn descriptors_that_are_not_sockets_are_refused() {
        let file = tempfile::tempfile().unwrap();
        let passed = passing(vec![("web", tcp_listener().into()), ("data", file.into())]);
        let bad = passed.fds[1];
        // SAFETY: `passing` gave up the ownership of distinct open descriptors.
        let error = unsafe { claim(passed) }.unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("invalid LISTEN_FDS `test`: fd {bad} is not a socket but a regular file")
        );

        let (read, _write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        let passed = passing(vec![("pipe", read)]);
        let bad = passed.fds[0];
        // SAFETY: as above.
        let error = unsafe { claim(passed) }.unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with(&format!("fd {bad} is not a socket but a pipe"))
        );
    }

    #[test]
    fn closed_descriptors_are_refused() {
        // No descriptor can have this number (RLIMIT_NOFILE is far lower), so no other
        // test's descriptor can be mistaken for it.
        let passed = Passed {
            listen_fds: "1".into(),
            fds: vec![RawFd::MAX],
            names: vec!["web".into()],
        };
        // SAFETY: the descriptor is not open; there is nothing to take over.
        let error = unsafe { claim(passed) }.unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid LISTEN_FDS `1`: fd 2147483647 is not open"
        );
    }

    #[test]
    fn the_store_hands_the_sockets_over_once() {
        let web = tcp_listener();
        let addr = web.local_addr().unwrap();
        store(claimed(vec![("web", web.into())]));
        assert_eq!(raw_fds().len(), 1);
        let mut passed = listeners();
        assert_eq!(
            passed.tcp("web").unwrap().unwrap().local_addr().unwrap(),
            addr
        );
        assert!(listeners().is_empty());
        assert!(raw_fds().is_empty());
    }
}
