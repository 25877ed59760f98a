// Names in the user's scope cannot change what the generated code means: it uses
// absolute paths and hygienic locals.
#![allow(non_upper_case_globals, dead_code)]

use daemon_runtime::{DaemonArgs, daemonize};

mod core {}

// Would turn a binding named `name` into a constant pattern (the generated code's own
// bindings are hygienic, prefixed `__daemonize_`).
const name: &str = "shadow";
const value: u8 = 0;

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    daemon: DaemonArgs,
}

fn bind() -> Result<u8, String> {
    Ok(7)
}

#[daemonize(privileged = bind)]
fn serve(args: ServeArgs, port: u8) {
    let _ = (args, port, value);
}

#[daemonize(umask = 0o027)]
fn main() {
    let _ = serve;
}
