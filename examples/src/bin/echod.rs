//! A TCP echo server that systemd can start on demand (socket activation). It serves on
//! the socket a `.socket` unit passes it, named `echo`, and binds one itself when it was
//! given none, so the same binary runs by hand, with `--daemon`, under a supervisor, or
//! activated by systemd (in the foreground, or with `--daemon` under `Type=forking` or
//! `Type=notify`: the socket survives the fork).
//!
//! ```text
//! echod --listen 127.0.0.1:7007 --daemon    # binds the address itself
//! echod --print-service systemd-socket=echo=127.0.0.1:7007 >/etc/systemd/system/echod.socket
//! echod --print-service systemd-activated >/etc/systemd/system/echod.service
//! systemctl start echod.socket              # systemd listens; the first client starts echod
//! ```
//!
//! Readiness is manual, once the listener is in hand: `echod --daemon` returns when it
//! listens, or fails with the reason (the address is taken, the passed socket is not a
//! TCP listener).

use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;

use clap::Parser;
use daemon_examples::state_path;
use daemon_runtime::{Shutdown, daemonize};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// Echoes every line back, on the socket systemd passes or on its own
#[derive(Parser)]
#[command(name = "echod", version)]
struct Cli {
    /// Address to listen on when no socket was passed
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7007")]
    listen: String,
}

#[daemonize(
    ready = "manual",
    pid_file = state_path("echod.pid"),
    stdout = state_path("echod.log"),
    stderr = state_path("echod.log"),
)]
fn main(cli: Cli) -> io::Result<()> {
    let shutdown = daemon_runtime::shutdown();
    let listener = listener(&cli.listen)?;
    // An error before this line reaches the launcher, which prints it and fails.
    daemon_runtime::ready();
    serve(&listener, &shutdown)?;
    log::info!("stopping");
    Ok(())
}

/// The socket named `echo` that systemd passed (`FileDescriptorName=echo`), or one bound
/// to `address` when there is none.
fn listener(address: &str) -> io::Result<TcpListener> {
    let passed = daemon_runtime::listeners()
        .tcp("echo")
        .map_err(io::Error::other)?;
    let (listener, whose) = match passed {
        Some(listener) => (listener, "the socket systemd passed"),
        None => {
            let bound = TcpListener::bind(address).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot listen on {address}: {e}"))
            })?;
            (bound, "its own socket")
        }
    };
    listener.set_nonblocking(true)?;
    log::info!("listening on {} ({whose})", listener.local_addr()?);
    Ok(listener)
}

/// Accepts connections until SIGTERM, waiting on the listener and the shutdown handle
/// together; each connection is echoed on a thread of its own.
fn serve(listener: &TcpListener, shutdown: &Shutdown) -> io::Result<()> {
    while !shutdown.requested() {
        let mut fds = [
            PollFd::new(listener.as_fd(), PollFlags::POLLIN),
            PollFd::new(shutdown.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
        match listener.accept() {
            Ok((stream, peer)) => {
                log::info!("connection from {peer}");
                std::thread::spawn(move || echo(stream));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Sends back what the client sends until it hangs up.
fn echo(stream: TcpStream) {
    let copied = stream
        .set_nonblocking(false)
        .and_then(|()| stream.try_clone())
        .and_then(|mut reader| io::copy(&mut reader, &mut &stream));
    if let Err(e) = copied {
        log::warn!("a connection failed: {e}");
    }
}
