//! The socket-activated echo server: it serves on a socket passed the way systemd
//! passes one (descriptor 3, `LISTEN_FDS`, `LISTEN_PID`, `LISTEN_FDNAMES`), in the
//! foreground and after `--daemon`, and binds its own when none was passed. (Under
//! systemd itself, with a `.socket` unit: `tests/managers/systemd.rs`.)

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

use common::{Example, file_record};

fn echod(label: &str) -> Example {
    Example::new(label, env!("CARGO_BIN_EXE_echod"), "")
}

/// Sends a line to `address` and returns the line that comes back.
fn echo(address: SocketAddr, line: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("connect to echod");
    stream
        .write_all(format!("{line}\n").as_bytes())
        .expect("send");
    let mut answer = String::new();
    BufReader::new(stream)
        .read_line(&mut answer)
        .expect("receive");
    answer.trim_end().to_owned()
}

/// The address in the log line that says where echod listens.
fn listening_on(line: &str) -> SocketAddr {
    line.split_whitespace()
        .find_map(|word| word.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
}

/// `cmd` started as systemd starts a socket-activated service: `listener` at descriptor
/// 3, named `echo`. Only the child knows its pid, so a shell sets `LISTEN_PID` and
/// execs echod in its place.
fn activated(example: &Example, listener: &TcpListener, args: &[&str]) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(r#"export LISTEN_PID=$$; exec "$0" "$@""#)
        .arg(example.exe)
        .args(args)
        .arg("--pid-file")
        .arg(&example.pid_file)
        .arg("--config")
        .arg(&example.config)
        .env("LISTEN_FDS", "1")
        .env("LISTEN_FDNAMES", "echo");
    let fd = listener.as_raw_fd();
    // SAFETY: the closure runs between fork and exec and makes only async-signal-safe
    // calls (dup2, fcntl); it allocates nothing.
    unsafe { cmd.pre_exec(move || to_descriptor_3(fd)) };
    cmd
}

/// Puts `fd` at descriptor 3, inheritable.
fn to_descriptor_3(fd: RawFd) -> std::io::Result<()> {
    // SAFETY: dup2 on two descriptor numbers; 3 is replaced, as intended.
    if unsafe { libc::dup2(fd, 3) } == -1 {
        return Err(std::io::Error::last_os_error());
    }
    // dup2 onto itself keeps close-on-exec: clear it in every case.
    // SAFETY: F_SETFD with flags 0 on descriptor 3, which is open now.
    if unsafe { libc::fcntl(3, libc::F_SETFD, 0) } == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// An address echod cannot bind here: it listens on a passed socket or fails.
const UNBINDABLE: &str = "192.0.2.1:7";

#[test]
fn binds_its_own_socket_without_one_passed() {
    let example = echod("echod-own");
    let daemon =
        example.start_detached(&mut example.command(&["--listen", "127.0.0.1:0", "--daemon"]));
    // Readiness is manual, after the bind: the address is in the log already.
    let log = example.log();
    let line = file_record(&log, "INFO", "echod", "(its own socket)");
    assert_eq!(echo(listening_on(line), "hello"), "hello");
    example.stop(&daemon);
}

#[test]
fn serves_on_a_passed_socket_in_the_foreground() {
    let example = echod("echod-activated-foreground");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    let mut cmd = activated(&example, &listener, &["--listen", UNBINDABLE]);
    let running = example.foreground(&mut cmd, "listening on");
    drop(listener);
    let line = running.seen.last().expect("a line").clone();
    assert_eq!(
        line,
        format!("INFO echod: listening on {address} (the socket systemd passed)")
    );
    assert_eq!(
        echo(address, "over the passed socket"),
        "over the passed socket"
    );
    assert!(running.terminate().success());
}

#[test]
fn keeps_a_passed_socket_across_daemon() {
    let example = echod("echod-activated-daemon");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    let mut cmd = activated(&example, &listener, &["--listen", UNBINDABLE, "--daemon"]);
    let daemon = example.start_detached(&mut cmd);
    drop(listener);
    let log = example.log();
    let line = file_record(&log, "INFO", "echod", "(the socket systemd passed)");
    assert_eq!(listening_on(line), address);
    assert_eq!(echo(address, "after the fork"), "after the fork");
    example.stop(&daemon);
}

#[test]
fn fails_to_start_when_it_cannot_bind() {
    let example = echod("echod-unbindable");
    let output = example.run(&["--listen", UNBINDABLE, "--daemon"]);
    daemon_tests::expect_code(&output, 69);
    let stderr = daemon_tests::text(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {UNBINDABLE}")),
        "{stderr}"
    );
}
