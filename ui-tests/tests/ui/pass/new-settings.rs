// The settings added with the runtime's settings table, as literals and as expressions.
// The handlers are not called: the values are only type-checked against the setters.
use daemon_runtime::{DaemonArgs, LogTarget, Watchdog, daemonize};

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    daemon: DaemonArgs,
}

#[daemonize(
    log_target = "syslog",
    log_level = "info,hyper=warn,my_crate::db=TRACE",
    syslog_socket = "/dev/log",
    notify_fd = 3,
    no_new_privs = true,
    core_dumps = false,
    watchdog = "manual",
    pid_file = false,
    daemon = true,
    stop_timeout = 86400,
)]
fn literals(_args: ServeArgs) {}

#[daemonize(log_target = "auto", watchdog = "auto")]
fn other_choices(_args: ServeArgs) {}

#[daemonize(log_target = "journal")]
fn journal(_args: ServeArgs) {}

#[daemonize(log_target = "file", stdout = "/var/log/new.log")]
fn file(_args: ServeArgs) {}

#[daemonize(log_target = "stderr")]
fn stderr(_args: ServeArgs) {}

#[daemonize(log_target = "none")]
fn none(_args: ServeArgs) {}

#[daemonize(
    log_target = LogTarget::Stderr,
    log_level = std::env::var("APP_LOG").unwrap_or_else(|_| "info".to_owned()),
    syslog_socket = std::env::temp_dir().join("log"),
    notify_fd = 4,
    no_new_privs = std::env::var_os("NO_NEW_PRIVS").is_some(),
    core_dumps = cfg!(debug_assertions),
    watchdog = Watchdog::Auto,
    pid_file = std::env::temp_dir().join("new.pid"),
    daemon = std::env::var_os("ALWAYS_DETACH").is_some(),
)]
fn expressions(_args: ServeArgs) {}

fn main() {
    let _ = (literals, other_choices, journal, file, stderr, none, expressions);
}
