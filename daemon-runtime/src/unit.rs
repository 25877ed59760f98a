//! The service files a program prints for itself (`--print-service KIND`): a systemd
//! service unit, the socket unit that activates it, and an LSB init script, made from
//! the effective settings, the running binary's absolute path and the config file in
//! use. Plain string building; every value is quoted for its format, and a value the
//! format cannot carry is an error that names it.
//!
//! Why the files look as they do:
//!
//! - The systemd unit runs the program in the foreground (`--foreground`, which also
//!   overrides a forced daemon) as `Type=notify`: the runtime speaks sd_notify. systemd
//!   253 and later reload with `Type=notify-reload` (SIGHUP from systemd itself, then
//!   `RELOADING=1` and `READY=1`), and the unit passes `--no-pid-file`. Older systemd
//!   (Debian bookworm has 252) gets `ExecReload=` running the binary's own `--reload`
//!   through a PID file in `RuntimeDirectory=`: `/bin/kill` is missing on minimal
//!   systems. The caller picks ([`Reload`], in the kind: `systemd` works with every
//!   version, `systemd=notify-reload` needs 253). Not detected: running
//!   `systemctl --version` would link std's process spawning into every program (43 KB
//!   stripped, measured) to choose between two methods that both work, and packagers
//!   generate units on a host other than the one they run on.
//! - `User=`, `Group=`, `UMask=`, `WorkingDirectory=` come from the settings: systemd
//!   starts the program as that user, and the runtime, finding its ids already right,
//!   switches nothing. Except with `chroot`: the binary and the config file live outside
//!   the jail, so `RootDirectory=` (which looks the binary up inside it) cannot replace
//!   the runtime's own chroot, which needs root; the unit then starts the program as
//!   root and the runtime does chroot, directory and user itself, as when detached.
//! - `stdout`/`stderr` files become `StandardOutput=append:`/`StandardError=append:`
//!   (in the foreground the runtime leaves stdio to whoever started it); unset, stdio
//!   goes to the journal. `stop_timeout` and `start_timeout` become `TimeoutStopSec=`
//!   and `TimeoutStartSec=`, which mean the same.
//! - Hardening is what the settings show cannot break the program: `ProtectSystem=full`
//!   (not `strict`, which would need every path the program writes, and only some are
//!   settings) with `ReadWritePaths=` for the directories it writes that fall under it;
//!   `ProtectHome=` and `PrivateTmp=` unless a path, or the user's home, lives there.
//!   `NoNewPrivileges=` and the seccomp-based `LockPersonality=`, `RestrictSUIDSGID=`
//!   (which imply it for a non-root user) only with the `no_new_privs` setting: a daemon
//!   may rightly run a setuid program such as `sendmail`.
//! - The init script is POSIX sh on top of the binary's own `--daemon`, `--stop`,
//!   `--status`, `--restart` and `--reload`, with the same `--config` and an explicit
//!   `--pid-file`, so that every action, restart included, finds the same daemon; it
//!   exits with the binary's status (`--status` gives the LSB codes already).
//! - Daemon flags given when the file is generated (`--user nobody`) are passed again,
//!   so that the service runs with the settings the file was made from.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::settings::{Origin, Settings, Sourced};

/// A service file `--print-service KIND` prints.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServiceKind {
    /// `systemd[=notify-reload]`: the `<name>.service` unit.
    Systemd {
        /// How systemd reloads it.
        reload: Reload,
    },
    /// `systemd-activated[=notify-reload]`: the `<name>.service` unit for a
    /// [`SystemdSocket`] (`Requires=` and `After=` the socket).
    ///
    /// [`SystemdSocket`]: ServiceKind::SystemdSocket
    SystemdActivated {
        /// How systemd reloads it.
        reload: Reload,
    },
    /// `systemd-socket=[NAME=]ADDR[,ADDR...]`: the `<name>.socket` unit.
    SystemdSocket {
        /// `FileDescriptorName=`: the name the program takes the sockets by
        /// ([`Listeners::tcp`](crate::Listeners::tcp)); systemd's default is
        /// `<name>.socket`.
        name: Option<String>,
        /// One `ListenStream=` each: `8080`, `0.0.0.0:8080`, `[::1]:80`, `/run/x.sock`.
        listen: Vec<String>,
    },
    /// `sysv`: an LSB init script for `/etc/init.d`.
    Sysv,
}

const KINDS: &str = "systemd[=notify-reload], systemd-activated[=notify-reload], \
                     systemd-socket=[NAME=]ADDR[,ADDR...], sysv";

impl ServiceKind {
    /// Reads a `--print-service` value; the error says what is expected.
    pub fn parse(text: &str) -> Result<ServiceKind, String> {
        let (kind, arg) = match text.split_once('=') {
            Some((kind, arg)) => (kind, Some(arg)),
            None => (text, None),
        };
        let reload = match arg {
            None => Ok(Reload::PidFile),
            Some("notify-reload") => Ok(Reload::Notify),
            Some(other) => Err(format!(
                "unknown reload method `{other}`; expected notify-reload (systemd 253 and later)"
            )),
        };
        match (kind, arg) {
            ("systemd", _) => Ok(ServiceKind::Systemd { reload: reload? }),
            ("systemd-activated", _) => Ok(ServiceKind::SystemdActivated { reload: reload? }),
            ("sysv", None) => Ok(ServiceKind::Sysv),
            ("systemd-socket", None) => Err(
                "a socket unit needs the address to listen on: systemd-socket=0.0.0.0:8080"
                    .to_owned(),
            ),
            ("systemd-socket", Some(spec)) => socket_kind(spec),
            _ => Err(format!(
                "unknown service file `{text}`; expected one of {KINDS}"
            )),
        }
    }
}

/// `[NAME=]ADDR[,ADDR...]`.
fn socket_kind(spec: &str) -> Result<ServiceKind, String> {
    // `web=0.0.0.0:8080`: an address has `:`, `/` or only digits before any `=`.
    let (name, addresses) = match spec.split_once('=') {
        Some((name, rest)) if is_fd_name(name) => (Some(name.to_owned()), rest),
        _ => (None, spec),
    };
    let listen: Vec<String> = addresses.split(',').map(str::to_owned).collect();
    if listen.iter().any(String::is_empty) {
        return Err(format!("an empty listen address in `{spec}`"));
    }
    Ok(ServiceKind::SystemdSocket { name, listen })
}

impl fmt::Display for ServiceKind {
    /// The `--print-service` value that asks for this file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, reload) = match self {
            ServiceKind::Systemd { reload } => ("systemd", reload),
            ServiceKind::SystemdActivated { reload } => ("systemd-activated", reload),
            ServiceKind::Sysv => return f.write_str("sysv"),
            ServiceKind::SystemdSocket { name, listen } => {
                f.write_str("systemd-socket=")?;
                if let Some(name) = name {
                    write!(f, "{name}=")?;
                }
                return f.write_str(&listen.join(","));
            }
        };
        f.write_str(kind)?;
        match reload {
            Reload::Notify => f.write_str("=notify-reload"),
            Reload::PidFile => Ok(()),
        }
    }
}

/// A socket name systemd accepts, and that no address looks like.
fn is_fd_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.bytes().any(|b| !b.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// How the systemd unit reloads the program.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reload {
    /// `ExecReload=` running the binary's own `--reload`, which finds the daemon by a
    /// PID file in `RuntimeDirectory=`: any systemd version.
    #[default]
    PidFile,
    /// `Type=notify-reload` (systemd 253 and later): systemd sends SIGHUP itself and
    /// waits for `RELOADING=1`, then `READY=1`. No PID file.
    Notify,
}

/// Why a service file cannot be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum UnitError {
    /// A value cannot be written in the file's format.
    Inexpressible {
        /// What the value is, with where it came from (`dir (from --dir)`).
        what: String,
        /// The value.
        value: String,
        /// The file (`a systemd unit`, `an init script`).
        file: &'static str,
        /// Why not.
        reason: &'static str,
    },
    /// The running binary's path is unknown.
    Exe {
        /// The error from `current_exe`.
        source: std::io::Error,
    },
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnitError::Inexpressible {
                what,
                value,
                file,
                reason,
            } => write!(f, "cannot write {what} `{value}` into {file}: {reason}"),
            UnitError::Exe { source } => {
                write!(f, "cannot find the path of the running binary: {source}")
            }
        }
    }
}

impl std::error::Error for UnitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            UnitError::Exe { source } => Some(source),
            UnitError::Inexpressible { .. } => None,
        }
    }
}

/// A daemon flag given on the command line: its long name and its value, if it takes
/// one. The service file passes it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GivenFlag {
    pub(crate) long: String,
    pub(crate) value: Option<OsString>,
}

/// The flags the service files set themselves, never passed again.
const OWN_FLAGS: [&str; 2] = ["pid-file", "no-pid-file"];

/// Renders the file `kind` for the program at `exe` (absolute) with `settings`, reading
/// `config` (passed as `--config`).
///
/// This is what `--print-service` prints, less the daemon flags that command line gave
/// (which it passes again): `settings` are taken to come from code and the config file.
///
/// ```
/// use daemon_runtime::Daemon;
/// use daemon_runtime::unit::{Reload, ServiceKind, render};
///
/// let settings = Daemon::builder().name("hello").user("nobody").settings().unwrap();
/// let exe = std::path::Path::new("/usr/bin/hello");
/// let kind = ServiceKind::Systemd { reload: Reload::Notify };
/// let unit = render(&kind, &settings, exe, None).unwrap();
/// assert!(unit.contains("\nType=notify-reload\n"));
/// assert!(unit.contains("\nUser=nobody\n"));
/// ```
pub fn render(
    kind: &ServiceKind,
    settings: &Settings,
    exe: &Path,
    config: Option<&Path>,
) -> Result<String, UnitError> {
    render_with(kind, settings, exe, config, &[])
}

/// [`render`], passing the daemon flags `flags` again.
pub(crate) fn render_with(
    kind: &ServiceKind,
    settings: &Settings,
    exe: &Path,
    config: Option<&Path>,
    flags: &[GivenFlag],
) -> Result<String, UnitError> {
    prepare(kind, settings, exe, config, flags)?.render(kind)
}

/// Checks the name and builds the command line every action starts from.
fn prepare<'a>(
    kind: &ServiceKind,
    settings: &'a Settings,
    exe: &Path,
    config: Option<&Path>,
    flags: &[GivenFlag],
) -> Result<Program<'a>, UnitError> {
    let file = match kind {
        ServiceKind::Sysv => "an init script",
        _ => "a systemd unit",
    };
    let mut p = Program {
        settings,
        file,
        name: &settings.name.value,
        args: Vec::new(),
        generated_by: String::new(),
        nnp: no_new_privs(settings),
    };
    p.check_name()?;
    let exe = p.path("the binary's path", exe, None)?.to_owned();
    p.args.push(exe);
    if let Some(config) = config {
        let config = crate::plan::absolute(config);
        let config = p.path("the config file's path", &config, None)?.to_owned();
        p.args.extend(["--config".to_owned(), config]);
    }
    let mut again = p.args.clone();
    for flag in flags {
        let arg = p.flag(flag)?;
        if !OWN_FLAGS.contains(&flag.long.as_str()) {
            p.args.extend(arg.iter().cloned());
        }
        again.extend(arg);
    }
    again.extend(["--print-service".to_owned(), kind.to_string()]);
    p.generated_by = sh_command(&again);
    Ok(p)
}

/// Whether the `no_new_privs` setting is on.
fn no_new_privs(settings: &Settings) -> bool {
    settings.no_new_privs.value
}

/// One rendering: the settings and the checked command line every action starts from.
struct Program<'a> {
    settings: &'a Settings,
    /// The format, for errors.
    file: &'static str,
    name: &'a str,
    /// The binary, `--config`, and the daemon flags passed again.
    args: Vec<String>,
    /// The command that prints this file, for its first comment.
    generated_by: String,
    nnp: bool,
}

/// Roots of the trees `ProtectSystem=full`, `ProtectHome=` and `PrivateTmp=` hide or
/// make read-only.
const SYSTEM: [&str; 4] = ["/usr", "/boot", "/efi", "/etc"];
const HOME: [&str; 3] = ["/home", "/root", "/run/user"];
const TMP: [&str; 2] = ["/tmp", "/var/tmp"];

impl<'a> Program<'a> {
    fn fail(
        &self,
        what: impl Into<String>,
        value: impl fmt::Display,
        reason: &'static str,
    ) -> UnitError {
        UnitError::Inexpressible {
            what: what.into(),
            value: value.to_string(),
            file: self.file,
            reason,
        }
    }

    /// `value` as text a line of the file can hold.
    fn text<'v>(&self, what: &str, value: &'v OsStr) -> Result<&'v str, UnitError> {
        let Some(text) = value.to_str() else {
            return Err(self.fail(what, value.display(), "it is not valid UTF-8"));
        };
        if text.chars().any(char::is_control) {
            return Err(self.fail(what, text.escape_debug(), "it contains a control character"));
        }
        Ok(text)
    }

    /// A path: absolute, since a service manager starts the program from `/`.
    fn path<'p>(
        &self,
        key: &str,
        path: &'p Path,
        origin: Option<&Origin>,
    ) -> Result<&'p str, UnitError> {
        let what = match origin {
            Some(origin) => format!("{key} ({origin})"),
            None => key.to_owned(),
        };
        let text = self.text(&what, path.as_os_str())?;
        if !path.is_absolute() {
            return Err(self.fail(
                what,
                text,
                "the path is relative, and a service manager starts the program from /",
            ));
        }
        Ok(text)
    }

    /// A path setting, as [`path`](Self::path) checks it.
    fn setting<'p>(&self, key: &str, setting: &'p Sourced<PathBuf>) -> Result<&'p str, UnitError> {
        self.path(key, &setting.value, Some(&setting.origin))
    }

    /// The name, as it names the unit, the runtime directory and the init script.
    fn check_name(&self) -> Result<(), UnitError> {
        let name = self.name;
        let plain = |b: u8| b.is_ascii_alphanumeric() || b"-_.:".contains(&b);
        if name.len() > 200 || name.starts_with('.') || !name.bytes().all(plain) {
            let what = format!("the name ({})", self.settings.name.origin);
            return Err(self.fail(
                what,
                name,
                "a service's name takes letters, digits and -_.:",
            ));
        }
        Ok(())
    }

    /// A daemon flag as arguments: `--user nobody`, or `--user=-x` for a value that
    /// would read as a flag.
    fn flag(&self, flag: &GivenFlag) -> Result<Vec<String>, UnitError> {
        let long = format!("--{}", flag.long);
        let Some(value) = &flag.value else {
            return Ok(vec![long]);
        };
        let value = self.text(&long, value)?;
        Ok(match value.starts_with('-') {
            true => vec![format!("{long}={value}")],
            false => vec![long, value.to_owned()],
        })
    }

    /// A user or group name for `User=`/`Group=`.
    fn account(&self, key: &str, setting: &'a Sourced<String>) -> Result<&'a str, UnitError> {
        let what = format!("{key} ({})", setting.origin);
        let value = self.text(&what, OsStr::new(&setting.value))?;
        if value.chars().any(char::is_whitespace) {
            return Err(self.fail(what, value, "it contains whitespace"));
        }
        Ok(value)
    }

    fn header(&self, file_name: &str) -> String {
        format!("# {file_name}, generated by `{}`\n", self.generated_by)
    }

    fn render(&self, kind: &ServiceKind) -> Result<String, UnitError> {
        match *kind {
            ServiceKind::Systemd { reload } => self.service(false, reload),
            ServiceKind::SystemdActivated { reload } => self.service(true, reload),
            ServiceKind::SystemdSocket {
                ref name,
                ref listen,
            } => self.socket(name.as_deref(), listen),
            ServiceKind::Sysv => self.sysv(),
        }
    }

    /// The `.service` unit; `activated`: for the socket unit.
    fn service(&self, activated: bool, reload: Reload) -> Result<String, UnitError> {
        let s = self.settings;
        let name = self.name;
        let exe = &self.args[0];
        // systemd's `string_is_safe`, which it applies to the executable however quoted.
        if exe.contains(['"', '\'', '\\', '\x7f']) {
            let reason = "systemd refuses an executable path with a quote or a backslash";
            return Err(self.fail("the binary's path", exe, reason));
        }
        let mut out = self.header(&format!("{name}.service"));
        out.push_str("[Unit]\n");
        set(&mut out, "Description", name);
        match activated {
            true => {
                set(&mut out, "Requires", &format!("{name}.socket"));
                set(&mut out, "After", &format!("network.target {name}.socket"));
            }
            false => set(&mut out, "After", "network.target"),
        }
        out.push_str("\n[Service]\n");
        self.commands(&mut out, reload);
        self.identity(&mut out)?;
        set(&mut out, "UMask", &format!("{:04o}", s.umask.value));
        for (key, directive, setting) in [
            ("stdout", "StandardOutput", &s.stdout),
            ("stderr", "StandardError", &s.stderr),
        ] {
            if let Some(log) = setting {
                let path = specifiers(self.setting(key, log)?);
                set(&mut out, directive, &format!("append:{path}"));
            }
        }
        let (start, stop) = (s.start_timeout.value, s.stop_timeout.value);
        set(&mut out, "TimeoutStartSec", &timespan(start));
        set(&mut out, "TimeoutStopSec", &timespan(stop));
        set(&mut out, "Restart", "on-failure");
        self.hardening(&mut out, reload)?;
        out.push_str("\n[Install]\nWantedBy=multi-user.target\n");
        if activated {
            set(&mut out, "Also", &format!("{name}.socket"));
        }
        Ok(out)
    }

    /// `Type=`, `ExecStart=` and how the service reloads.
    fn commands(&self, out: &mut String, reload: Reload) {
        let name = self.name;
        let pid_file = format!("/run/{name}/{name}.pid");
        let mut start = self.args.clone();
        start.push("--foreground".to_owned());
        match reload {
            Reload::Notify => {
                set(out, "Type", "notify-reload");
                start.push("--no-pid-file".to_owned());
                set(out, "ExecStart", &systemd_command(&start));
            }
            Reload::PidFile => {
                set(out, "Type", "notify");
                start.extend(["--pid-file".to_owned(), pid_file.clone()]);
                set(out, "ExecStart", &systemd_command(&start));
                let mut reload = self.args.clone();
                reload.extend(["--pid-file".to_owned(), pid_file, "--reload".to_owned()]);
                set(out, "ExecReload", &systemd_command(&reload));
                set(out, "RuntimeDirectory", name);
            }
        }
    }

    /// `User=`, `Group=`, `WorkingDirectory=`, unless the runtime must do them after its
    /// chroot.
    fn identity(&self, out: &mut String) -> Result<(), UnitError> {
        let s = self.settings;
        if s.chroot.is_some() {
            out.push_str("# chroot: the program starts as root, then changes root, directory and user itself\n");
            return Ok(());
        }
        if let Some(user) = &s.user {
            set(out, "User", &specifiers(self.account("user", user)?));
        }
        if let Some(group) = &s.group {
            set(out, "Group", &specifiers(self.account("group", group)?));
        }
        if let Some(dir) = &s.dir {
            set(
                out,
                "WorkingDirectory",
                &specifiers(self.setting("dir", dir)?),
            );
        }
        Ok(())
    }

    /// The sandboxing the settings show cannot break the program.
    fn hardening(&self, out: &mut String, reload: Reload) -> Result<(), UnitError> {
        let s = self.settings;
        // What the program writes: its PID file's and log files' directories, its
        // working directory or jail, its user's home. What it reads: binary, config.
        let mut written: Vec<PathBuf> = Vec::new();
        if reload == Reload::PidFile {
            written.push(PathBuf::from(format!("/run/{}", self.name)));
        }
        for log in [&s.stdout, &s.stderr].into_iter().flatten() {
            written.extend(log.value.parent().map(Path::to_owned));
        }
        match (&s.chroot, &s.dir) {
            (Some(jail), _) => written.push(PathBuf::from(self.setting("chroot", jail)?)),
            (None, Some(dir)) => written.push(dir.value.clone()),
            (None, None) => {}
        }
        written.extend(s.user.as_ref().map(|user| home_of(&user.value)));
        let read: Vec<&Path> = self
            .args
            .iter()
            .map(Path::new)
            .filter(|p| p.is_absolute())
            .collect();
        let under = |path: &Path, roots: &[&str]| roots.iter().any(|root| path.starts_with(root));
        let writes = |roots: &[&str]| written.iter().any(|p| under(p, roots));
        let reads = |roots: &[&str]| read.iter().any(|p| under(p, roots));
        out.push_str("ProtectSystem=full\n");
        let mut exempt = Vec::new();
        for dir in written.iter().filter(|p| under(p, &SYSTEM)) {
            exempt.push(self.writable(dir)?);
        }
        if !exempt.is_empty() {
            set(out, "ReadWritePaths", &exempt.join(" "));
        }
        match (writes(&HOME), reads(&HOME)) {
            (true, _) => {}
            (false, true) => out.push_str("ProtectHome=read-only\n"),
            (false, false) => out.push_str("ProtectHome=yes\n"),
        }
        if !writes(&TMP) && !reads(&TMP) {
            out.push_str("PrivateTmp=yes\n");
        }
        if self.nnp {
            out.push_str("NoNewPrivileges=yes\nLockPersonality=yes\nRestrictSUIDSGID=yes\n");
        }
        Ok(())
    }

    /// One `ReadWritePaths=` entry; `-`: a directory that is missing is the program's
    /// error to report, not a failure to set up the sandbox.
    fn writable(&self, dir: &Path) -> Result<String, UnitError> {
        let what = "a directory the program writes";
        let text = self.text(what, dir.as_os_str())?;
        // Older systemd splits this list without unescaping: quotes can group, not escape.
        if text.contains(['"', '\'', '\\']) {
            return Err(self.fail(
                what,
                text,
                "ReadWritePaths= cannot hold quotes or backslashes",
            ));
        }
        let entry = specifiers(&format!("-{text}"));
        Ok(match entry.contains(char::is_whitespace) {
            true => format!("\"{entry}\""),
            false => entry,
        })
    }

    /// The `.socket` unit.
    fn socket(&self, fd_name: Option<&str>, listen: &[String]) -> Result<String, UnitError> {
        let name = self.name;
        let mut out = self.header(&format!("{name}.socket"));
        out.push_str("[Unit]\n");
        set(
            &mut out,
            "Description",
            &format!("{name} listening sockets"),
        );
        out.push_str("\n[Socket]\n");
        for address in listen {
            let address = self.text("the listen address", OsStr::new(address))?;
            if address.is_empty() || address.contains(char::is_whitespace) {
                return Err(self.fail(
                    "the listen address",
                    address,
                    "it is empty or has whitespace",
                ));
            }
            set(&mut out, "ListenStream", &specifiers(address));
        }
        if let Some(fd_name) = fd_name {
            if !is_fd_name(fd_name) {
                return Err(self.fail(
                    "the socket name",
                    fd_name,
                    "it takes letters, digits and -_.",
                ));
            }
            set(&mut out, "FileDescriptorName", fd_name);
        }
        set(&mut out, "Service", &format!("{name}.service"));
        out.push_str("\n[Install]\nWantedBy=sockets.target\n");
        Ok(out)
    }

    /// The LSB init script.
    fn sysv(&self) -> Result<String, UnitError> {
        let name = self.name;
        // The configured PID file, so that `--status` from a shell finds the daemon too;
        // else root's default, whoever generates the script: init runs it as root.
        let pid_file = &self.settings.pid_file;
        let pid_file = match pid_file.value.path() {
            Some(path) if pid_file.origin != Origin::Default => self
                .path("pid_file", path, Some(&pid_file.origin))?
                .to_owned(),
            _ => format!("/run/{name}.pid"),
        };
        let mut args = self.args.clone();
        args.extend(["--pid-file".to_owned(), pid_file]);
        let command = sh_command(&args);
        let header = self.header(&format!("/etc/init.d/{name}"));
        Ok(format!(
            "#!/bin/sh
{header}### BEGIN INIT INFO
# Provides:          {name}
# Required-Start:    $remote_fs $syslog
# Required-Stop:     $remote_fs $syslog
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: {name}
### END INIT INFO

# Every action is the program's own, with the same settings; its exit status is the
# script's (LSB codes for status).
action=${{1:-}}
set -- {command}
case $action in
start)
	# LSB: starting a running service succeeds.
	\"$@\" --status >/dev/null && exit 0
	exec \"$@\" --daemon
	;;
stop) exec \"$@\" --stop ;;
status) exec \"$@\" --status ;;
reload) exec \"$@\" --reload ;;
restart|force-reload)
	# A reload applies a changed config only if the program rereads it; a restart does.
	exec \"$@\" --restart
	;;
*)
	echo \"Usage: $0 {{start|stop|status|restart|force-reload|reload}}\" >&2
	exit 2
	;;
esac
"
        ))
    }
}

/// The home directory of `user` (a name or a uid): the program may well use it. One
/// that cannot be looked up is taken to be under `/home`, the cautious guess.
fn home_of(user: &str) -> PathBuf {
    let found = match user.parse::<u32>() {
        Ok(uid) => nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)),
        Err(_) => nix::unistd::User::from_name(user),
    };
    match found {
        Ok(Some(user)) => user.dir,
        _ => PathBuf::from("/home"),
    }
}

// Out of line: called some thirty times, and each inlined copy of its four pushes
// costs more than the call.
#[inline(never)]
fn set(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push('=');
    out.push_str(value);
    out.push('\n');
}

/// `%` written so that systemd's specifier expansion gives it back.
fn specifiers(value: &str) -> String {
    value.replace('%', "%%")
}

/// A systemd time span: `10s`, or milliseconds, never `0` (which means "no limit" to
/// systemd, and "at once" to the runtime).
fn timespan(duration: Duration) -> String {
    match duration.subsec_nanos() {
        0 if !duration.is_zero() => format!("{}s", duration.as_secs()),
        // Rounded up, in u64: the settings keep durations to a day.
        _ => {
            let nanos = u64::from(duration.subsec_nanos()).div_ceil(1_000_000);
            let millis = duration
                .as_secs()
                .saturating_mul(1000)
                .saturating_add(nanos);
            format!("{}ms", millis.max(1))
        }
    }
}

/// Bytes that need no quoting in a command line, for sh and systemd alike.
fn plain(arg: &str) -> bool {
    !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-:,+=@".contains(&b))
}

/// A command line for `ExecStart=`: words quoted as systemd unquotes them, `%` doubled
/// (specifiers), and `$` doubled in the arguments (environment variables) but not in the
/// executable's path, which systemd does not expand.
fn systemd_command(args: &[String]) -> String {
    let word = |(i, arg): (usize, &String)| {
        let mut escaped = arg.replace('%', "%%");
        if i > 0 {
            escaped = escaped.replace('$', "$$");
        }
        match plain(arg) {
            true => escaped,
            false => format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\"")),
        }
    };
    let words: Vec<String> = args.iter().enumerate().map(word).collect();
    words.join(" ")
}

/// A command line for sh: words in single quotes where needed.
fn sh_command(args: &[String]) -> String {
    let word = |arg: &String| match plain(arg) {
        true => arg.clone(),
        false => format!("'{}'", arg.replace('\'', r"'\''")),
    };
    args.iter().map(word).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
