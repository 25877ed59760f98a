//! Issue 12, stumble 3, `fn main(cli: Cli)`: the program's own `--help`, with the daemon
//! flags showing the attribute's values as the defaults (`[default: 0o077]`), and
//! `--foreground` instead of `--daemon` for a program that always detaches.

use clap::Parser;
use daemon_runtime::daemonize;

/// Greets, in the background
#[derive(Parser)]
struct Cli {
    /// What to say
    #[arg(long, default_value = "hello")]
    greeting: String,
}

#[daemonize(umask = 0o077, daemon = true)]
fn main(cli: Cli) {
    let shutdown = daemon_runtime::shutdown();
    println!("{}", cli.greeting);
    shutdown.wait();
}
