//! The example daemons under real service managers: systemd (in a `systemd-nspawn`
//! container), supervisord, runit, s6, `start-stop-daemon`, Docker, and rsyslog and
//! journald as log destinations.
//!
//! `harness = false`: each manager is set up once for all of its scenarios (booting
//! systemd, starting dockerd) and the managers run in parallel, which libtest's
//! one-function-per-test model cannot share; `daemon_tests::managers::Suite` runs
//! them and reports each scenario as passed, skipped (visibly, with why) or failed.
//! What the managers need is installed by the tests themselves, once, into a cache
//! (see `daemon_tests::managers::install`).
//!
//! A scenario is a function taking its manager and the [`Context`], listed in `main`.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use daemon_tests::managers::docker::{self, Docker};
use daemon_tests::managers::nspawn::{BIN_DIR, Systemd};
use daemon_tests::managers::rsyslog::Rsyslog;
use daemon_tests::managers::runit::Runit;
use daemon_tests::managers::s6::{S6, ServiceOptions};
use daemon_tests::managers::start_stop_daemon::StartStopDaemon;
use daemon_tests::managers::supervisord::Supervisord;
use daemon_tests::managers::{
    Context, Scenario, Suite, TIMEOUT, Unavailable, check, wait_for_text,
};
use daemon_tests::{Killer, ProcInfo, code, read_pid_file, wait_exit};

/// A PID 1 that never took the shutdown handle used to ignore SIGTERM: the default
/// handler re-raised the signal with the default action, which the kernel drops for a
/// PID namespace's init (exit 137 after `docker stop`'s SIGKILL). The runtime now exits
/// with 128 + the signal there; a known failure would be named here.
const PID1_DEFAULT_SIGTERM_BUG: Option<&str> = None;

fn main() -> ExitCode {
    let hello = PathBuf::from(env!("CARGO_BIN_EXE_hello"));
    // daemon-tests' helper binary: cargo gives no CARGO_BIN_EXE_ for another
    // package's binaries, but `cargo test --workspace` builds it next to these.
    let probe = hello.with_file_name("probe");
    Suite::new(&[
        ("hello", hello),
        ("forced", env!("CARGO_BIN_EXE_forced").into()),
        ("probe", probe),
    ])
    .group::<Systemd>(vec![
        Scenario::new("type_forking_pid_file_reload_stop", systemd_forking),
        Scenario::new("type_notify_foreground", systemd_notify),
        Scenario::new("journald_systemd_cat", journald_systemd_cat),
    ])
    .group::<Supervisord>(vec![Scenario::new(
        "foreground_start_stop",
        supervisord_foreground,
    )])
    .group::<Runit>(vec![Scenario::new("runsv_sv_up_status_down", runit_sv)])
    // Readiness through a descriptor comes with `ServiceOptions::notification_fd` and
    // `s6-svc -wU` once the runtime writes to one (issue 10): `s6::readiness_fd`.
    .group::<S6>(vec![Scenario::new("supervise_svc_up_svstat_down", s6_svc)])
    .group::<StartStopDaemon>(vec![Scenario::new("start_status_stop", start_stop_daemon)])
    .group::<Docker>(vec![
        Scenario::new("pid1_shutdown_handle_stop_exits_0", docker_hello),
        Scenario::new("pid1_default_sigterm_exits_143", docker_default_sigterm)
            .known_failure(PID1_DEFAULT_SIGTERM_BUG),
    ])
    .group::<Rsyslog>(vec![Scenario::new(
        "imuxsock_rfc3164_datagram",
        rsyslog_datagram,
    )])
    .run()
}

/// A `[daemon]` table sending the daemon's output to `log`.
fn log_config(log: &str) -> String {
    format!("[daemon]\nstdout = {log:?}\nstderr = {log:?}\n")
}

/// A scratch directory for one daemon: its PID file, config file (an empty `[daemon]`
/// table, so no user's `hello.toml` applies) and output file.
struct Files {
    pid_file: PathBuf,
    config: PathBuf,
    output: PathBuf,
}

impl Files {
    fn new(ctx: &Context, label: &str) -> Files {
        let dir = ctx.dir(label);
        let config = dir.join("hello.toml");
        std::fs::write(&config, "[daemon]\n").expect("write the config file");
        Files {
            pid_file: dir.join("hello.pid"),
            config,
            output: dir.join("output.log"),
        }
    }

    /// A `run` script (runit, s6) exec'ing hello in the foreground.
    fn run_script(&self, hello: &Path) -> String {
        format!(
            "#!/bin/sh\nexec {} --pid-file {} --config {} >>{} 2>&1\n",
            hello.display(),
            self.pid_file.display(),
            self.config.display(),
            self.output.display()
        )
    }

    fn wait_for_output(&self, needle: &str) -> String {
        wait_for_text(&self.output, needle, TIMEOUT).unwrap_or_else(|so_far| {
            panic!("no {needle:?} in hello's output within {TIMEOUT:?}: {so_far}")
        })
    }
}

/// `Type=forking`, `PIDFile=`, `hello --daemon`; `ExecReload=` through `hello --reload`.
fn systemd_forking(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
    let flags = "--pid-file /run/hello-forking.pid --config /etc/hello/forking.toml";
    systemd.write(
        "/etc/hello/forking.toml",
        &log_config("/run/hello-forking.log"),
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
    systemd.wait_for_text(
        "/run/hello-forking.log",
        &format!("hello started (pid {pid})"),
    );

    systemd.systemctl_ok(&["reload", "hello-forking"]);
    systemd.wait_for_text("/run/hello-forking.log", "reloaded: log file reopened");
    assert_eq!(
        systemd.main_pid("hello-forking"),
        Some(pid),
        "reload restarted it"
    );

    systemd.systemctl_ok(&["stop", "hello-forking"]);
    assert_eq!(systemd.show("hello-forking", "ActiveState"), "inactive");
    assert_eq!(systemd.show("hello-forking", "Result"), "success");
    assert!(
        !systemd.exists("/run/hello-forking.pid"),
        "the PID file outlived the stop"
    );
    systemd.wait_for_text("/run/hello-forking.log", "hello stopping after");
    Ok(())
}

/// `Type=notify`, hello in the foreground: active once it sent `READY=1`.
fn systemd_notify(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
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
    // In the foreground its output goes where systemd put stdout: the journal.
    systemd.follow_journal(
        &["-u", "hello-notify", "-o", "cat"],
        &format!("hello started (pid {pid})"),
    );

    systemd.systemctl_ok(&["stop", "hello-notify"]);
    assert_eq!(systemd.show("hello-notify", "ActiveState"), "inactive");
    assert_eq!(systemd.show("hello-notify", "Result"), "success");
    assert!(
        !systemd.exists("/run/hello-notify.pid"),
        "the PID file outlived the stop"
    );
    systemd.follow_journal(&["-u", "hello-notify", "-o", "cat"], "hello stopping after");
    Ok(())
}

/// The journal inside the container works: what the logger's journal target needs.
fn journald_systemd_cat(systemd: &Systemd, _: &Context) -> Result<(), Unavailable> {
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

/// supervisord runs hello in the foreground; `supervisorctl stop` ends it cleanly.
fn supervisord_foreground(supervisord: &Supervisord, ctx: &Context) -> Result<(), Unavailable> {
    let hello = ctx.bin("hello")?;
    let files = Files::new(ctx, "supervisord-hello");
    supervisord.add_program(
        "hello",
        &format!(
            "command={} --pid-file {} --config {}\nautostart=false\nstartsecs=1\n\
             stopsignal=TERM\nstopwaitsecs=20\nredirect_stderr=true\nstdout_logfile={}",
            hello.display(),
            files.pid_file.display(),
            files.config.display(),
            files.output.display()
        ),
    );
    supervisord.ctl_ok(&["start", "hello"]);
    let (state, pid) = supervisord.status("hello");
    assert_eq!(state, "RUNNING");
    let pid = pid.expect("supervisorctl status shows the pid");
    files.wait_for_output(&format!("hello started (pid {pid})"));
    assert_eq!(read_pid_file(&files.pid_file), Some(pid));

    supervisord.ctl_ok(&["stop", "hello"]);
    assert_eq!(supervisord.status("hello").0, "STOPPED");
    supervisord.wait_for_log("stopped: hello (exit status 0)");
    assert!(!files.pid_file.exists(), "the PID file outlived the stop");
    files.wait_for_output("hello stopping after");
    Ok(())
}

/// runit: `runsv` on a service directory whose `run` execs hello in the foreground.
fn runit_sv(runit: &Runit, ctx: &Context) -> Result<(), Unavailable> {
    let files = Files::new(ctx, "runit-hello");
    let service = runit.service(ctx, "hello", &files.run_script(ctx.bin("hello")?), true);
    assert!(
        service.status().starts_with("down:"),
        "{}",
        service.status()
    );

    service.sv_ok(&["-w", "30", "up"]);
    let pid = service
        .pid()
        .unwrap_or_else(|| panic!("no pid in {:?}", service.status()));
    files.wait_for_output(&format!("hello started (pid {pid})"));
    assert_eq!(read_pid_file(&files.pid_file), Some(pid));

    service.sv_ok(&["-w", "30", "down"]);
    assert!(
        service.status().starts_with("down:"),
        "{}",
        service.status()
    );
    assert!(wait_exit(pid, TIMEOUT));
    assert!(!files.pid_file.exists(), "the PID file outlived the stop");
    files.wait_for_output("hello stopping after");
    Ok(())
}

/// s6: `s6-supervise` on a service directory; `s6-svc -u/-d`, `s6-svstat`.
fn s6_svc(s6: &S6, ctx: &Context) -> Result<(), Unavailable> {
    let files = Files::new(ctx, "s6-hello");
    let options = ServiceOptions {
        down: true,
        ..ServiceOptions::default()
    };
    let service = s6.service(ctx, "hello", &files.run_script(ctx.bin("hello")?), &options);

    service.svc_ok(&["-wu", "-T", "30000", "-u"]);
    let up = service.svstat_fields(&["up", "pid"]);
    assert_eq!(up[0], "true", "{}", service.svstat());
    let pid: u32 = up[1].parse().expect("a pid");
    files.wait_for_output(&format!("hello started (pid {pid})"));
    assert_eq!(read_pid_file(&files.pid_file), Some(pid));

    service.svc_ok(&["-wd", "-T", "30000", "-d"]);
    // Down, having exited 0 by itself (not killed by the signal).
    let down = service.svstat_fields(&["up", "exitcode", "signal"]);
    assert_eq!(down, ["false", "0", "NA"], "{}", service.svstat());
    assert!(!files.pid_file.exists(), "the PID file outlived the stop");
    files.wait_for_output("hello stopping after");
    Ok(())
}

/// `start-stop-daemon --start ... -- --daemon`, `--status`, `--stop`.
fn start_stop_daemon(ssd: &StartStopDaemon, ctx: &Context) -> Result<(), Unavailable> {
    let hello = ctx.bin("hello")?;
    let files = Files::new(ctx, "ssd-hello");
    std::fs::write(
        &files.config,
        log_config(&files.output.display().to_string()),
    )
    .expect("write the config file");
    let pid_file = files.pid_file.display().to_string();
    let exe = hello.display().to_string();
    let config = files.config.display().to_string();
    let start = [
        "--start",
        "--pidfile",
        &pid_file,
        "--exec",
        &exe,
        "--",
        "--daemon",
        "--pid-file",
        &pid_file,
        "--config",
        &config,
    ];
    check(&ssd.run(&start), "start-stop-daemon --start");
    let pid = read_pid_file(&files.pid_file).expect("the PID file names the daemon");
    let daemon = Killer::new(pid);
    assert_eq!(ProcInfo::read(pid).expect("the daemon runs").exe, hello);
    files.wait_for_output(&format!("hello started (pid {pid})"));
    let status = ["--status", "--pidfile", &pid_file];
    assert_eq!(code(&ssd.run(&status).status), Some(0), "--status: running");
    // Already running: start-stop-daemon does nothing and says so with exit 1.
    assert_eq!(code(&ssd.run(&start).status), Some(1));
    assert_eq!(read_pid_file(&files.pid_file), Some(pid));

    let stop = [
        "--stop",
        "--pidfile",
        &pid_file,
        "--exec",
        &exe,
        "--retry",
        "TERM/30/KILL/5",
    ];
    check(&ssd.run(&stop), "start-stop-daemon --stop");
    assert!(wait_exit(daemon.pid(), TIMEOUT));
    assert!(!files.pid_file.exists(), "the PID file outlived the stop");
    assert_eq!(
        code(&ssd.run(&status).status),
        Some(3),
        "--status: not running"
    );
    files.wait_for_output("hello stopping after");
    Ok(())
}

/// hello as a container's PID 1: `docker stop` (SIGTERM) ends it cleanly.
fn docker_hello(docker: &Docker, _: &Context) -> Result<(), Unavailable> {
    let hello = format!("{}/hello", docker::BIN_DIR);
    let container = docker.run(&[], &[&hello, "--pid-file", "/run/hello.pid"]);
    container.wait_for_log("hello started (pid 1)");
    let exit = container.stop(Duration::from_secs(10));
    let logs = container.logs();
    assert_eq!(exit, 0, "docker stop: exit {exit}\n{logs}");
    assert!(logs.contains("hello stopping after"), "{logs}");
    Ok(())
}

/// A PID 1 that never took the shutdown handle (the probe without `--graceful`) dies
/// of SIGTERM as the runtime promises: exit 143.
fn docker_default_sigterm(docker: &Docker, ctx: &Context) -> Result<(), Unavailable> {
    ctx.bin("probe")?;
    let probe = format!("{}/probe", docker::BIN_DIR);
    let container = docker.run(&[], &[&probe, "--pid-file", "/run/probe.pid"]);
    container.wait_for_log("started pid=1");
    let exit = container.stop(Duration::from_secs(3));
    assert_eq!(exit, 143, "docker stop: exit {exit}\n{}", container.logs());
    Ok(())
}

/// A private rsyslogd receives an RFC 3164 datagram on its own socket.
fn rsyslog_datagram(rsyslog: &Rsyslog, _: &Context) -> Result<(), Unavailable> {
    let sender = UnixDatagram::unbound().expect("a datagram socket");
    // Facility daemon (3), severity info (6): <3 * 8 + 6>.
    sender
        .send_to(b"<30>hello[123]: test", rsyslog.socket())
        .expect("send to rsyslogd's socket");
    assert_eq!(
        rsyslog.wait_for("hello[123]: test"),
        "daemon.info hello[123]: test"
    );
    Ok(())
}
