//! The fault-injection tier: many launchers at once on one PID file, launchers and
//! daemons SIGKILLed at random points of start-up, start timeouts running out at random
//! points, a pid reused by a stranger, and fuzzed config files, all through the real
//! binary. Bounded: the whole file runs in a few seconds.
//!
//! Random choices come from a seeded [`Rng`]; a failure names the seed, and
//! `DAEMON_TESTS_SEED=<seed>` replays it.

mod common;

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::process::Stdio;
use std::time::Duration;

use common::{in_pid_namespace, one_line, pid_file, probe, stranger};
use daemon_tests::{
    DEADLINE, Killer, Rng, Scratch, expect_code, is_alive, kill_all_mentioning, kill_hard,
    left_running, processes_mentioning, race, read_pid_file, require_root, run, text, wait_output,
};

/// `--status` when nothing runs: "not running" (3) or "stale" (1), never "running" (0)
/// nor "cannot tell" (4).
fn assert_status_says_stopped(scratch: &Scratch, context: &str) {
    let out = run(probe(scratch).arg("--status"));
    let said = text(&out.stdout);
    match out.status.code() {
        Some(3) => {}
        Some(1) => {
            let pid = read_pid_file(&pid_file(scratch));
            assert!(pid.is_none_or(|pid| !is_alive(pid)), "{context}: {said}");
        }
        _ => panic!("{context}: nothing runs, yet --status says {out:?}"),
    }
}

/// A start that must work, and `--status` that must say so: then stopped again.
fn assert_next_start_works(scratch: &Scratch, context: &str) {
    let out = run(probe(scratch).arg("--daemon"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{context}: the next start: {out:?}"
    );
    let pid = read_pid_file(&pid_file(scratch)).expect("the PID file names the daemon");
    let _killer = Killer::new(pid);
    let out = run(probe(scratch).arg("--status"));
    assert_eq!(
        text(&out.stdout).trim_end(),
        format!("probe is running (pid {pid})"),
        "{context}"
    );
    let out = run(probe(scratch).arg("--stop"));
    assert_eq!(out.status.code(), Some(0), "{context}: {out:?}");
    assert!(!is_alive(pid), "{context}");
}

#[test]
fn many_launchers_at_once_start_exactly_one_daemon() {
    let scratch = Scratch::new("fault-many");
    let path = pid_file(&scratch);
    for round in 0..10 {
        let outs = race(probe(&scratch).arg("--daemon"), 12, DEADLINE);
        let daemon = read_pid_file(&path).expect("a daemon won");
        let _daemon = Killer::new(daemon);
        let won = outs.iter().filter(|o| o.status.code() == Some(0)).count();
        assert_eq!(won, 1, "round {round}: {outs:?}");
        for out in outs.iter().filter(|o| o.status.code() != Some(0)) {
            expect_code(out, 75);
            one_line(out);
        }
        let out = run(probe(&scratch).arg("--status"));
        assert_eq!(
            text(&out.stdout).trim_end(),
            format!("probe is running (pid {daemon})")
        );
        let running = processes_mentioning(&scratch.marker());
        assert_eq!(running, [daemon], "round {round}: one daemon, nothing else");
    }
}

/// Who is SIGKILLed at the random point.
#[derive(Clone, Copy, Debug)]
enum Victim {
    /// The launcher and everything it forked: a power cut of the service.
    Everything,
    /// The launcher only: the daemon goes on without anyone waiting for it.
    Launcher,
    /// The intermediate process and the daemon, not the launcher, which must notice.
    Daemon,
}

#[test]
fn sigkill_at_random_points_of_start_up_then_the_truth() {
    let mut rng = Rng::from_env();
    let seed = rng.seed();
    let scratch = Scratch::new("fault-kill");
    let marker = scratch.marker();
    for trial in 0..60 {
        let victim = *rng.pick(&[Victim::Everything, Victim::Launcher, Victim::Daemon]);
        // A start takes a few milliseconds here: the delay falls anywhere in it.
        let delay = Duration::from_micros(rng.below(8000));
        let context = format!("seed {seed}, trial {trial}, {victim:?} after {delay:?}");
        let launcher = probe(&scratch)
            .arg("--daemon")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let launcher_pid = launcher.id();
        // Fault injection: the sleep is the random point, not a synchronisation.
        std::thread::sleep(delay);
        match victim {
            Victim::Everything => kill_all_mentioning(&marker),
            Victim::Launcher => kill_hard(launcher_pid),
            Victim::Daemon => {
                for pid in processes_mentioning(&marker) {
                    if pid != launcher_pid {
                        kill_hard(pid);
                    }
                }
            }
        }
        let out = wait_output(launcher, DEADLINE);
        if let Victim::Daemon = victim {
            // It notices: ready before the kill (0), or "exited during start-up" (70).
            assert!(
                matches!(out.status.code(), Some(0 | 70)),
                "{context}: {out:?}"
            );
        }
        // Whatever survived is stopped the ordinary way, which must work.
        let stop = run(probe(&scratch).arg("--stop"));
        assert_eq!(stop.status.code(), Some(0), "{context}: --stop: {stop:?}");
        let left = left_running(&marker, Duration::from_secs(5));
        assert!(
            left.is_empty(),
            "{context}: still running after --stop: {left:?}"
        );
        assert_status_says_stopped(&scratch, &context);
        assert_next_start_works(&scratch, &context);
    }
}

#[test]
fn start_timeouts_running_out_at_random_points_leave_nothing_running() {
    let mut rng = Rng::from_env();
    let seed = rng.seed();
    let scratch = Scratch::new("fault-timeout");
    for trial in 0..100 {
        // From before the first fork to after the daemon's report.
        let timeout = format!("{}e-6", 1 + rng.below(4000));
        let out =
            run(probe(&scratch).args(["--daemon", "--never-ready", "--start-timeout", &timeout]));
        let context = format!("seed {seed}, trial {trial}, start_timeout {timeout} s");
        expect_code(&out, 69);
        one_line(&out);
        let left = left_running(&scratch.marker(), Duration::from_secs(2));
        assert!(
            left.is_empty(),
            "{context}: running after the launcher gave up: {left:?}; it said {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_pid_reused_by_a_stranger_is_never_signalled() {
    if !require_root("a_pid_reused_by_a_stranger_is_never_signalled") {
        return;
    }
    let scratch = Scratch::new("fault-reuse");
    let path = pid_file(&scratch);
    // `pidns` splits a --then command on spaces; the command itself goes as it is.
    let exe = env!("CARGO_BIN_EXE_probe");
    let probe = format!("{exe} --log-target none --pid-file {}", path.display());
    // In a PID namespace of its own: the daemon is SIGKILLed, a stranger gets its pid,
    // then every action runs against the stale file naming the stranger.
    let mut args = vec!["--kill-pid-in".into(), path.clone().into_os_string()];
    for action in ["--status", "--reload", "--stop", "--daemon", "--status"] {
        args.extend(["--then".into(), format!("{probe} {action}").into()]);
    }
    args.extend(["--", exe, "--log-target", "none", "--daemon", "--pid-file"].map(OsString::from));
    args.push(path.clone().into_os_string());
    let out = in_pid_namespace(
        &args
            .iter()
            .map(OsString::as_os_str)
            .collect::<Vec<&OsStr>>(),
    );
    expect_code(&out, 0);
    let report = text(&out.stdout);
    let stranger = stranger(&report);
    let expected = [
        "command exit=0".to_owned(),
        format!("stranger pid={stranger}"),
        "then 0 exit=1".to_owned(),
        format!(
            "then 0 stdout: probe is not running, but its PID file {} is still there; it names \
             pid {stranger}, which is not the daemon (the file's lock is free)",
            path.display()
        ),
        "then 1 exit=7".to_owned(),
        "then 1 stderr: probe is not running".to_owned(),
        "then 2 exit=0".to_owned(),
        format!(
            "then 2 stdout: probe is not running; removed its stale PID file {} (it named pid \
             {stranger}, which was not signalled)",
            path.display()
        ),
        "then 3 exit=0".to_owned(),
        "then 4 exit=0".to_owned(),
    ];
    let lines: Vec<&str> = report.lines().collect();
    assert!(lines.len() > expected.len(), "{report}");
    assert_eq!(lines[..expected.len()], expected, "{report}");
    assert!(
        lines[expected.len()].starts_with("then 4 stdout: probe is running (pid "),
        "{report}"
    );
    assert_eq!(
        lines.last(),
        Some(&format!("stranger {stranger} alive").as_str()),
        "{report}"
    );
}

/// What a `[daemon]` key takes, for the fuzzer.
#[derive(Clone, Copy)]
enum Kind {
    Name,
    Bool,
    User,
    Path,
    Mask,
    Seconds,
    Target,
    Level,
    Fd,
    Watchdog,
}

const KEYS: &[(&str, Kind)] = &[
    ("name", Kind::Name),
    ("daemon", Kind::Bool),
    ("user", Kind::User),
    ("group", Kind::User),
    ("dir", Kind::Path),
    ("pid_file", Kind::Path),
    ("umask", Kind::Mask),
    ("stdout", Kind::Path),
    ("stderr", Kind::Path),
    ("chroot", Kind::Path),
    ("stop_timeout", Kind::Seconds),
    ("start_timeout", Kind::Seconds),
    ("log_target", Kind::Target),
    ("log_level", Kind::Level),
    ("syslog_socket", Kind::Path),
    ("notify_fd", Kind::Fd),
    ("watchdog", Kind::Watchdog),
    ("no_new_privs", Kind::Bool),
    ("core_dumps", Kind::Bool),
];

/// A TOML value of the right kind most of the time, of any kind sometimes.
fn value(rng: &mut Rng, kind: Kind) -> String {
    if rng.one_in(6) {
        return wild_value(rng);
    }
    let path = |rng: &mut Rng| {
        let leaf = rng.pick(&["", "log", "jail", "missing/x", "jail/../log", ".", "x/"]);
        format!("\"{SCRATCH}/{leaf}\"")
    };
    match kind {
        Kind::Name => rng
            .pick(&[
                "\"svc\"",
                "\"\"",
                "\"a b\"",
                "\"../x\"",
                "\"é\"",
                "\"x\\u0000y\"",
            ])
            .to_string(),
        Kind::Bool => rng.pick(&["true", "false", "\"true\"", "1"]).to_string(),
        Kind::User => rng
            .pick(&[
                "\"nobody\"",
                "\"root\"",
                "\"65534\"",
                "0",
                "65534",
                "\"no-such-user-x\"",
                "-1",
                "4294967295",
                "\"\"",
            ])
            .to_string(),
        Kind::Path => path(rng),
        Kind::Mask => rng
            .pick(&[
                "0o027", "0o777", "0o1000", "\"027\"", "\"0o77\"", "-1", "\"x\"", "511", "512",
            ])
            .to_string(),
        Kind::Seconds => rng
            .pick(&[
                "1",
                "0",
                "-1",
                "2.5",
                "1e-9",
                "86400",
                "86400.001",
                "1e19",
                "nan",
                "inf",
                "-inf",
                "\"3\"",
            ])
            .to_string(),
        Kind::Target => rng
            .pick(&[
                "\"none\"",
                "\"stderr\"",
                "\"file\"",
                "\"syslog\"",
                "\"journal\"",
                "\"auto\"",
                "\"bogus\"",
            ])
            .to_string(),
        Kind::Level => rng
            .pick(&[
                "\"info\"",
                "\"debug\"",
                "\"warn,x=trace\"",
                "\"=\"",
                "\"x=y=z\"",
                "\"\"",
            ])
            .to_string(),
        Kind::Fd => rng
            .pick(&["1", "2", "3", "99", "-1", "0", "2147483648"])
            .to_string(),
        Kind::Watchdog => rng
            .pick(&["\"auto\"", "\"manual\"", "\"off\"", "true"])
            .to_string(),
    }
}

fn wild_value(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => format!("\"{}\"", "x".repeat(rng.below(20_000) as usize)),
        1 => "[1, 2, \"three\"]".to_owned(),
        2 => "{ a = 1 }".to_owned(),
        3 => "1979-05-27T07:32:00Z".to_owned(),
        4 => format!("{}", rng.next_u64() as i64),
        5 => format!("{:e}", f64::from_bits(rng.next_u64())),
        6 => "\"\\uD800\"".to_owned(),
        _ => "'''multi\nline'''".to_owned(),
    }
}

/// Stands for the scratch directory in a generated config until it is mangled: a
/// mangled path must not lead out of the scratch directory (where a daemon would create
/// its log). A damaged placeholder is a relative path, resolved in the scratch
/// directory, where the probe runs; no byte a mangling adds is a `/`.
const SCRATCH: &str = "@S@";

/// A config file: mostly valid `[daemon]` tables with odd values, sometimes unknown
/// keys, duplicates, other sections, and bytes mangled at random.
fn config(rng: &mut Rng, scratch: &Scratch) -> Vec<u8> {
    let mut text = String::from("[daemon]\n");
    for _ in 0..rng.below(6) {
        let (key, kind) = *rng.pick(KEYS);
        let key = match rng.below(20) {
            0 => "usr",
            1 => "",
            _ => key,
        };
        let _ = writeln!(text, "{key} = {}", value(rng, kind));
    }
    if rng.one_in(4) {
        text.push_str("[app]\nport = 8080\n[daemon.sub]\nx = 1\n");
    }
    let mut bytes = text.into_bytes();
    let mangled = if rng.one_in(3) { 1 + rng.below(3) } else { 0 };
    for _ in 0..mangled {
        let at = rng.below(bytes.len() as u64 + 1) as usize;
        match rng.below(3) {
            0 if at < bytes.len() => {
                bytes.remove(at);
            }
            1 => bytes.insert(at, *rng.pick(b"\"'[]=\n\\#\x00\xff{}.")),
            _ if at < bytes.len() => {
                let byte = (rng.next_u64() & 0xff) as u8;
                bytes[at] = if byte == b'/' { b'_' } else { byte };
            }
            _ => {}
        }
    }
    let marker = scratch.marker().into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = &bytes[..];
    while let Some(at) = rest
        .windows(SCRATCH.len())
        .position(|w| w == SCRATCH.as_bytes())
    {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(&marker);
        rest = &rest[at + SCRATCH.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[test]
fn fuzzed_config_files_give_one_line_errors_or_a_start_never_a_panic() {
    let mut rng = Rng::from_env();
    let seed = rng.seed();
    let scratch = Scratch::new("fault-config");
    std::fs::create_dir(scratch.join("jail")).unwrap();
    let file = scratch.join("fuzz.toml");
    let (mut starts, mut errors) = (0, 0);
    for trial in 0..300 {
        let bytes = config(&mut rng, &scratch);
        std::fs::write(&file, &bytes).unwrap();
        let out = run(probe(&scratch)
            .current_dir(scratch.path())
            .arg("--daemon")
            .arg("--config")
            .arg(&file));
        let context = format!(
            "seed {seed}, trial {trial}, config:\n{}",
            String::from_utf8_lossy(&bytes)
        );
        match out.status.code() {
            Some(0) => {
                // A start: stop it the ordinary way.
                let stop = run(probe(&scratch)
                    .current_dir(scratch.path())
                    .arg("--stop")
                    .arg("--config")
                    .arg(&file));
                assert_eq!(stop.status.code(), Some(0), "{context}\n--stop: {stop:?}");
                let left = left_running(&scratch.marker(), Duration::from_secs(5));
                assert!(
                    left.is_empty(),
                    "{context}\nleft running after --stop: {left:?}"
                );
                starts += 1;
            }
            Some(101) | None => panic!("{context}\ncrashed: {out:?}"),
            Some(_) => {
                let stderr = text(&out.stderr);
                // Prefixed with the name, which the config file may have set.
                assert_eq!(
                    stderr.lines().count(),
                    1,
                    "{context}\nnot one line: {stderr:?}"
                );
                let left = left_running(&scratch.marker(), Duration::from_secs(2));
                assert!(left.is_empty(), "{context}\nleft running: {left:?}");
                errors += 1;
            }
        }
    }
    // Both sides were explored, or the generator has gone degenerate.
    assert!(
        starts >= 10 && errors >= 10,
        "seed {seed}: {starts} starts, {errors} errors"
    );
}
