//! The examples under systemd 252, PID 1 of a `systemd-nspawn` container: readiness
//! (automatic and manual), status, stop, reload, the watchdog, socket activation, the
//! `--daemon` forms, the units the binaries print for themselves, and the journal.
//!
//! Waits follow the journal (`journalctl --follow`) or systemd's own jobs (`systemctl
//! start` returns once the unit is up); none sleeps. Each scenario uses unit names of its
//! own, so a failure leaves nothing in the next one's way.

use daemon_tests::managers::nspawn::{BIN_DIR, Systemd};
use daemon_tests::managers::{Context, Unavailable, check};
use daemon_tests::text;

/// An address the examples cannot bind inside the container: `echod --listen` with it
/// serves on a passed socket or fails.
const UNBINDABLE: &str = "192.0.2.1:7";

/// Follows the whole journal of `unit` (not only its last lines, where `journalctl
/// --follow` starts) until a line contains `needle`; returns the lines read.
fn follow_unit(systemd: &Systemd, unit: &str, needle: &str) -> Vec<String> {
    systemd.follow_journal(&["-n", "all", "-u", unit, "-o", "cat"], needle)
}

/// `Type=forking`, `PIDFile=`, `hello --daemon`; `ExecReload=` through `hello --reload`.
/// Under systemd (`JOURNAL_STREAM`) the logger writes to the journal even though the
/// daemon's standard error is a file: the journal keeps the levels.
pub(crate) fn forking(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
    let flags = "--pid-file /run/hello-forking.pid --config /etc/hello/forking.toml";
    systemd.write(
        "/etc/hello/forking.toml",
        &super::log_config("/run/hello-forking.log"),
    );
    systemd.install_unit(
        "hello-forking.service",
        &format!(
            "[Service]\nType=forking\nPIDFile=/run/hello-forking.pid\nTimeoutSec=20\n\
             ExecStart={BIN_DIR}/hello --daemon {flags}\n\
             ExecReload={BIN_DIR}/hello --reload {flags}\n"
        ),
    );
    systemd.systemctl_ok(&["start", "hello-forking"]);
    let pid = systemd.main_pid("hello-forking").expect("a main pid");
    assert_eq!(
        systemd.read("/run/hello-forking.pid"),
        Some(format!("{pid}\n")),
        "the PID file names the main pid"
    );
    follow_unit(
        systemd,
        "hello-forking",
        &format!("hello started (pid {pid})"),
    );

    systemd.systemctl_ok(&["reload", "hello-forking"]);
    follow_unit(systemd, "hello-forking", "reloaded: log file reopened");
    assert_eq!(
        systemd.main_pid("hello-forking"),
        Some(pid),
        "reload restarted it"
    );

    stop_cleanly(systemd, "hello-forking", "/run/hello-forking.pid");
    follow_unit(systemd, "hello-forking", "hello stopping after");
    Ok(())
}

/// The unit is active; if not, the panic shows its journal.
fn assert_active(systemd: &Systemd, unit: &str) {
    let state = systemd.show(unit, "ActiveState");
    let journal = || systemd.journal(&["-n", "all", "-u", unit, "-o", "short-monotonic"]);
    assert!(state == "active", "{unit} is {state}:\n{}", journal());
}

/// `systemctl stop`: the unit ends inactive with `Result=success`, its PID file gone.
fn stop_cleanly(systemd: &Systemd, unit: &str, pid_file: &str) {
    systemd.systemctl_ok(&["stop", unit]);
    assert_eq!(systemd.show(unit, "ActiveState"), "inactive");
    assert_eq!(systemd.show(unit, "Result"), "success");
    assert!(!systemd.exists(pid_file), "the PID file outlived the stop");
}

/// `Type=notify`, hello in the foreground with automatic readiness: `systemctl start`
/// returns once the runtime sent `READY=1`; `systemctl status` shows hello's `STATUS=`.
pub(crate) fn notify_automatic(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
    systemd.write("/etc/hello/notify.toml", "[daemon]\n");
    systemd.install_unit(
        "hello-notify.service",
        &format!(
            "[Service]\nType=notify\nTimeoutSec=20\nExecStart={BIN_DIR}/hello \
             --pid-file /run/hello-notify.pid --config /etc/hello/notify.toml\n"
        ),
    );
    systemd.systemctl_ok(&["start", "hello-notify"]);
    assert_eq!(systemd.show("hello-notify", "ActiveState"), "active");
    assert_eq!(systemd.show("hello-notify", "SubState"), "running");
    let pid = systemd.main_pid("hello-notify").expect("a main pid");
    assert_eq!(
        systemd.read("/run/hello-notify.pid"),
        Some(format!("{pid}\n"))
    );
    follow_unit(
        systemd,
        "hello-notify",
        &format!("hello started (pid {pid})"),
    );

    // hello sends `STATUS=serving, tick N` before it logs `tick N`. Once the journal has
    // the line, the datagram is in systemd's notify socket, which PID 1 serves before
    // D-Bus (a higher sd-event priority): the `systemctl status` below sees the status.
    follow_unit(systemd, "hello-notify", "tick 2");
    let status = text(&systemd.systemctl(&["status", "hello-notify"]).stdout);
    assert!(
        status.contains("Status: \"serving, tick "),
        "no STATUS= in systemctl status:\n{status}"
    );

    stop_cleanly(systemd, "hello-notify", "/run/hello-notify.pid");
    follow_unit(systemd, "hello-notify", "hello stopping after");
    Ok(())
}

/// `Type=notify` with manual readiness: the tokio example reports ready after its first
/// timer tick, and sends that tick as its status first, on the same socket. systemd
/// handles a socket's datagrams in order, so once `systemctl start` returned (the
/// `READY=1` was handled), the status is there. Readiness sent before the body ran
/// would let `start` return about 200 ms before the first tick.
pub(crate) fn notify_manual(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
    systemd.install_unit(
        "tokio-notify.service",
        &format!(
            "[Service]\nType=notify\nTimeoutSec=20\n\
             ExecStart={BIN_DIR}/tokio_outer --pid-file /run/tokio-notify.pid\n"
        ),
    );
    systemd.systemctl_ok(&["start", "tokio-notify"]);
    let status = systemd.show("tokio-notify", "StatusText");
    assert!(
        status.starts_with("tokio_outer: tick "),
        "StatusText={status:?} when start returned"
    );
    follow_unit(systemd, "tokio-notify", "tokio_outer: tick 1");
    stop_cleanly(systemd, "tokio-notify", "/run/tokio-notify.pid");
    follow_unit(systemd, "tokio-notify", "tokio_outer: stopping after");
    Ok(())
}

/// `Type=notify` with `--daemon` (`NotifyAccess=main`, the default): the launcher tells
/// systemd the daemon's pid and its readiness, so the daemon becomes the main process,
/// which `systemctl stop` stops.
pub(crate) fn notify_daemon(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
    systemd.install_unit(
        "hello-notify-daemon.service",
        &format!(
            "[Service]\nType=notify\nTimeoutSec=20\nExecStart={BIN_DIR}/hello --daemon \
             --pid-file /run/hello-notify-daemon.pid --config /etc/hello/notify.toml\n"
        ),
    );
    systemd.write("/etc/hello/notify.toml", "[daemon]\n");
    systemd.systemctl_ok(&["start", "hello-notify-daemon"]);
    assert_active(systemd, "hello-notify-daemon");
    let pid = systemd.main_pid("hello-notify-daemon").expect("a main pid");
    assert_eq!(
        systemd.read("/run/hello-notify-daemon.pid"),
        Some(format!("{pid}\n")),
        "the main pid is not the daemon's"
    );
    follow_unit(
        systemd,
        "hello-notify-daemon",
        &format!("hello started (pid {pid})"),
    );
    stop_cleanly(
        systemd,
        "hello-notify-daemon",
        "/run/hello-notify-daemon.pid",
    );
    follow_unit(systemd, "hello-notify-daemon", "hello stopping after");
    Ok(())
}

/// A reload that systemd itself sees. Debian's 252 has no `Type=notify-reload`; there,
/// `RELOADING=1` from a running `Type=notify` service still moves the unit to `reload`
/// until the `READY=1` that follows, which PID 1 logs at debug level. SIGHUP comes from
/// `systemctl kill`, not an `ExecReload=` (during which 252 ignores the two). The
/// printed unit's `ExecReload=` is run in `print_service`; the messages themselves,
/// `MONOTONIC_USEC=` included, are checked on a socket of the test's own in
/// `tests/hello.rs`.
pub(crate) fn reload_seen(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
    systemd.install_unit(
        "hello-reload.service",
        &format!(
            "[Service]\nType=notify\nTimeoutSec=20\nExecStart={BIN_DIR}/hello \
             --pid-file /run/hello-reload.pid --config /etc/hello/notify.toml\n"
        ),
    );
    systemd.write("/etc/hello/notify.toml", "[daemon]\n");
    systemd.systemctl_ok(&["start", "hello-reload"]);
    // Logged once hello's reload hook is in place (the runtime's handler was before
    // READY=1): the SIGHUP finds both.
    follow_unit(systemd, "hello-reload", "hello started");
    let debug = DebugLog::enable(systemd);
    systemd.systemctl_ok(&["kill", "--kill-who=main", "-s", "HUP", "hello-reload"]);
    let lines = follow_unit(systemd, "hello-reload", "Changed reload -> running");
    drop(debug);
    let entered = lines
        .iter()
        .position(|l| l.contains("Changed running -> reload"));
    assert!(
        entered.is_some(),
        "no reload state before running: {lines:?}"
    );
    follow_unit(systemd, "hello-reload", "reloaded: log file reopened");
    assert_eq!(systemd.show("hello-reload", "ActiveState"), "active");
    stop_cleanly(systemd, "hello-reload", "/run/hello-reload.pid");
    Ok(())
}

/// PID 1 logs at debug level while it lives; then at the level it had.
struct DebugLog<'a> {
    systemd: &'a Systemd,
    before: String,
}

impl DebugLog<'_> {
    fn enable(systemd: &Systemd) -> DebugLog<'_> {
        let level = systemd.exec(&["systemd-analyze", "log-level"]);
        check(&level, "systemd-analyze log-level");
        let before = text(&level.stdout).trim().to_owned();
        check(
            &systemd.exec(&["systemd-analyze", "log-level", "debug"]),
            "systemd-analyze log-level debug",
        );
        DebugLog { systemd, before }
    }
}

impl Drop for DebugLog<'_> {
    fn drop(&mut self) {
        let _ = self
            .systemd
            .exec(&["systemd-analyze", "log-level", &self.before]);
    }
}

/// `WatchdogSec=1` and hello feeding it from its loop (`--watchdog manual`: no
/// keep-alive thread, so the feeds are hello's own). What is under test is time: the
/// unit must outlive several watchdog intervals. hello's ticks (two per interval) are
/// the clock, read from the journal; then systemd has restarted nothing and logged no
/// watchdog timeout.
pub(crate) fn watchdog_fed(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
    systemd.install_unit(
        "hello-watchdog.service",
        &format!(
            "[Service]\nType=notify\nTimeoutSec=20\nWatchdogSec=1\nRestart=on-failure\n\
             ExecStart={BIN_DIR}/hello --watchdog manual \
             --pid-file /run/hello-watchdog.pid --config /etc/hello/notify.toml\n"
        ),
    );
    systemd.write("/etc/hello/notify.toml", "[daemon]\n");
    systemd.systemctl_ok(&["start", "hello-watchdog"]);
    let pid = systemd.main_pid("hello-watchdog");
    assert_eq!(systemd.show("hello-watchdog", "WatchdogUSec"), "1s");
    // Eight ticks of half a second: four watchdog intervals.
    let lines = follow_unit(systemd, "hello-watchdog", "tick 8 ");
    assert!(
        !lines.iter().any(|l| l.contains("Watchdog timeout")),
        "{lines:?}"
    );
    assert_eq!(systemd.show("hello-watchdog", "NRestarts"), "0");
    assert_eq!(systemd.main_pid("hello-watchdog"), pid);
    assert_eq!(systemd.show("hello-watchdog", "ActiveState"), "active");
    stop_cleanly(systemd, "hello-watchdog", "/run/hello-watchdog.pid");
    Ok(())
}

/// `WatchdogSec=1` and a program that stops feeding it (`hang --hang-after 2`): systemd
/// kills it with SIGABRT, the result is `watchdog`, and `Restart=on-failure` starts it
/// again. All of it read from systemd's own messages in the journal.
pub(crate) fn watchdog_hung(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
    systemd.install_unit(
        "hang-watchdog.service",
        &format!(
            "[Service]\nType=notify\nTimeoutSec=20\nWatchdogSec=1\n\
             Restart=on-failure\nRestartSec=100ms\n\
             ExecStart={BIN_DIR}/hang --hang-after 2 --pid-file /run/hang-watchdog.pid\n"
        ),
    );
    systemd.systemctl_ok(&["start", "hang-watchdog"]);
    let first = systemd.main_pid("hang-watchdog").expect("a main pid");
    let lines = follow_unit(
        systemd,
        "hang-watchdog",
        "Scheduled restart job, restart counter is at 1",
    );
    let in_order = [
        "stuck after 2 rounds",
        "Watchdog timeout (limit 1s)!",
        "status=6/ABRT",
        "Failed with result 'watchdog'",
    ];
    let mut at = 0;
    for expected in in_order {
        at += lines[at..]
            .iter()
            .position(|l| l.contains(expected))
            .unwrap_or_else(|| panic!("no {expected:?} (in order) in {lines:#?}"));
    }
    assert_ne!(systemd.show("hang-watchdog", "NRestarts"), "0");
    // Joins the restart job: returns once the new instance is up (it hangs a second
    // later, by which time the checks are done).
    systemd.systemctl_ok(&["start", "hang-watchdog"]);
    let second = systemd.main_pid("hang-watchdog");
    assert!(
        second.is_some_and(|pid| pid != first),
        "not restarted: {second:?}"
    );
    systemd.systemctl_ok(&["stop", "hang-watchdog"]);
    Ok(())
}

/// Sends `line` to 127.0.0.1:`port` inside the container (its own network) and returns
/// the line that comes back, with bash's `/dev/tcp`.
fn echo_in_container(systemd: &Systemd, port: u16, line: &str) -> String {
    let script =
        format!("exec 3<>/dev/tcp/127.0.0.1/{port} && printf '%s\\n' \"$0\" >&3 && head -n 1 <&3");
    let output = systemd.exec(&["bash", "-c", &script, line]);
    check(&output, &format!("the echo client on port {port}"));
    text(&output.stdout).trim_end().to_owned()
}

/// A `.socket` unit on `port` named `echo`, for `name.service`, whose `[Service]`
/// section is `service`. Only the socket is started: the first connection starts the
/// service, which must answer on the passed socket (its `--listen` cannot be bound).
fn socket_activated(systemd: &Systemd, name: &str, port: u16, service: &str) {
    systemd.install_unit(
        &format!("{name}.socket"),
        &format!("[Socket]\nListenStream=127.0.0.1:{port}\nFileDescriptorName=echo\n"),
    );
    systemd.install_unit(&format!("{name}.service"), &format!("[Service]\n{service}"));
    systemd.systemctl_ok(&["start", &format!("{name}.socket")]);
    assert_eq!(
        systemd.show(&format!("{name}.service"), "ActiveState"),
        "inactive"
    );
    assert_eq!(echo_in_container(systemd, port, "ping"), "ping");
    let unit = format!("{name}.service");
    follow_unit(
        systemd,
        &unit,
        &format!("listening on 127.0.0.1:{port} (the socket systemd passed)"),
    );
    assert_eq!(systemd.show(&unit, "ActiveState"), "active");
    assert_eq!(echo_in_container(systemd, port, "again"), "again");
    systemd.systemctl_ok(&["stop", &unit, &format!("{name}.socket")]);
    assert_eq!(systemd.show(&unit, "Result"), "success");
}

/// Socket activation, echod in the foreground under `Type=notify`.
pub(crate) fn socket_foreground(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
    socket_activated(
        systemd,
        "echod-fg",
        7101,
        &format!(
            "Type=notify\nTimeoutSec=20\nExecStart={BIN_DIR}/echod --listen {UNBINDABLE} \
             --pid-file /run/echod-fg.pid\n"
        ),
    );
    Ok(())
}

/// Socket activation, `echod --daemon` under `Type=forking`: the socket passed to the
/// launcher is the daemon's after the fork.
pub(crate) fn socket_forking(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
    socket_activated(
        systemd,
        "echod-forking",
        7102,
        &format!(
            "Type=forking\nPIDFile=/run/echod-forking.pid\nTimeoutSec=20\n\
             ExecStart={BIN_DIR}/echod --daemon --listen {UNBINDABLE} \
             --pid-file /run/echod-forking.pid\n"
        ),
    );
    Ok(())
}

/// Socket activation, `echod --daemon` under `Type=notify`.
pub(crate) fn socket_notify_daemon(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
    socket_activated(
        systemd,
        "echod-notify",
        7103,
        &format!(
            "Type=notify\nTimeoutSec=20\nExecStart={BIN_DIR}/echod --daemon \
             --listen {UNBINDABLE} --pid-file /run/echod-notify.pid\n"
        ),
    );
    Ok(())
}

/// `binary --print-service kind` run inside the container, as an administrator would
/// (a clean environment), installed as `unit` as it is.
fn install_printed(systemd: &Systemd, binary: &str, kind: &str, unit: &str) -> String {
    let printed = systemd.exec(&[
        "env",
        "-i",
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        &format!("{BIN_DIR}/{binary}"),
        "--print-service",
        kind,
    ]);
    check(&printed, &format!("{binary} --print-service {kind}"));
    let contents = text(&printed.stdout);
    systemd.install_unit(unit, &contents);
    contents
}

/// Where a printed unit sends standard error, which the `stderr` setting named (the
/// examples' `state_path(..)`): the foreground logger writes there.
fn stderr_file(unit: &str) -> String {
    unit.lines()
        .find_map(|l| l.strip_prefix("StandardError=append:"))
        .unwrap_or_else(|| panic!("no StandardError= in the unit:\n{unit}"))
        .to_owned()
}

/// The unit `hello --print-service systemd` prints, started as it is: ready, PID file
/// in its `RuntimeDirectory=`, `systemctl reload` through its `ExecReload=`, stopped.
pub(crate) fn print_service(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
    let unit = install_printed(systemd, "hello", "systemd", "hello.service");
    let log = stderr_file(&unit);
    systemd.systemctl_ok(&["start", "hello"]);
    assert_eq!(systemd.show("hello", "ActiveState"), "active");
    let pid = systemd.main_pid("hello").expect("a main pid");
    assert_eq!(
        systemd.read("/run/hello/hello.pid"),
        Some(format!("{pid}\n"))
    );
    systemd.wait_for_text(&log, &format!("hello started (pid {pid})"));
    systemd.systemctl_ok(&["reload", "hello"]);
    systemd.wait_for_text(&log, "reloaded: log file reopened");
    assert_eq!(systemd.main_pid("hello"), Some(pid), "reload restarted it");
    stop_cleanly(systemd, "hello", "/run/hello/hello.pid");
    Ok(())
}

/// The units `echod --print-service systemd-socket=echo=ADDR` and
/// `systemd-activated` print, installed as they are: the socket starts echod, which
/// serves on it.
pub(crate) fn print_socket(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
    install_printed(
        systemd,
        "echod",
        "systemd-socket=echo=127.0.0.1:7104",
        "echod.socket",
    );
    let unit = install_printed(systemd, "echod", "systemd-activated", "echod.service");
    systemd.systemctl_ok(&["start", "echod.socket"]);
    assert_eq!(echo_in_container(systemd, 7104, "printed"), "printed");
    systemd.wait_for_text(
        &stderr_file(&unit),
        "listening on 127.0.0.1:7104 (the socket systemd passed)",
    );
    systemd.systemctl_ok(&["stop", "echod.service", "echod.socket"]);
    assert_eq!(systemd.show("echod.service", "Result"), "success");
    Ok(())
}

/// The journal keeps a record's level: `hang` logs an error when it gets stuck, which
/// `journalctl -t hang -p err` shows with `PRIORITY=3`, hang's identifier and pid, and
/// without the info records before it.
pub(crate) fn journal_priority(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
    systemd.install_unit(
        "hang-journal.service",
        &format!(
            "[Service]\nType=notify\nTimeoutSec=20\n\
             ExecStart={BIN_DIR}/hang --hang-after 2 --pid-file /run/hang-journal.pid\n"
        ),
    );
    systemd.systemctl_ok(&["start", "hang-journal"]);
    let pid = systemd.main_pid("hang-journal").expect("a main pid");
    let pid_match = format!("_PID={pid}");
    let filter = ["-n", "all", "-t", "hang", "-p", "err", pid_match.as_str()];
    let seen = systemd.follow_journal(
        &[&filter[..], &["-o", "cat"]].concat(),
        "stuck after 2 rounds",
    );
    assert_eq!(seen.len(), 1, "not only the error: {seen:?}");

    let exported = systemd.journal(&[&filter[..], &["-o", "export"]].concat());
    let entry = exported
        .split("\n\n")
        .find(|e| e.contains("stuck after 2 rounds"))
        .unwrap_or_else(|| panic!("no entry in {exported}"));
    let fields: Vec<&str> = entry.lines().collect();
    for expected in [
        "PRIORITY=3".to_owned(),
        "SYSLOG_IDENTIFIER=hang".to_owned(),
        format!("SYSLOG_PID={pid}"),
        "TARGET=hang".to_owned(),
    ] {
        assert!(
            fields.contains(&expected.as_str()),
            "no {expected} in\n{entry}"
        );
    }
    systemd.systemctl_ok(&["stop", "hang-journal"]);
    Ok(())
}

/// The journal inside the container works: what the logger's journal target needs.
pub(crate) fn journald_systemd_cat(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
    let message = format!("journal check {}", std::process::id());
    let sent = systemd.exec(&[
        "systemd-cat",
        "-t",
        "hello-test",
        "-p",
        "err",
        "echo",
        &message,
    ]);
    check(&sent, "systemd-cat");
    let lines = systemd.follow_journal(&["-t", "hello-test", "-p", "err", "-o", "cat"], &message);
    assert_eq!(lines.last(), Some(&message));
    Ok(())
}
