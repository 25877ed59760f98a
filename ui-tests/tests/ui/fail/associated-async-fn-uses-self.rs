// `#[daemonize]` above `#[tokio::main]` moves the body into an inner function, which
// cannot see `Self`: rustc's one error says to name the type. (Below `#[tokio::main]`,
// or without `async`, `Self` works: see `pass/associated-function.rs`.)
use daemon_runtime::{DaemonArgs, daemonize};

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    daemon: DaemonArgs,
}

struct App;

impl App {
    fn port() -> u16 {
        80
    }

    #[daemonize]
    #[tokio::main(flavor = "current_thread")]
    async fn serve(args: ServeArgs) {
        let _ = (args, Self::port());
    }
}

fn main() {
    let _ = App::serve;
}
