// The README's subcommand-handler form with only `daemon-runtime` as a dependency:
// `use daemon_runtime::clap;` shadows the clap this test project also has, so clap's
// derive (which writes `clap::...`) goes through the re-export. `--out` is needed to
// start `serve`, not to stop it.
use std::path::PathBuf;

use daemon_runtime::clap::{self, Parser};
use daemon_runtime::{DaemonArgs, daemonize};

#[derive(clap::Parser)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    #[arg(long, required_unless_present_any = DaemonArgs::CONTROL_IDS)]
    out: Option<PathBuf>,
    #[command(flatten)]
    daemon: DaemonArgs,
}

#[daemonize(pid_file = false)]
fn serve(args: ServeArgs) {
    let _ = args.out;
}

fn main() {
    if let Some(Command::Serve(args)) = Cli::parse().command {
        serve(args);
    }
}
