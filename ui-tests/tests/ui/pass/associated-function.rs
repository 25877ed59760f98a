// An associated function without a receiver: its body may use `Self` (and the impl's
// generics), also below `#[tokio::main]`.
use daemon_runtime::{DaemonArgs, daemonize};

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    daemon: DaemonArgs,
}

struct App<T>(T);

impl<T: Default + std::fmt::Debug> App<T> {
    fn value() -> T {
        T::default()
    }

    #[daemonize(pid_file = "/run/app.pid")]
    fn serve(args: ServeArgs) -> Result<(), std::io::Error> {
        let _ = args;
        println!("{:?}", Self::value());
        Ok(())
    }

    // Without `Self`, as any handler.
    #[daemonize]
    fn plain(_args: ServeArgs) {}
}

struct Async;

impl Async {
    fn port() -> u16 {
        80
    }

    // tokio expands first, into a plain function whose body uses `Self`.
    #[tokio::main(flavor = "current_thread")]
    #[daemonize]
    async fn serve(args: ServeArgs) {
        let _ = (args, Self::port());
    }
}

fn main() {
    let _ = (App::<u8>::serve, App::<u8>::plain, Async::serve);
}
