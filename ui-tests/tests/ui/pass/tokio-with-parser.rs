// An async `main` with the program's parser: `#[daemonize]` goes above `#[tokio::main]`
// (tokio refuses a `main` with parameters).
use daemon_runtime::daemonize;

#[derive(clap::Parser)]
struct Cli {
    #[arg(long, default_value = "hi")]
    greeting: String,
}

#[daemonize]
#[tokio::main(flavor = "current_thread")]
async fn main(cli: Cli) {
    tokio::task::yield_now().await;
    assert_eq!(cli.greeting, "hi");
}
