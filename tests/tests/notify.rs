//! Readiness for service managers that speak the sd_notify protocol (systemd's
//! `Type=notify`): `READY=1` and the main pid, sent to `NOTIFY_SOCKET`.

mod common;

use std::os::unix::net::UnixDatagram;
use std::process::Stdio;

use common::{pid_file, probe, start};
use daemon_tests::{Killer, Scratch, read_pid_file};

fn receive(socket: &UnixDatagram) -> String {
    socket
        .set_read_timeout(Some(daemon_tests::DEADLINE))
        .unwrap();
    let mut buf = [0u8; 256];
    let n = socket.recv(&mut buf).expect("a notification");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn foreground_program_reports_ready_with_its_pid() {
    let scratch = Scratch::new("notify-fg");
    let path = scratch.join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    let mut child = probe(&scratch)
        .env("NOTIFY_SOCKET", &path)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let killer = Killer::new(child.id());
    assert_eq!(receive(&socket), format!("READY=1\nMAINPID={}", child.id()));
    drop(killer);
    child.wait().unwrap();
}

#[test]
fn detached_daemon_reports_its_own_pid_on_an_abstract_socket() {
    let scratch = Scratch::new("notify-detached");
    let name = format!("daemon-test-notify-{}", std::process::id());
    let socket = {
        use std::os::linux::net::SocketAddrExt;
        let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        UnixDatagram::bind_addr(&address).unwrap()
    };
    let daemon = start(
        &scratch,
        probe(&scratch)
            .arg("--daemon")
            .env("NOTIFY_SOCKET", format!("@{name}")),
    );
    assert_eq!(receive(&socket), format!("READY=1\nMAINPID={}", daemon.pid));
}

#[test]
fn manual_readiness_waits_for_the_program() {
    let scratch = Scratch::new("notify-manual");
    let path = scratch.join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    let fifo = scratch.join("go");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let mut child = probe(&scratch)
        .arg("--ready-after")
        .arg(&fifo)
        .env("NOTIFY_SOCKET", &path)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let killer = Killer::new(child.id());
    // Blocks until the program opened the FIFO: it is up and has not called ready().
    let mut go = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    assert_eq!(read_pid_file(&pid_file(&scratch)), Some(child.id()));
    socket.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 64];
    let early = socket.recv(&mut buf);
    assert_eq!(
        early.map_err(|e| e.kind()),
        Err(std::io::ErrorKind::WouldBlock),
        "READY=1 before the program called ready()"
    );
    socket.set_nonblocking(false).unwrap();
    use std::io::Write;
    go.write_all(b"!").unwrap();
    assert_eq!(receive(&socket), format!("READY=1\nMAINPID={}", child.id()));
    drop(killer);
    child.wait().unwrap();
}
