//! THE settings table: every setting the runtime knows, once.
//!
//! Adding a setting is one entry here plus its behaviour; the `[daemon]` keys, the
//! flags, `--help`, the builder's setters, [`Options`], [`Settings`] and the resolver
//! follow from it. The macro that reads it is in `define.rs`; the kinds in `kinds.rs`.

use std::fmt;
use std::time::Duration;

use super::kinds::*;
use super::{
    Context, Layer, Sourced, Spec, checked, default_pid_file, pick, show_line, with_default,
};
use crate::error::Error;

/// The default file mode creation mask: no write for the group, nothing for others.
pub const DEFAULT_UMASK: u32 = 0o027;
/// How long `stop` waits after SIGTERM before it sends SIGKILL, by default.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the launching process waits for the daemon to report ready, by default.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(30);
/// The runtime's log messages at `info` and above, everyone else's too.
pub const DEFAULT_LOG_LEVEL: &str = "info";

settings_table! {
    context ctx;

    /// Name used in messages, the default PID file and the logs' identifier (default:
    /// the binary's name).
    name: Name => ::std::string::String, setter(into),
        default(required ctx.name.to_owned()),
        flag(none), config(yes), help(long),
        "Name used in messages";

    /// Whether to detach (`--daemon`; default: no). A program that always runs as a
    /// daemon sets this to `true`; `--foreground` still keeps it attached, and so does
    /// a service manager that expects it to stay (systemd, `NOTIFY_SOCKET`).
    daemon: Switch => bool, setter(plain),
        default(required false),
        flag(own("--daemon", "--foreground")), config(yes), help(short),
        "Detach and run in the background; returns once the daemon is ready, or says why it failed";

    /// User to run as, by name or uid (default: no change). Needs root (or
    /// `CAP_SETUID`).
    user: Account => ::std::string::String, setter(into),
        default(optional None),
        flag(value("--user", "USER")), config(yes), help(short),
        "Run as this user (name or uid); needs root or CAP_SETUID and CAP_SETGID";

    /// Group to run as, by name or gid (default: the user's primary group).
    group: Account => ::std::string::String, setter(into),
        default(optional None),
        flag(value("--group", "GROUP")), config(yes), help(short),
        "Run as this group (name or gid); defaults to the user's primary group";

    /// Working directory (default: `/` when detached, unchanged in the foreground). Under
    /// `chroot`, it is a path inside the new root.
    dir: FsPath => ::std::path::PathBuf, setter(into),
        default(optional None),
        flag(value("--dir", "DIR")), config(yes), help(short),
        "Working directory (default when detached: /)";

    /// PID file (default: `/run/<name>.pid` as root, `$XDG_RUNTIME_DIR/<name>.pid`
    /// otherwise, none where neither suits). Relative paths are taken from the
    /// launcher's working directory. [`PidFileSetting::Off`] (`pid_file = false`,
    /// `--no-pid-file`): none at all.
    pid_file: PidFilePath => crate::settings::PidFileSetting, setter(into),
        default(required default_pid_file(ctx, &name.value)),
        flag(value_or_off("--pid-file", "FILE", "--no-pid-file", "Run without a PID file")),
        config(yes), help(short),
        "PID file: names the daemon's pid while it runs";

    /// File mode creation mask (default: `0o027`). At most `0o777`.
    umask: Umask => u32, setter(plain),
        default(required DEFAULT_UMASK),
        flag(value("--umask", "MASK")), config(yes), help(short),
        "File mode creation mask, in octal";

    /// File that receives the daemon's standard output, appended to (default:
    /// `/dev/null` when detached, inherited in the foreground).
    stdout: FsPath => ::std::path::PathBuf, setter(into),
        default(optional None),
        flag(value("--stdout", "FILE")), config(yes), help(long),
        "Append the detached daemon's standard output to this file";

    /// File that receives the daemon's standard error, appended to; the `file` log
    /// target writes there.
    stderr: FsPath => ::std::path::PathBuf, setter(into),
        default(optional None),
        flag(value("--stderr", "FILE")), config(yes), help(long),
        "Append the detached daemon's standard error (and its log) to this file";

    /// Directory to `chroot` into before dropping privileges (needs root). `dir` is then
    /// taken inside it.
    chroot: FsPath => ::std::path::PathBuf, setter(into),
        default(optional None),
        flag(value("--chroot", "DIR")), config(yes), help(long),
        "Change the root directory to this one before dropping privileges";

    /// How long `stop` waits after SIGTERM before SIGKILL (default: 10 s; at most a day).
    stop_timeout: Seconds => ::std::time::Duration, setter(plain),
        default(required DEFAULT_STOP_TIMEOUT),
        flag(value("--stop-timeout", "SECONDS")), config(yes), help(long),
        "Seconds --stop waits after SIGTERM before SIGKILL";

    /// How long the launcher waits for the daemon to report ready (default: 30 s; more
    /// than zero, at most a day).
    start_timeout: PositiveSeconds => ::std::time::Duration, setter(plain),
        default(required DEFAULT_START_TIMEOUT),
        flag(value("--start-timeout", "SECONDS")), config(yes), help(long),
        "Seconds the launcher waits for the daemon to report ready";

    /// Where the runtime's logger writes (default: `auto`: the journal under systemd,
    /// syslog when detached without an `stderr` file, that file when set, else stderr).
    /// `none` installs no logger, for programs that bring their own.
    log_target: Target => crate::logger::LogTarget, setter(plain),
        default(required crate::logger::LogTarget::Auto),
        flag(value("--log-target", "TARGET")), config(yes), help(long),
        "Where log records go: auto, journal, syslog, file, stderr or none";

    /// Which log records are kept: a level, or directives as `RUST_LOG` takes them
    /// (`warn,my_crate::db=debug`). `RUST_LOG`, when set, overrides the attribute and the
    /// config file; `--log-level` overrides it.
    log_level: Level => ::std::string::String, setter(into),
        default(required DEFAULT_LOG_LEVEL.to_owned()),
        flag(value("--log-level", "LEVEL")), config(yes), help(long),
        "Log levels: info, or directives such as warn,my_crate=debug (also RUST_LOG)";

    /// The local syslog socket the `syslog` log target sends to (default: `/dev/log`).
    syslog_socket: FsPath => ::std::path::PathBuf, setter(into),
        default(required crate::logger::default_syslog_socket().to_owned()),
        flag(value("--syslog-socket", "PATH")), config(yes), help(long),
        "The syslog socket for the syslog log target";

    /// A descriptor the daemon writes a newline to, then closes, once it is ready (s6's
    /// `notification-fd`; default: none).
    notify_fd: Descriptor => i32, setter(plain),
        default(optional None),
        flag(value("--notify-fd", "FD")), config(yes), help(long),
        "Write a newline to this descriptor once ready, then close it (s6 notification-fd)";

    /// Who feeds systemd's watchdog when `WatchdogSec=` is set (default: `auto`, a
    /// keep-alive until the program first calls `daemon_runtime::notify::watchdog()`).
    watchdog: WatchdogMode => crate::notify::Watchdog, setter(plain),
        default(required crate::notify::Watchdog::Auto),
        flag(value("--watchdog", "MODE")), config(yes), help(long),
        "Who feeds systemd's watchdog: auto (a keep-alive until the program does) or manual";

    /// Sets `no_new_privs` once privileges are dropped, so that nothing the daemon runs
    /// can gain privileges through setuid programs or file capabilities (default: off,
    /// as systemd's `NoNewPrivileges=`: a daemon may rightly run `sendmail` or `ping`).
    no_new_privs: Switch => bool, setter(plain),
        default(required false),
        flag(switch("--no-new-privs")), config(yes), help(long),
        "Set no_new_privs: nothing the daemon runs can gain privileges";

    /// Allows core dumps (default: off, as python-daemon does: a daemon started as root
    /// may hold secrets it read before dropping privileges).
    core_dumps: Switch => bool, setter(plain),
        default(required false),
        flag(switch("--core-dumps")), config(yes), help(long),
        "Allow core dumps (off by default)";
}
