//! A privileged action: the listener is bound before privileges drop, and the daemon
//! (as `nobody`, when the tests run as root) serves on it.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::os::unix::fs::chown;

use common::Example;
use daemon_tests::{ProcInfo, is_root, nobody, read_pid_file};

/// Binds port 0, so tests run in parallel; the address is in the first log line.
fn privileged(label: &str) -> Example {
    let mut example = Example::new(
        label,
        env!("CARGO_BIN_EXE_privileged"),
        "[server]\nlisten = \"127.0.0.1:0\"\n",
    );
    if is_root() {
        // As a service's /run directory would be: its user may remove its PID file.
        let run = example.scratch.join("run");
        std::fs::create_dir(&run).expect("mkdir run");
        let (uid, gid) = nobody();
        chown(&run, Some(uid), Some(gid)).expect("chown run");
        example.pid_file = run.join("privileged.pid");
    }
    example
}

/// Connects to the address in `line` and returns the greeting.
fn greeting(line: &str) -> String {
    let address = line
        .split_whitespace()
        .find(|word| word.starts_with("127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    let mut stream = TcpStream::connect(address).expect("connect to the daemon");
    let mut greeting = String::new();
    stream.read_to_string(&mut greeting).expect("read");
    greeting
}

fn expected_uid() -> u32 {
    if is_root() {
        nobody().0
    } else {
        nix::unistd::getuid().as_raw()
    }
}

#[test]
fn serves_on_the_socket_bound_before_the_drop() {
    let example = privileged("privileged-detached");
    let daemon = example.start_detached(&mut example.command(&["--daemon"]));
    let log = example.log();
    // Manual readiness came after this line.
    let line = log
        .lines()
        .find(|l| l.contains("listening on"))
        .unwrap_or_else(|| panic!("no address in the log: {log}"));
    let info = ProcInfo::read(daemon.pid()).expect("proc");
    assert_eq!(info.uids, [expected_uid(); 4]);
    let greeting = greeting(line);
    assert_eq!(
        greeting,
        format!("hello from pid {} (uid {})\n", daemon.pid(), expected_uid())
    );
    example.stop(&daemon);
    assert!(example.log().contains("privileged: stopping"));
}

#[test]
fn serves_in_the_foreground() {
    let example = privileged("privileged-foreground");
    let running = example.foreground(&mut example.command(&[]), "listening on");
    let line = running.seen.last().cloned().expect("a line");
    assert_eq!(read_pid_file(&example.pid_file), Some(running.pid()));
    assert_eq!(
        greeting(&line),
        format!(
            "hello from pid {} (uid {})\n",
            running.pid(),
            expected_uid()
        )
    );
    let status = running.terminate();
    assert!(status.success(), "{status:?}");
    assert!(!example.pid_file.exists());
}

#[test]
fn a_failed_bind_fails_the_launcher() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = holder.local_addr().expect("addr");
    let example = Example::new(
        "privileged-taken",
        env!("CARGO_BIN_EXE_privileged"),
        &format!("[server]\nlisten = \"{taken}\"\n"),
    );
    let output = example.run(&["--daemon"]);
    daemon_tests::expect_code(&output, 69);
    let stderr = daemon_tests::text(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {taken}")),
        "{stderr}"
    );
    assert!(!example.pid_file.exists());
}
