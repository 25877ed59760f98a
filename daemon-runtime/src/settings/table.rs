//! THE settings table: every setting the runtime knows, once.
//!
//! Adding a setting is one entry here plus its behaviour; the `[daemon]` keys, the
//! flags, `--help`, the builder's setters, [`Options`], [`Settings`] and the resolver
//! follow from it. The macro that reads it is in `define.rs`; the kinds in `kinds.rs`.

use std::fmt;
use std::time::Duration;

use super::kinds::*;
use super::{Context, Layer, Sourced, Spec, checked, pick, show_line};
use crate::error::Error;

/// The default file mode creation mask: no write for the group, nothing for others.
pub const DEFAULT_UMASK: u32 = 0o027;
/// How long `stop` waits after SIGTERM before it sends SIGKILL, by default.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the launching process waits for the daemon to report ready, by default.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(30);

settings_table! {
    context ctx;

    /// Name used in messages (default: the binary's name).
    name: Name => ::std::string::String, setter(into),
        default(required ctx.name.to_owned()),
        flag(none), config(yes),
        "Name used in messages";

    /// Whether to detach (the `--daemon` decision; default: no). A program that always
    /// runs as a daemon sets this to `true`.
    detach: Switch => bool, setter(plain),
        default(required false),
        flag(own("--daemon")), config(no),
        "Detach and run in the background; returns once the daemon is ready, or says why it failed";

    /// User to run as, by name or uid (default: no change). Needs root.
    user: Account => ::std::string::String, setter(into),
        default(optional None),
        flag(value("--user", "USER")), config(yes),
        "Run as this user (name or uid); needs root";

    /// Group to run as, by name or gid (default: the user's primary group).
    group: Account => ::std::string::String, setter(into),
        default(optional None),
        flag(value("--group", "GROUP")), config(yes),
        "Run as this group (name or gid); defaults to the user's primary group";

    /// Working directory (default: `/` when detached, unchanged in the foreground).
    dir: FsPath => ::std::path::PathBuf, setter(into),
        default(optional None),
        flag(value("--dir", "DIR")), config(yes),
        "Working directory (default when detached: /)";

    /// PID file (default: none). Relative paths are taken from the launcher's working
    /// directory.
    pid_file: PidFilePath => crate::settings::PidFileSetting, setter(into),
        default(required PidFileSetting::Off),
        flag(value("--pid-file", "FILE")), config(yes),
        "PID file: locked while the daemon runs, names its pid";

    /// File mode creation mask (default: `0o027`). At most `0o777`.
    umask: Umask => u32, setter(plain),
        default(required DEFAULT_UMASK),
        flag(value("--umask", "MASK")), config(yes),
        "File mode creation mask, in octal (default: 027)";

    /// File that receives the daemon's standard output, appended to (default:
    /// `/dev/null` when detached, inherited in the foreground).
    stdout: FsPath => ::std::path::PathBuf, setter(into),
        default(optional None),
        flag(none), config(yes),
        "File that receives the daemon's standard output";

    /// File that receives the daemon's standard error, appended to.
    stderr: FsPath => ::std::path::PathBuf, setter(into),
        default(optional None),
        flag(none), config(yes),
        "File that receives the daemon's standard error";

    /// Directory to `chroot` into before dropping privileges (needs root). `dir` is then
    /// taken inside it.
    chroot: FsPath => ::std::path::PathBuf, setter(into),
        default(optional None),
        flag(none), config(yes),
        "Directory to chroot into before dropping privileges";

    /// How long `stop` waits after SIGTERM before SIGKILL (default: 10 s).
    stop_timeout: Seconds => ::std::time::Duration, setter(plain),
        default(required DEFAULT_STOP_TIMEOUT),
        flag(none), config(yes),
        "Seconds --stop waits after SIGTERM before SIGKILL";

    /// How long the launcher waits for the daemon to report ready (default: 30 s).
    start_timeout: PositiveSeconds => ::std::time::Duration, setter(plain),
        default(required DEFAULT_START_TIMEOUT),
        flag(none), config(yes),
        "Seconds the launcher waits for the daemon to report ready";
}
