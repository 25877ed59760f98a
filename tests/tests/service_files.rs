//! `--print-service`: the init script the probe prints for itself, run for real with
//! `sh`, and the systemd units it prints, read by systemd's own parser.
//!
//! The probe runs from a copy at a path that the format must quote (`<scratch>/it's
//! %n $probe/probe` for sh; without the apostrophe, which systemd refuses in an
//! executable's path, for systemd, where `%n` is a specifier), so a quoting mistake shows as a binary not found.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use daemon_tests::{
    DEADLINE, Killer, ProcInfo, Scratch, expect_code, is_alive, is_locked, read_pid_file, run,
    skipped, text, wait_exit,
};

/// A copy of the probe in directory `dir` of `scratch`, whose name needs quoting.
fn awkward_probe(scratch: &Scratch, dir: &str) -> PathBuf {
    let dir = scratch.join(dir);
    std::fs::create_dir(&dir).expect("create the probe's directory");
    let exe = dir.join("probe");
    std::fs::copy(env!("CARGO_BIN_EXE_probe"), &exe).expect("copy the probe");
    exe
}

/// `exe ARGS --print-service KIND`, which must succeed; its output.
fn print_service(exe: &Path, args: &[&Path], kind: &str) -> Vec<u8> {
    let mut cmd = Command::new(exe);
    cmd.args(args).arg("--print-service").arg(kind);
    let out = run(&mut cmd);
    expect_code(&out, 0);
    out.stdout
}

#[test]
fn sysv_script_starts_reports_and_stops_the_daemon() {
    let scratch = Scratch::new("sysv");
    let exe = awkward_probe(&scratch, "it's %n $probe");
    let pid_file = scratch.join("probe.pid");
    // The working directory comes from the config file: the script must pass --config.
    let config = scratch.join("probe.toml");
    std::fs::write(
        &config,
        format!("[daemon]\ndir = \"{}\"\n", scratch.marker()),
    )
    .expect("write the config file");
    // --umask is a flag given when the script is made: the script must pass it again.
    let umask = Path::new("--umask=077");
    let args = [
        Path::new("--config"),
        &config,
        Path::new("--pid-file"),
        &pid_file,
        umask,
    ];
    let script = scratch.join("probe.init");
    std::fs::write(&script, print_service(&exe, &args, "sysv")).expect("write the script");
    let sh = |action: &str| run(Command::new("sh").arg(&script).arg(action));

    expect_code(&sh("start"), 0);
    let pid = read_pid_file(&pid_file).expect("the PID file names the daemon");
    let _killer = Killer::new(pid);
    assert!(is_alive(pid) && is_locked(&pid_file));
    let info = ProcInfo::read(pid).expect("read the daemon's /proc entry");
    assert_eq!(info.exe, exe);
    assert_eq!(
        info.cwd,
        scratch.path().canonicalize().expect("canonical scratch")
    );
    assert_eq!(info.umask, 0o077);

    // LSB: starting a running service succeeds, and leaves it alone.
    expect_code(&sh("start"), 0);
    assert_eq!(read_pid_file(&pid_file), Some(pid));

    let status = sh("status");
    expect_code(&status, 0);
    assert!(
        text(&status.stdout).contains(&format!("pid {pid}")),
        "{status:?}"
    );

    expect_code(&sh("stop"), 0);
    assert!(wait_exit(pid, DEADLINE), "the daemon outlived stop");
    assert!(!pid_file.exists(), "stop left the PID file behind");
    expect_code(&sh("status"), 3);

    let usage = sh("launch");
    expect_code(&usage, 2);
    assert!(text(&usage.stderr).contains("Usage:"), "{usage:?}");
}

/// The path of `program` on `PATH`, if it is installed.
fn installed(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// `systemd-analyze verify` on `units`; it checks the syntax, every directive's value,
/// and that the `ExecStart=` binary exists.
fn verify(analyze: &Path, units: &[PathBuf]) -> Output {
    run(Command::new(analyze)
        .arg("verify")
        .arg("--man=no")
        .args(units))
}

#[test]
fn systemd_units_pass_systemds_own_parser() {
    let test = "systemd_units_pass_systemds_own_parser";
    let Some(analyze) = installed("systemd-analyze") else {
        skipped(test, "systemd-analyze is not installed");
        return;
    };
    let scratch = Scratch::new("units");
    let exe = awkward_probe(&scratch, "my %n $probe");
    let logs = scratch.join("log %n");
    std::fs::create_dir(&logs).expect("create the log directory");
    let config = scratch.join("probe.toml");
    let settings = format!(
        "[daemon]\ndir = \"{}\"\nstderr = \"{}/err.log\"\n",
        exe.parent().expect("a directory").display(),
        logs.display()
    );
    std::fs::write(&config, settings).expect("write the config file");
    let args = [Path::new("--config"), &config];
    let service = scratch.join("probe.service");
    let socket = scratch.join("probe.socket");
    let socket_kind = "systemd-socket=web=127.0.0.1:8080,/run/probe-test.sock";
    for (file, kind) in [(&service, "systemd-activated"), (&socket, socket_kind)] {
        std::fs::write(file, print_service(&exe, &args, kind)).expect("write the unit");
    }
    let out = verify(&analyze, &[service.clone(), socket]);
    expect_code(&out, 0);
    assert_eq!(text(&out.stderr), "", "systemd-analyze complained");

    // The check can fail: unescaped, `%n` is the unit's name, and the binary is missing.
    let unit = std::fs::read_to_string(&service).expect("read the unit");
    std::fs::write(&service, unit.replace("%%n", "%n")).expect("spoil the unit");
    let out = verify(&analyze, std::slice::from_ref(&service));
    assert!(
        !text(&out.stderr).is_empty(),
        "a spoilt unit passed: {out:?}"
    );
}
