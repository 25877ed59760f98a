//! Issue 12, stumble 3, `fn main()`: `--help` shows the attribute's values as the
//! defaults (`--umask ... [default: 0o077]`), and a program that always detaches
//! offers `--foreground` rather than `--daemon`.

use daemon_runtime::daemonize;

#[daemonize(umask = 0o077, daemon = true)]
fn main() {
    daemon_runtime::shutdown().wait();
}
