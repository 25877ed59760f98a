//! The runtime's logger through a real daemon (issue 11, items 2, 3 and 6): `logbot`, a
//! program made with `#[daemonize]`, logs on request, and each test looks where the
//! records must land: a private rsyslogd, a log file renamed as logrotate does, a
//! syslog socket nobody reads, a log file on a full tmpfs. The journal is tested under
//! real systemd with the service managers.
//!
//! Nothing sleeps. logbot rewrites a report file (`--done`) once it has logged what it
//! was asked to, and again after each reload: a test that sees the report can read the
//! log file or the socket at once. rsyslogd's output and the report are waited for
//! with inotify, within a deadline.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use daemon_tests::managers::rsyslog::Rsyslog;
use daemon_tests::managers::{Context, Manager, mounts_below, wait_for_text};
use daemon_tests::{
    Killer, ProcInfo, Scratch, expect_code, is_alive, require_root, run, send_signal, skipped,
    text, wait_exit,
};

/// How long a test waits for a record or a report.
const WAIT: Duration = Duration::from_secs(30);

/// logbot with its PID file in `scratch` (the path in its command line lets `Scratch`
/// find strays), without the variables the tests set themselves: neither the
/// developer's shell nor a systemd unit running the tests chooses the target or the
/// filter.
fn logbot(scratch: &Scratch) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_logbot"));
    cmd.arg("--pid-file").arg(pid_file(scratch));
    for var in ["RUST_LOG", "JOURNAL_STREAM", "NOTIFY_SOCKET", "NO_COLOR"] {
        cmd.env_remove(var);
    }
    cmd
}

fn pid_file(scratch: &Scratch) -> PathBuf {
    scratch.join("logbot.pid")
}

/// What logbot reported in its `--done` file.
#[derive(Debug)]
struct Report {
    pid: u32,
    /// The logger's count of dropped records not yet reported.
    dropped: u64,
}

impl Report {
    fn parse(line: &str) -> Report {
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or_else(|| panic!("no {name} in the report {line:?}"))
        };
        Report {
            pid: field("pid") as u32,
            dropped: field("dropped"),
        }
    }
}

/// Waits until logbot reported after `reloads` reloads.
fn wait_report(done: &Path, reloads: u64) -> Report {
    let needle = format!("reloads={reloads}\n");
    let report = wait_for_text(done, &needle, WAIT).unwrap_or_else(|so_far| {
        panic!("logbot did not report `{needle}` within {WAIT:?}; the report is {so_far:?}")
    });
    Report::parse(&report)
}

/// A logbot that started and reported; killed when dropped.
struct Bot {
    report: Report,
    launcher: Output,
    _killer: Killer,
}

/// Runs `cmd` (a detaching logbot with `--done done`), expects the launcher to exit 0,
/// and waits for the daemon's first report.
fn start(cmd: &mut Command, done: &Path) -> Bot {
    let launcher = run(cmd.arg("--done").arg(done));
    expect_code(&launcher, 0);
    let report = wait_report(done, 0);
    Bot {
        _killer: Killer::new(report.pid),
        report,
        launcher,
    }
}

/// `logbot --reload`: SIGHUP to the daemon the PID file names.
fn reload(scratch: &Scratch) {
    let out = run(logbot(scratch).arg("--reload"));
    expect_code(&out, 0);
}

/// Waits until the daemon that ends by itself (an error, a panic) is gone, and checks
/// that it removed its PID file on the way out.
fn wait_gone(scratch: &Scratch, pid: u32) {
    assert!(wait_exit(pid, WAIT), "logbot {pid} is still running");
    assert!(!pid_file(scratch).exists(), "the PID file was left behind");
}

/// The lines of a `file` target log without their timestamps, each checked to start
/// with one (`2026-12-02T17:00:00.123Z `); continuation lines (indented) as they are.
fn untimed_lines(log: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for line in log.lines() {
        if line.starts_with("  ") {
            lines.push(line.to_owned());
            continue;
        }
        let (stamp, rest) = line
            .split_once(' ')
            .unwrap_or_else(|| panic!("not a log line: {line:?}"));
        assert!(is_timestamp(stamp), "no timestamp in {line:?}");
        lines.push(rest.to_owned());
    }
    lines
}

/// Whether `s` is RFC 3339 UTC with milliseconds: `2026-12-02T17:00:00.123Z`.
fn is_timestamp(s: &str) -> bool {
    let shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    s.len() == shape.len()
        && s.chars().zip(shape.chars()).all(|(c, want)| match want {
            'd' => c.is_ascii_digit(),
            _ => c == want,
        })
}

/// The time now in UTC, to the second, as `2026-12-02T17:00:00`: from date(1), not from
/// the runtime's own conversion.
fn utc_now() -> String {
    let out = run(Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%S"]));
    expect_code(&out, 0);
    text(&out.stdout).trim().to_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A private rsyslogd (the harness's), with the scratch directory it lives in.
struct Syslogd {
    rsyslog: Rsyslog,
    // After `rsyslog`: dropped last, once rsyslogd is stopped.
    _ctx: Context,
}

/// Starts one, or says why `test` is skipped.
fn syslogd(test: &str) -> Option<Syslogd> {
    let ctx = Context::new(&[]).expect("create the scratch directory");
    match Rsyslog::start(&ctx) {
        Ok(rsyslog) => Some(Syslogd { rsyslog, _ctx: ctx }),
        Err(why) => {
            skipped(test, &why.to_string());
            None
        }
    }
}

// 1. syslog: facility daemon, the program's name as the tag, the pid, the priority.

#[test]
fn syslog_records_reach_rsyslog_with_facility_tag_pid_and_priority() {
    let Some(syslogd) = syslogd("syslog_records_reach_rsyslog_with_facility_tag_pid_and_priority")
    else {
        return;
    };
    let rsyslog = &syslogd.rsyslog;
    let scratch = Scratch::new("log-syslog");
    let bot = start(
        logbot(&scratch)
            .args(["--daemon", "--log-target", "syslog", "--syslog-socket"])
            .arg(rsyslog.socket())
            .args(["--record", "debug logbot below the default level"])
            .args(["--record", "warn logbot disk almost full"])
            .args(["--record", "error logbot::db query failed"])
            .arg("--record")
            .arg(format!("info logbot {}", "x".repeat(LONG)))
            .args(["--record", "info logbot first\nsecond"]),
        &scratch.join("done"),
    );
    let pid = bot.report.pid;
    // In the order sent: once the last is there, the others are.
    rsyslog.wait_for("first#012second");
    let mut lines: Vec<String> = rsyslog.output().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 4, "{lines:#?}");
    let long = lines.remove(2);
    assert_eq!(
        lines,
        [
            format!("daemon.warning logbot[{pid}]: disk almost full"),
            format!("daemon.err logbot[{pid}]: query failed"),
            format!("daemon.info logbot[{pid}]: first#012second"),
        ]
    );
    assert_cut_by_the_logger(&long, &format!("daemon.info logbot[{pid}]: "));
    assert_eq!(
        text(&bot.launcher.stderr),
        "",
        "the launcher said something"
    );
}

/// The length of a message longer than a syslog datagram may be.
const LONG: usize = 10_000;

/// `line` is `prefix`, then as many `x` as fit, then the logger's own marker saying how
/// many bytes it cut (rsyslogd took the whole datagram and cut nothing itself).
fn assert_cut_by_the_logger(line: &str, prefix: &str) {
    let rest = line
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{line:.100}"));
    let kept = rest.bytes().take_while(|&b| b == b'x').count();
    assert_eq!(
        &rest[kept..],
        format!(" [truncated {} bytes]", LONG - kept),
        "{prefix}"
    );
    assert!(kept > 4096, "only {kept} bytes kept");
}

#[test]
fn auto_sends_a_detached_daemon_without_a_log_file_to_syslog() {
    let Some(syslogd) = syslogd("auto_sends_a_detached_daemon_without_a_log_file_to_syslog") else {
        return;
    };
    let rsyslog = &syslogd.rsyslog;
    let scratch = Scratch::new("log-auto");
    let bot = start(
        logbot(&scratch)
            .args(["--daemon", "--syslog-socket"])
            .arg(rsyslog.socket())
            .args(["--record", "warn logbot chosen by auto"]),
        &scratch.join("done"),
    );
    let line = rsyslog.wait_for("chosen by auto");
    let pid = bot.report.pid;
    assert_eq!(
        line,
        format!("daemon.warning logbot[{pid}]: chosen by auto")
    );
    assert_eq!(text(&bot.launcher.stderr), "", "the launcher warned");
}

// 2. auto with a syslog that does not answer: one warning, the start succeeds.

#[test]
fn auto_with_an_unreachable_syslog_warns_once_and_falls_back() {
    let scratch = Scratch::new("log-nosyslog");
    let socket = scratch.join("nobody-listens.sock");
    let done = scratch.join("done");
    let bot = start(
        logbot(&scratch)
            .args(["--daemon", "--reload-log", "--syslog-socket"])
            .arg(&socket)
            .args(["--record", "warn logbot into the void"]),
        &done,
    );
    assert_eq!(
        text(&bot.launcher.stderr),
        format!(
            "logbot: warning: cannot reach syslog at {}: No such file or directory (os error \
             2); logging to standard error instead, which a detached daemon without a stderr \
             log file sends to /dev/null\n",
            socket.display()
        )
    );
    let pid = bot.report.pid;
    let info = ProcInfo::read(pid).expect("the daemon runs");
    assert_eq!(info.fd(2), Some("/dev/null"));
    // The choice was made at start: a syslog that appears later gets nothing.
    let late = UnixDatagram::bind(&socket).expect("bind the late syslog socket");
    late.set_nonblocking(true).unwrap();
    reload(&scratch);
    wait_report(&done, 1);
    let mut buf = [0; 1024];
    let got = late.recv(&mut buf);
    assert!(
        matches!(&got, Err(e) if e.kind() == io::ErrorKind::WouldBlock),
        "the daemon switched to syslog: {got:?}"
    );
}

/// A forced `syslog` target has no fallback: a syslog that does not answer at start is a
/// warning on the terminal, and one that comes up later is used.
#[test]
fn a_forced_syslog_that_does_not_answer_is_a_warning_and_used_once_it_answers() {
    let scratch = Scratch::new("log-late-syslog");
    let socket = scratch.join("late.sock");
    let done = scratch.join("done");
    let bot = start(
        logbot(&scratch)
            .args(["--daemon", "--log-target", "syslog", "--reload-log"])
            .args(["--record", "warn logbot before syslog", "--syslog-socket"])
            .arg(&socket),
        &done,
    );
    assert_eq!(
        text(&bot.launcher.stderr),
        format!(
            "logbot: warning: cannot reach syslog at {}: No such file or directory (os error \
             2); its records are dropped until it can be reached\n",
            socket.display()
        )
    );
    let Report { pid, dropped } = bot.report;
    assert!(dropped >= 1, "the record was not counted: {dropped}");
    let peer = UnixDatagram::bind(&socket).expect("bind the syslog socket");
    let (reloads, received) = reload_until_received(pid, &done, &peer);
    assert_eq!(
        received,
        [
            format!(
                "<28>logbot[{pid}]: {} log records dropped",
                dropped + reloads - 1
            ),
            format!("<30>logbot[{pid}]: reloaded {reloads}"),
        ]
    );
}

#[test]
fn a_forced_syslog_that_does_not_answer_is_a_warning_in_the_foreground() {
    let scratch = Scratch::new("log-no-syslog-fg");
    let socket = scratch.join("nobody-listens.sock");
    let out = run(logbot(&scratch)
        .args(["--log-target", "syslog", "--exit", "--syslog-socket"])
        .arg(&socket)
        .args(["--record", "warn logbot lost"]));
    expect_code(&out, 0);
    assert_eq!(
        text(&out.stderr),
        format!(
            "logbot: warning: cannot reach syslog at {}: No such file or directory (os error \
             2); its records are dropped until it can be reached\n",
            socket.display()
        )
    );
}

/// rsyslogd restarting: its socket goes, a new one is bound at the same path. The
/// logger reconnects and says how many records it could not send.
///
/// The old peer is a real rsyslogd, reached through a symbolic link that the "restart"
/// points at the new socket: a socket of the test's own would not die when dropped if
/// another test forked at that moment (the child holds a copy until it execs), and a
/// record sent to it would be neither received nor counted.
#[test]
fn a_syslog_that_restarts_is_reconnected_and_told_what_was_lost() {
    let Some(old) = syslogd("a_syslog_that_restarts_is_reconnected_and_told_what_was_lost") else {
        return;
    };
    let scratch = Scratch::new("log-restart");
    let socket = scratch.join("syslog.sock");
    std::os::unix::fs::symlink(old.rsyslog.socket(), &socket).expect("link to rsyslogd");
    let done = scratch.join("done");
    let bot = start(
        logbot(&scratch)
            .args(["--daemon", "--log-target", "syslog", "--reload-log"])
            .args(["--record", "warn logbot before the restart"])
            .arg("--syslog-socket")
            .arg(&socket),
        &done,
    );
    let pid = bot.report.pid;
    let line = old.rsyslog.wait_for("before the restart");
    assert_eq!(
        line,
        format!("daemon.warning logbot[{pid}]: before the restart")
    );

    // Stopped, and waited for: its socket is closed.
    drop(old);
    let new = scratch.join("new.sock");
    let peer = UnixDatagram::bind(&new).expect("bind the new socket");
    let link = scratch.join("syslog.sock.new");
    std::os::unix::fs::symlink(&new, &link).expect("link to the new socket");
    std::fs::rename(&link, &socket).expect("point the path at the new socket");
    let (reloads, received) = reload_until_received(pid, &done, &peer);
    // The first record after the restart finds the old peer gone and cannot go.
    assert!(reloads >= 2, "reconnected without noticing the restart");
    assert_eq!(
        received,
        [
            format!("<28>logbot[{pid}]: {} log records dropped", reloads - 1),
            format!("<30>logbot[{pid}]: reloaded {reloads}"),
        ]
    );
}

/// Sends SIGHUP until a record reaches `peer` (each reload logs one; the logger retries
/// a lost socket at most once a second, on a record); returns the number of reloads and
/// what arrived.
fn reload_until_received(pid: u32, done: &Path, peer: &UnixDatagram) -> (u64, Vec<String>) {
    let deadline = Instant::now() + WAIT;
    let mut reloads = 0;
    loop {
        reloads += 1;
        send_signal(pid, libc::SIGHUP);
        wait_report(done, reloads);
        let received = drain(peer);
        if !received.is_empty() {
            return (reloads, received);
        }
        assert!(
            Instant::now() < deadline,
            "nothing reached the socket after {reloads} reloads"
        );
    }
}

// 3. The file target: timestamped lines, following logrotate's rename and SIGHUP.

#[test]
fn file_target_writes_timestamped_lines_and_follows_a_rename_and_sighup() {
    let scratch = Scratch::new("log-rotate");
    let log = scratch.join("logbot.log");
    let rotated = scratch.join("logbot.log.1");
    let done = scratch.join("done");
    let before = utc_now();
    let bot = start(
        logbot(&scratch)
            .args([
                "--daemon",
                "--log-target",
                "file",
                "--reload-log",
                "--stderr",
            ])
            .arg(&log)
            .args(["--record", "warn logbot::disk almost full"])
            .args(["--record", "info logbot first\nsecond"]),
        &done,
    );
    let after = utc_now();
    let first = read(&log);
    assert_eq!(
        untimed_lines(&first),
        [
            "WARN logbot::disk: almost full",
            "INFO logbot: first",
            "  second"
        ]
    );
    // The time of the record, by date(1)'s reckoning.
    let stamp = &first[..before.len()];
    assert!(
        before.as_str() <= stamp && stamp <= after.as_str(),
        "{before} {first} {after}"
    );
    assert_eq!(text(&bot.launcher.stderr), "");

    // logrotate: rename, then signal. The reload hook's record comes after the reopen.
    std::fs::rename(&log, &rotated).expect("rotate the log");
    reload(&scratch);
    wait_report(&done, 1);
    assert_eq!(untimed_lines(&read(&log)), ["INFO logbot: reloaded 1"]);
    let old = read(&rotated);
    assert!(
        !old.contains("reloaded"),
        "written to the rotated file: {old}"
    );

    reload(&scratch);
    wait_report(&done, 2);
    assert_eq!(
        untimed_lines(&read(&log)),
        ["INFO logbot: reloaded 1", "INFO logbot: reloaded 2"]
    );
    assert_eq!(read(&rotated), old, "the rotated file changed");
}

/// The daemon's records, the runtime's debug lines of its first steps among them, go to
/// the log file: none reach the launcher's standard error (the terminal it came from) in
/// the log file's format.
#[test]
fn the_daemon_logs_nothing_to_the_launchers_stderr() {
    let scratch = Scratch::new("log-leak");
    let log = scratch.join("logbot.log");
    let bot = start(
        logbot(&scratch)
            .env("RUST_LOG", "debug")
            .args(["--daemon", "--stderr"])
            .arg(&log),
        &scratch.join("done"),
    );
    let stderr = text(&bot.launcher.stderr);
    let from_daemon: Vec<&str> = stderr
        .lines()
        .filter(|line| line.split(' ').next().is_some_and(is_timestamp))
        .collect();
    assert!(
        from_daemon.is_empty(),
        "the daemon wrote on the launcher's stderr:\n{}\nthe log:\n{}",
        from_daemon.join("\n"),
        read(&log)
    );
    let lines = untimed_lines(&read(&log));
    assert!(
        lines.contains(&"DEBUG daemon_runtime::plan: working directory is /".to_owned()),
        "{lines:#?}"
    );
}

// 4. A syslog socket nobody reads: records are dropped and counted, the daemon goes on.

#[test]
fn a_syslog_socket_nobody_reads_never_blocks_the_daemon() {
    const FLOOD: u64 = 20_000;
    let scratch = Scratch::new("log-stall");
    let socket = scratch.join("stalled.sock");
    // Bound, and not read until the daemon reported: its queue fills at once.
    let reader = UnixDatagram::bind(&socket).expect("bind the stalled socket");
    let done = scratch.join("done");
    // The report comes after the flood: a logger that waits for the reader never sends it.
    let bot = start(
        logbot(&scratch)
            .args(["--daemon", "--log-target", "syslog", "--reload-log"])
            .args(["--flood", &FLOOD.to_string(), "--syslog-socket"])
            .arg(&socket),
        &done,
    );
    let Report { pid, dropped } = bot.report;
    let queued = drain(&reader);
    // The queue took the first records; every one after it filled was dropped.
    let expected: Vec<String> = (1..=queued.len())
        .map(|i| format!("<30>logbot[{pid}]: flood record {i} of {FLOOD}"))
        .collect();
    assert_eq!(queued, expected);
    assert_eq!(dropped, FLOOD - queued.len() as u64, "the drop count");

    // The next record that gets through is preceded by the count.
    reload(&scratch);
    wait_report(&done, 1);
    assert_eq!(
        drain(&reader),
        [
            format!("<28>logbot[{pid}]: {dropped} log records dropped"),
            format!("<30>logbot[{pid}]: reloaded 1"),
        ]
    );
}

/// Every datagram waiting on `socket`, without waiting for more.
fn drain(socket: &UnixDatagram) -> Vec<String> {
    socket.set_nonblocking(true).expect("O_NONBLOCK");
    let mut datagrams = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        match socket.recv(&mut buf) {
            Ok(n) => datagrams.push(String::from_utf8_lossy(&buf[..n]).into_owned()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return datagrams,
            Err(e) => panic!("recv: {e}"),
        }
    }
}

// 5. Nothing is lost: an error returned after start, a panic, a start-up failure.

/// The arguments that make logbot's body return an error with a chain of two causes.
const FAIL: [&str; 6] = [
    "--fail",
    "no usable configuration",
    "--cause",
    "cannot read /etc/logbot.toml",
    "--cause",
    "permission denied",
];

/// How the runtime writes that error: `Display`, then each `source()`.
const FAIL_CHAIN: &str = "no usable configuration: cannot read /etc/logbot.toml: permission denied";

#[test]
fn a_panic_after_start_is_in_the_log_file_with_its_location() {
    let scratch = Scratch::new("log-panic-file");
    let log = scratch.join("logbot.log");
    let done = scratch.join("done");
    let launcher = run(logbot(&scratch)
        .args(["--daemon", "--stderr"])
        .arg(&log)
        .arg("--done")
        .arg(&done)
        .args(["--panic", "the flux capacitor broke"]));
    expect_code(&launcher, 0);
    let pid = wait_report(&done, 0).pid;
    let content = wait_for_text(&log, "the flux capacitor broke\n", WAIT)
        .unwrap_or_else(|so_far| panic!("no panic in the log: {so_far}"));
    let crit = content
        .lines()
        .find(|line| line.contains(" CRIT "))
        .unwrap_or_else(|| panic!("no CRIT record in the log: {content}"));
    let record = untimed_lines(crit).remove(0);
    assert_panic_record(&record, "CRIT panic: ");
    wait_gone(&scratch, pid);
}

/// `record` is `<prefix>panicked at tests/src/bin/logbot.rs:LINE:COLUMN: <message>`.
fn assert_panic_record(record: &str, prefix: &str) {
    let location = record
        .strip_prefix(prefix)
        .and_then(|r| r.strip_prefix("panicked at "))
        .and_then(|r| r.strip_suffix(": the flux capacitor broke"))
        .unwrap_or_else(|| panic!("not a panic record: {record:?}"));
    let (file, line_column) = location
        .split_once(".rs:")
        .unwrap_or_else(|| panic!("no location in {record:?}"));
    assert!(file.ends_with("src/bin/logbot"), "{record:?}");
    let numbers: Vec<&str> = line_column.split(':').collect();
    assert!(
        numbers.len() == 2 && numbers.iter().all(|n| n.parse::<u32>().is_ok()),
        "{record:?}"
    );
}

#[test]
fn a_start_up_failure_after_the_fork_is_printed_and_in_the_log_file() {
    let scratch = Scratch::new("log-start-fail");
    let log = scratch.join("logbot.log");
    let launcher = run(logbot(&scratch)
        .args(["--daemon", "--stderr"])
        .arg(&log)
        .args(["--privileged-fail", "cannot bind 0.0.0.0:80"]));
    expect_code(&launcher, 69);
    let message = "privileged action failed: cannot bind 0.0.0.0:80";
    assert_eq!(text(&launcher.stderr), format!("logbot: {message}\n"));
    // The daemon logs before it tells the launcher: the line is there already.
    assert_eq!(
        untimed_lines(&read(&log)),
        [format!("CRIT daemon_runtime: {message}")]
    );
    assert!(!pid_file(&scratch).exists(), "the PID file was left behind");
}

/// The error is in the log as the runtime wrote it, with its causes, once: not again as
/// the `Debug` dump that Rust's `main` prints for an `Err` (issue 11, item 2).
#[test]
fn an_error_returned_after_start_is_logged_once_with_its_causes() {
    let scratch = Scratch::new("log-err-debug");
    let log = scratch.join("logbot.log");
    let done = scratch.join("done");
    let launcher = run(logbot(&scratch)
        .args(["--daemon", "--stderr"])
        .arg(&log)
        .arg("--done")
        .arg(&done)
        .args(FAIL));
    // Automatic readiness: the launcher has exited 0 before the body returns.
    expect_code(&launcher, 0);
    assert_eq!(text(&launcher.stderr), "");
    let pid = wait_report(&done, 0).pid;
    // Once it is gone, it has written all it will.
    wait_gone(&scratch, pid);
    let content = read(&log);
    assert!(
        !content.contains("Failure {"),
        "the Debug dump is in the log:\n{content}"
    );
    assert_eq!(
        untimed_lines(&content),
        [format!("CRIT daemon_runtime: {FAIL_CHAIN}")]
    );
}

/// A syslog that does not take the fatal record: it goes to the `stderr` log file.
#[test]
fn an_error_is_not_lost_when_syslog_does_not_answer() {
    let scratch = Scratch::new("log-err-nosyslog");
    let log = scratch.join("logbot.log");
    let done = scratch.join("done");
    let launcher = run(logbot(&scratch)
        .args(["--daemon", "--log-target", "syslog", "--syslog-socket"])
        .arg(scratch.join("nobody-listens.sock"))
        .arg("--stderr")
        .arg(&log)
        .arg("--done")
        .arg(&done)
        .args(FAIL));
    expect_code(&launcher, 0);
    let pid = wait_report(&done, 0).pid;
    let needle = format!("CRIT daemon_runtime: {FAIL_CHAIN}\n");
    if let Err(so_far) = wait_for_text(&log, &needle, WAIT) {
        panic!("no {needle:?} in the log: {so_far}");
    }
    wait_gone(&scratch, pid);
}

/// A panic before the daemon is ready (here in the privileged action) is in the log too.
#[test]
fn a_panic_during_start_up_is_in_the_log_file() {
    let scratch = Scratch::new("log-start-panic");
    let log = scratch.join("logbot.log");
    let launcher = run(logbot(&scratch)
        .env("RUST_BACKTRACE", "0")
        .args(["--daemon", "--stderr"])
        .arg(&log)
        .args(["--privileged-panic", "the flux capacitor broke"]));
    expect_code(&launcher, 70);
    // The daemon died before the launcher exited: the log is complete.
    let content = read(&log);
    let crit = content
        .lines()
        .find(|line| line.contains(" CRIT "))
        .unwrap_or_else(|| panic!("no CRIT record in the log:\n{content}"));
    assert_panic_record(&untimed_lines(crit).remove(0), "CRIT panic: ");
}

#[test]
fn fatal_records_reach_syslog_at_crit() {
    let Some(syslogd) = syslogd("fatal_records_reach_syslog_at_crit") else {
        return;
    };
    let rsyslog = &syslogd.rsyslog;
    let syslog = |scratch: &Scratch| {
        let mut cmd = logbot(scratch);
        cmd.args(["--daemon", "--log-target", "syslog", "--syslog-socket"])
            .arg(rsyslog.socket());
        cmd
    };

    let scratch = Scratch::new("log-err-syslog");
    let done = scratch.join("done");
    expect_code(
        &run(syslog(&scratch).arg("--done").arg(&done).args(FAIL)),
        0,
    );
    let pid = wait_report(&done, 0).pid;
    let line = rsyslog.wait_for(FAIL_CHAIN);
    assert_eq!(line, format!("daemon.crit logbot[{pid}]: {FAIL_CHAIN}"));
    wait_gone(&scratch, pid);

    let scratch = Scratch::new("log-panic-syslog");
    let done = scratch.join("done");
    let panics = run(syslog(&scratch)
        .arg("--done")
        .arg(&done)
        .args(["--panic", "the flux capacitor broke"]));
    expect_code(&panics, 0);
    let pid = wait_report(&done, 0).pid;
    let line = rsyslog.wait_for("the flux capacitor broke");
    assert_panic_record(&line, &format!("daemon.crit logbot[{pid}]: "));
    wait_gone(&scratch, pid);

    let scratch = Scratch::new("log-start-fail-syslog");
    let failed = run(syslog(&scratch).args(["--privileged-fail", "cannot bind 0.0.0.0:80"]));
    expect_code(&failed, 69);
    let line = rsyslog.wait_for("cannot bind 0.0.0.0:80");
    let (tag, message) = line.split_once(": ").expect("a syslog line");
    assert!(tag.starts_with("daemon.crit logbot["), "{line}");
    assert_eq!(message, "privileged action failed: cannot bind 0.0.0.0:80");
}

// 6. RUST_LOG and --log-level.

/// A detached logbot logging to `log` with `RUST_LOG` set to `rust_log` and the extra
/// arguments `args`, one `--record` per entry of `records`; its lines, untimed.
fn filtered(scratch: &Scratch, rust_log: &str, args: &[&str], records: &[&str]) -> Bot {
    let log = scratch.join("logbot.log");
    let mut cmd = logbot(scratch);
    cmd.env("RUST_LOG", rust_log)
        .args(["--daemon", "--stderr"])
        .arg(&log)
        .args(args);
    for record in records {
        cmd.args(["--record", record]);
    }
    start(&mut cmd, &scratch.join("done"))
}

fn log_lines(scratch: &Scratch) -> Vec<String> {
    untimed_lines(&read(&scratch.join("logbot.log")))
}

#[test]
fn rust_log_debug_shows_the_runtime_debug_lines() {
    let scratch = Scratch::new("log-rust-log");
    let bot = filtered(&scratch, "debug", &[], &["debug logbot for the curious"]);
    let pid = bot.report.pid;
    let session = ProcInfo::read(pid).expect("the daemon runs").sid;
    let lines = log_lines(&scratch);
    for wanted in [
        format!("DEBUG daemon_runtime::detached: detached: pid {pid}, session {session}"),
        format!(
            "DEBUG daemon_runtime::pidfile: wrote pid {pid} to {}",
            pid_file(&scratch).display()
        ),
        "DEBUG logbot: for the curious".to_owned(),
    ] {
        assert!(lines.contains(&wanted), "no {wanted:?} in {lines:#?}");
    }
    // The launcher's own, on its standard error. (Not its pid: the launcher can hear
    // "ready" from the daemon before the pid from the intermediate process, and then
    // says `pid 0`; a race of the readiness channel, not of the logger.)
    let launcher = text(&bot.launcher.stderr);
    assert!(
        launcher.contains(&format!(
            "DEBUG daemon_runtime::pidfile: locked PID file {}\n",
            pid_file(&scratch).display()
        )),
        "{launcher}"
    );
    assert!(
        launcher.contains("DEBUG daemon_runtime::launcher: daemon ready (pid "),
        "{launcher}"
    );
}

#[test]
fn log_level_flag_overrides_rust_log() {
    let scratch = Scratch::new("log-level-flag");
    let records = [
        "debug logbot quiet",
        "info logbot quiet",
        "warn logbot loud",
    ];
    let bot = filtered(&scratch, "debug", &["--log-level", "warn"], &records);
    assert_eq!(log_lines(&scratch), ["WARN logbot: loud"]);
    assert_eq!(text(&bot.launcher.stderr), "");
}

#[test]
fn a_per_target_directive_quiets_one_target() {
    let scratch = Scratch::new("log-per-target");
    let records = [
        "warn logbot::noisy hush",
        "error logbot::noisy::deeper hush",
        "warn logbot::noisy_neighbour kept: only whole path segments match",
        "info logbot below the default",
        "warn logbot kept",
    ];
    filtered(&scratch, "warn,logbot::noisy=off", &[], &records);
    assert_eq!(
        log_lines(&scratch),
        [
            "WARN logbot::noisy_neighbour: kept: only whole path segments match",
            "WARN logbot: kept",
        ]
    );
}

/// The valid levels, as the errors list them.
const LEVELS: &str = "(off, error, warn, info, debug, trace)";

/// Runs a detaching logbot that must refuse to start with exit `code`; returns its
/// standard error.
fn refused(scratch: &Scratch, cmd: &mut Command, code: i32) -> String {
    let out = run(cmd.arg("--daemon"));
    expect_code(&out, code);
    assert!(!pid_file(scratch).exists(), "a PID file was created");
    assert_eq!(text(&out.stdout), "");
    text(&out.stderr)
}

#[test]
fn an_invalid_level_is_one_error_naming_the_value_its_source_and_the_levels() {
    let scratch = Scratch::new("log-bad-level");
    let from_env = refused(&scratch, logbot(&scratch).env("RUST_LOG", "loud"), 78);
    assert_eq!(
        from_env,
        format!(
            "logbot: invalid log_level `loud` (from $RUST_LOG): invalid log directive `loud`: \
             expected a level {LEVELS} or `target=level`\n"
        )
    );

    let config = scratch.join("logbot.toml");
    std::fs::write(&config, "[daemon]\nlog_level = \"info,hyper=loud\"\n").unwrap();
    let mut cmd = logbot(&scratch);
    cmd.arg("--config").arg(&config);
    let from_config = refused(&scratch, &mut cmd, 78);
    assert_eq!(
        from_config,
        format!(
            "logbot: config file {}, line 2, column 13: invalid value for `log_level`: invalid \
             log directive `hyper=loud`: the level after `=` must be one of off, error, warn, \
             info, debug, trace\n",
            config.display()
        )
    );

    // A flag is checked by the command-line parser: a usage error, as for every flag.
    let mut cmd = logbot(&scratch);
    cmd.args(["--log-level", "loud"]);
    let from_flag = refused(&scratch, &mut cmd, 2);
    assert_eq!(
        from_flag.lines().next(),
        Some(
            format!(
                "error: invalid value 'loud' for '--log-level <LEVEL>': invalid log directive \
                 `loud`: expected a level {LEVELS} or `target=level`"
            )
            .as_str()
        ),
        "{from_flag}"
    );
}

// 7. A full disk under the log file (issue 11, item 3).

#[test]
fn a_full_disk_under_the_log_file_drops_records_and_the_daemon_goes_on() {
    let test = "a_full_disk_under_the_log_file_drops_records_and_the_daemon_goes_on";
    if !require_root(test) || !private_mounts_work(test) {
        return;
    }
    const FLOOD: u64 = 5_000;
    let scratch = Scratch::new("log-full");
    let disk = scratch.join("disk");
    std::fs::create_dir(&disk).unwrap();
    let log = disk.join("logbot.log");
    let done = scratch.join("done");
    let mut daemon = logbot(&scratch);
    daemon
        .args(["--daemon", "--reload-log", "--stderr"])
        .arg(&log)
        .args(["--flood", &FLOOD.to_string()]);
    // The report comes after the flood: a logger that panicked or stopped never sends it.
    let bot = start(&mut on_tiny_tmpfs(&disk, &daemon), &done);
    let Report { pid, dropped } = bot.report;
    assert!(is_alive(pid), "the daemon died");
    // The tmpfs is the daemon's alone: seen through its root, gone with it.
    assert!(mounts_below(std::slice::from_ref(&disk)).is_empty());
    let seen = PathBuf::from(format!("/proc/{pid}/root")).join(log.strip_prefix("/").unwrap());
    let full = read(&seen);
    let written = full.matches("INFO logbot::flood: flood record ").count() as u64;
    assert!(
        dropped > 0 && written > 0,
        "{written} written, {dropped} dropped"
    );
    // The last record may be cut short by the disk; the rest were dropped whole.
    assert!(
        written + dropped == FLOOD || written + dropped == FLOOD + 1,
        "{written} written and {dropped} dropped of {FLOOD}"
    );

    // Room again: the next record is preceded by the count.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seen)
        .and_then(|file| file.set_len(0))
        .expect("truncate the log");
    reload(&scratch);
    wait_report(&done, 1);
    assert_eq!(
        untimed_lines(&read(&seen)),
        [
            format!("WARN daemon_runtime::logger: {dropped} log records dropped"),
            "INFO logbot: reloaded 1".to_owned(),
        ]
    );
    assert!(is_alive(pid), "the daemon died");
}

/// `inner` run in a mount namespace of its own with a 64 KiB tmpfs on `dir`: the mount
/// lives as long as the processes in the namespace (the daemon), and no other process
/// sees it.
fn on_tiny_tmpfs(dir: &Path, inner: &Command) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg(r#"mount -t tmpfs -o size=64k,mode=0755 logbot-full "$1" && shift && exec "$@""#)
        .arg("sh")
        .arg(dir)
        .arg(inner.get_program())
        .args(inner.get_args());
    for (key, value) in inner.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    cmd
}

/// Whether a tmpfs can be mounted in a mount namespace of our own (a container may
/// forbid either).
fn private_mounts_work(test: &str) -> bool {
    let scratch = Scratch::new("log-mount-probe");
    let probe = on_tiny_tmpfs(scratch.path(), &Command::new("true")).output();
    match probe {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            skipped(
                test,
                &format!("cannot mount a private tmpfs: {}", text(&out.stderr).trim()),
            );
            false
        }
        Err(e) => {
            skipped(test, &format!("cannot run unshare: {e}"));
            false
        }
    }
}
