//! The benchmark daemon in the attribute form, the way the README writes a daemon:
//! `#[daemonize]` on `main` builds the command line and starts the daemon before the
//! body runs.
//!
//! ```text
//! tick_macro --daemon --pid-file /tmp/t.pid   # returns once the daemon is ready
//! tick_macro --stop --pid-file /tmp/t.pid
//! ```

#[daemon_runtime::daemonize(pid_file = "/tmp/tick_macro.pid")]
fn main() {
    daemon_runtime::shutdown().wait();
    // Returning ends the daemon; the attribute removes the PID file.
}
