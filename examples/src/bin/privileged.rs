//! A privileged action: the daemon binds its listening socket as the user that started
//! it (root may bind port 80), then drops to `nobody` and serves on that socket.
//! Readiness is manual, after the socket is known to work.
//!
//! ```text
//! sudo privileged --daemon
//! nc 127.0.0.1 80          # "hello from pid 4242 (uid 65534)"
//! sudo privileged --stop
//! ```
//!
//! The address is `listen` in the config file's `[server]` table (the file the runtime
//! already parsed for its `[daemon]` table): by default `127.0.0.1:80` as root,
//! `127.0.0.1:8080` otherwise, where the daemon keeps the invoking user.

use std::io::{self, Write};
use std::net::TcpListener;
use std::os::fd::AsFd;

use daemon_examples::{service_user, state_path};
use daemon_runtime::{Shutdown, daemonize};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::{geteuid, getuid};
use serde::Deserialize;

/// The config file's `[server]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Server {
    listen: String,
}

/// Runs in the daemon as the original user, before privileges drop.
fn bind_listener() -> io::Result<TcpListener> {
    let section = daemon_runtime::config()
        .map(|config| config.section::<Server>("server"))
        .transpose()
        .map_err(io::Error::other)?
        .flatten();
    let address = match section {
        Some(server) => server.listen,
        None if geteuid().is_root() => "127.0.0.1:80".to_owned(),
        None => "127.0.0.1:8080".to_owned(),
    };
    let listener = TcpListener::bind(&address)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {address}: {e}")))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

#[daemonize(
    privileged = bind_listener,
    user = service_user(),
    ready = "manual",
    pid_file = state_path("privileged.pid"),
    stdout = state_path("privileged.log"),
    stderr = state_path("privileged.log"),
    config = state_path("privileged.toml"),
)]
fn main(listener: TcpListener) -> io::Result<()> {
    log::info!(
        "listening on {} as uid {}",
        listener.local_addr()?,
        getuid()
    );
    // Taken before readiness: from now on SIGTERM asks the loop to finish.
    let shutdown = daemon_runtime::shutdown();
    // An error before this line reaches the launcher, which prints it and fails.
    daemon_runtime::ready();
    serve(&listener, &shutdown)
}

/// Greets every connection until SIGTERM: waits on the listener and on the shutdown
/// handle's descriptor together.
fn serve(listener: &TcpListener, shutdown: &Shutdown) -> io::Result<()> {
    let greeting = format!("hello from pid {} (uid {})\n", std::process::id(), getuid());
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
            Ok((mut stream, _)) => {
                // A client that hung up early is its own business.
                let _ = stream.write_all(greeting.as_bytes());
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    log::info!("stopping");
    Ok(())
}
