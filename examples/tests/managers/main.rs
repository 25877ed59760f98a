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
//! systemd's are in `systemd.rs`; the others are here.

mod systemd;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use daemon_tests::managers::docker::{self, Docker};
use daemon_tests::managers::nspawn::Systemd;
use daemon_tests::managers::rsyslog::Rsyslog;
use daemon_tests::managers::runit::Runit;
use daemon_tests::managers::s6::{S6, ServiceOptions};
use daemon_tests::managers::start_stop_daemon::StartStopDaemon;
use daemon_tests::managers::strace::Strace;
use daemon_tests::managers::supervisord::Supervisord;
use daemon_tests::managers::{
    Context, NotifySocket, Scenario, Spawned, Suite, TIMEOUT, Unavailable, check, require,
    wait_for_text,
};
use daemon_tests::{Killer, ProcInfo, code, read_pid_file, text, wait_exit};

/// A PID 1 that never took the shutdown handle used to ignore SIGTERM: the default
/// handler re-raised the signal with the default action, which the kernel drops for a
/// PID namespace's init (exit 137 after `docker stop`'s SIGKILL). The runtime now exits
/// with 128 + the signal there; a known failure would be named here.
const PID1_DEFAULT_SIGTERM_BUG: Option<&str> = None;

/// The launcher relays `READY=1` together with `MAINPID=`: the daemon's "ready" frame
/// can beat the intermediate process's pid frame, and the launcher then waits for the
/// pid before relaying. Made certain here with strace (the intermediate is slowed down);
/// a known failure would be named here.
const READY_BEFORE_PID_BUG: Option<&str> = None;

fn main() -> ExitCode {
    let hello = PathBuf::from(env!("CARGO_BIN_EXE_hello"));
    // daemon-tests' helper binary: cargo gives no CARGO_BIN_EXE_ for another
    // package's binaries, but `cargo test --workspace` builds it next to these.
    let probe = hello.with_file_name("probe");
    Suite::new(&[
        ("hello", hello),
        ("forced", env!("CARGO_BIN_EXE_forced").into()),
        ("echod", env!("CARGO_BIN_EXE_echod").into()),
        ("hang", env!("CARGO_BIN_EXE_hang").into()),
        ("tokio_outer", env!("CARGO_BIN_EXE_tokio_outer").into()),
        ("probe", probe),
    ])
    .group::<Systemd>(vec![
        Scenario::new("type_forking_pid_file_reload_stop", systemd::forking),
        Scenario::new(
            "type_notify_automatic_ready_status",
            systemd::notify_automatic,
        ),
        Scenario::new("type_notify_manual_ready", systemd::notify_manual),
        Scenario::new("type_notify_with_daemon", systemd::notify_daemon),
        Scenario::new("reloading_seen_by_systemd", systemd::reload_seen),
        Scenario::new("watchdog_fed_stays_active", systemd::watchdog_fed),
        Scenario::new("watchdog_hung_restarted", systemd::watchdog_hung),
        Scenario::new("socket_activated_foreground", systemd::socket_foreground),
        Scenario::new("socket_activated_forking", systemd::socket_forking),
        Scenario::new(
            "socket_activated_notify_daemon",
            systemd::socket_notify_daemon,
        ),
        Scenario::new("print_service_unit_as_is", systemd::print_service),
        Scenario::new("print_service_socket_units_as_is", systemd::print_socket),
        Scenario::new("journal_error_priority", systemd::journal_priority),
        Scenario::new("journald_systemd_cat", systemd::journald_systemd_cat),
    ])
    .group::<Supervisord>(vec![Scenario::new(
        "foreground_start_stop",
        supervisord_foreground,
    )])
    .group::<Runit>(vec![Scenario::new("runsv_sv_up_status_down", runit_sv)])
    .group::<S6>(vec![
        Scenario::new("supervise_svc_up_svstat_down", s6_svc),
        Scenario::new("notification_fd_readiness", s6_notification_fd),
    ])
    .group::<StartStopDaemon>(vec![
        Scenario::new("start_status_stop", start_stop_daemon),
        Scenario::new("notify_await_ready_then_prompt_failure", ssd_notify_await),
    ])
    .group::<Docker>(vec![
        Scenario::new("pid1_shutdown_handle_stop_exits_0", docker_hello),
        Scenario::new("pid1_default_sigterm_exits_143", docker_default_sigterm)
            .known_failure(PID1_DEFAULT_SIGTERM_BUG),
    ])
    .group::<Strace>(vec![
        Scenario::new("daemon_ready_before_its_pid_is_relayed", ready_before_pid)
            .known_failure(READY_BEFORE_PID_BUG),
    ])
    .group::<Rsyslog>(vec![
        Scenario::new("imuxsock_rfc3164_datagram", rsyslog_datagram),
        Scenario::new("syslog_target_of_a_detached_daemon", rsyslog_daemon),
    ])
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

    /// A `run` script (runit, s6) exec'ing `program` in the foreground, with `flags`.
    fn run_script(&self, program: &Path, flags: &str) -> String {
        format!(
            "#!/bin/sh\nexec {} {flags} --pid-file {} --config {} >>{} 2>&1\n",
            program.display(),
            self.pid_file.display(),
            self.config.display(),
            self.output.display()
        )
    }

    fn wait_for_output(&self, needle: &str) -> String {
        wait_for_text(&self.output, needle, TIMEOUT).unwrap_or_else(|so_far| {
            panic!("no {needle:?} in the output within {TIMEOUT:?}: {so_far}")
        })
    }
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
/// `sv down` sends SIGTERM (and SIGCONT); hello ends its loop and exits 0, which the
/// service's `finish` script records (runsv passes it the exit code and the signal).
fn runit_sv(runit: &Runit, ctx: &Context) -> Result<(), Unavailable> {
    let files = Files::new(ctx, "runit-hello");
    let service = runit.service(ctx, "hello", &files.run_script(ctx.bin("hello")?, ""), true);
    let finished = files.pid_file.with_file_name("finish.status");
    let finish = service.dir().join("finish");
    std::fs::write(
        &finish,
        format!("#!/bin/sh\necho \"$1 $2\" >{}\n", finished.display()),
    )
    .expect("write the finish script");
    std::fs::set_permissions(&finish, std::fs::Permissions::from_mode(0o755))
        .expect("chmod the finish script");
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
    let output = files.wait_for_output("hello stopping after");
    assert!(output.contains("ticks (Some(SIGTERM))"), "{output}");
    let status = wait_for_text(&finished, "\n", TIMEOUT).expect("the finish script ran");
    assert_eq!(status, "0 0\n", "exit code and signal, as runsv saw them");
    Ok(())
}

/// s6: `s6-supervise` on a service directory; `s6-svc -u/-d`, `s6-svstat`.
fn s6_svc(s6: &S6, ctx: &Context) -> Result<(), Unavailable> {
    let files = Files::new(ctx, "s6-hello");
    let options = ServiceOptions {
        down: true,
        ..ServiceOptions::default()
    };
    let service = s6.service(
        ctx,
        "hello",
        &files.run_script(ctx.bin("hello")?, ""),
        &options,
    );

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

/// s6 readiness through `notification-fd`: the tokio example, with `--notify-fd 3`,
/// writes its newline once its first timer tick fired (manual readiness), and
/// `s6-svwait -U` returns then. It logged the tick before, so the line is in its
/// output when the wait ends.
fn s6_notification_fd(s6: &S6, ctx: &Context) -> Result<(), Unavailable> {
    let svwait = require("s6-svwait", "s6")?;
    let files = Files::new(ctx, "s6-tokio");
    let options = ServiceOptions {
        down: true,
        notification_fd: Some(3),
    };
    let run = files.run_script(ctx.bin("tokio_outer")?, "--notify-fd 3");
    let service = s6.service(ctx, "tokio", &run, &options);

    service.svc_ok(&["-u"]);
    let mut wait = std::process::Command::new(svwait);
    wait.args(["-U", "-t", "30000"]).arg(service.dir());
    check(&daemon_tests::run(&mut wait), "s6-svwait -U");
    let output = std::fs::read_to_string(&files.output).unwrap_or_default();
    assert!(
        output.contains("tokio_outer: tick 1"),
        "ready before the first tick: {output}"
    );
    let up = service.svstat_fields(&["up", "ready", "pid"]);
    assert_eq!(up[..2], ["true", "true"], "{}", service.svstat());
    assert_eq!(
        read_pid_file(&files.pid_file).map(|p| p.to_string()),
        Some(up[2].clone())
    );

    service.svc_ok(&["-wd", "-T", "30000", "-d"]);
    let down = service.svstat_fields(&["up", "exitcode", "signal"]);
    assert_eq!(down, ["false", "0", "NA"], "{}", service.svstat());
    assert!(!files.pid_file.exists(), "the PID file outlived the stop");
    Ok(())
}

/// How long `start-stop-daemon --notify-await` waits for the program's word.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(5);

/// `start-stop-daemon --background --notify-await`: the start returns once hello sent
/// `READY=1`; a second hello, which finds the first holding the PID file, says why
/// with `ERRNO=`, so start-stop-daemon fails at once instead of waiting out its timeout.
fn ssd_notify_await(ssd: &StartStopDaemon, ctx: &Context) -> Result<(), Unavailable> {
    let hello = ctx.bin("hello")?.display().to_string();
    let files = Files::new(ctx, "ssd-notify");
    let (pid_file, config) = (files.pid_file.display(), files.config.display());
    let output = files.output.display().to_string();
    let timeout = NOTIFY_TIMEOUT.as_secs().to_string();
    let start = |ssd_pid_file: &str| {
        let args = [
            "--start",
            "--background",
            "--notify-await",
            "--notify-timeout",
            &timeout,
            "--output",
            &output,
            "--pidfile",
            ssd_pid_file,
            "--startas",
            &hello,
            "--",
            "--pid-file",
            &pid_file.to_string(),
            "--config",
            &config.to_string(),
        ];
        let started = Instant::now();
        let result = ssd.run(&args);
        (result, started.elapsed())
    };

    let (first, _) = start(&pid_file.to_string());
    check(&first, "start-stop-daemon --start --notify-await");
    let pid = read_pid_file(&files.pid_file).expect("the PID file names hello");
    let daemon = Killer::new(pid);
    files.wait_for_output(&format!("hello started (pid {pid})"));

    // Its own check finds nothing (another PID file), so it starts a second hello.
    let elsewhere = files.pid_file.with_file_name("elsewhere.pid");
    let (second, took) = start(&elsewhere.display().to_string());
    assert_eq!(code(&second.status), Some(2), "{}", text(&second.stderr));
    assert!(
        text(&second.stderr).contains("program failed to initialize"),
        "{}",
        text(&second.stderr)
    );
    assert!(
        took < NOTIFY_TIMEOUT / 2,
        "the failure took {took:?}, against a notify timeout of {NOTIFY_TIMEOUT:?}"
    );
    files.wait_for_output(&format!("hello is already running (pid {pid})"));
    assert_eq!(read_pid_file(&files.pid_file), Some(pid));

    let stop = [
        "--stop",
        "--pidfile",
        &pid_file.to_string(),
        "--retry",
        "TERM/30/KILL/5",
    ];
    check(&ssd.run(&stop), "start-stop-daemon --stop");
    assert!(wait_exit(daemon.pid(), TIMEOUT));
    assert!(!files.pid_file.exists(), "the PID file outlived the stop");
    Ok(())
}

/// The `syslog` log target of a detached daemon, pointed at a private rsyslogd: its
/// records arrive with facility daemon, the program's name and the daemon's pid.
fn rsyslog_daemon(rsyslog: &Rsyslog, ctx: &Context) -> Result<(), Unavailable> {
    let hello = ctx.bin("hello")?;
    let files = Files::new(ctx, "rsyslog-hello");
    let mut start = std::process::Command::new(hello);
    start
        .args(["--daemon", "--log-target", "syslog", "--syslog-socket"])
        .arg(rsyslog.socket())
        .arg("--pid-file")
        .arg(&files.pid_file)
        .arg("--config")
        .arg(&files.config);
    check(&daemon_tests::run(&mut start), "hello --daemon");
    let pid = read_pid_file(&files.pid_file).expect("the PID file names the daemon");
    let daemon = Killer::new(pid);
    let started = format!("hello[{pid}]: hello started (pid {pid})");
    assert_eq!(rsyslog.wait_for(&started), format!("daemon.info {started}"));

    let mut stop = std::process::Command::new(hello);
    stop.arg("--stop")
        .arg("--pid-file")
        .arg(&files.pid_file)
        .arg("--config")
        .arg(&files.config);
    check(&daemon_tests::run(&mut stop), "hello --stop");
    assert!(wait_exit(daemon.pid(), TIMEOUT));
    let stopping = rsyslog.wait_for(&format!("hello[{pid}]: hello stopping after"));
    assert!(stopping.starts_with("daemon.info "), "{stopping}");
    Ok(())
}

/// `hello --daemon` under a service manager that knows the launcher as the main process
/// (systemd's `Type=notify`, here a notify socket of the test's own): the launcher's
/// `READY=1` must carry `MAINPID=` with the daemon's pid, even when the daemon reports
/// ready before the intermediate process, which strace delays at its `pidfd_open`, has
/// sent that pid.
fn ready_before_pid(strace: &Strace, ctx: &Context) -> Result<(), Unavailable> {
    let hello = ctx.bin("hello")?;
    let files = Files::new(ctx, "strace-hello");
    let notify = NotifySocket::bind(&files.pid_file.with_file_name("notify.sock"))
        .expect("bind the notify socket");
    let mut cmd = strace.delaying("pidfd_open", Duration::from_millis(300), hello);
    cmd.arg("--daemon")
        .arg("--pid-file")
        .arg(&files.pid_file)
        .arg("--config")
        .arg(&files.config)
        .env("NOTIFY_SOCKET", notify.path());
    let mut traced =
        Spawned::spawn("strace", &mut cmd, &files.output).expect("start hello under strace");
    let ready = notify.wait_for("READY", traced.pidfd(), TIMEOUT);
    let pid = read_pid_file(&files.pid_file);
    let fields = notify.fields();
    // Stopped before the verdict, so that the daemon and strace are gone either way.
    if let Some(pid) = pid {
        let daemon = Killer::new(pid);
        let mut stop = std::process::Command::new(hello);
        stop.arg("--stop")
            .arg("--pid-file")
            .arg(&files.pid_file)
            .arg("--config")
            .arg(&files.config);
        check(&daemon_tests::run(&mut stop), "hello --stop");
        assert!(wait_exit(daemon.pid(), TIMEOUT));
    }
    assert!(traced.wait_exit(TIMEOUT).is_some(), "strace outlived hello");
    assert_eq!(ready.as_deref(), Ok("1"), "{}", traced.output());
    let pid = pid.expect("the PID file names the daemon");
    assert!(
        fields.contains(&format!("MAINPID={pid}")),
        "READY=1 relayed without the daemon's pid ({pid}): {fields:?}"
    );
    Ok(())
}
