// `fn main(cli: Cli)`: the program's own parser, plus the daemon flags.
use daemon_runtime::daemonize;

#[derive(clap::Parser)]
#[command(version, about = "A program with its own arguments")]
struct Cli {
    #[arg(long, default_value_t = 8080)]
    port: u16,
}

/// Patterns in parameters stay as written.
#[daemonize(umask = 0o077)]
fn main(Cli { port }: Cli) -> std::process::ExitCode {
    assert_eq!(port, 8080);
    std::process::ExitCode::SUCCESS
}
