// `crate = path`: the runtime reached through a re-export or a renamed dependency.
extern crate daemon_runtime as renamed;

mod reexported {
    use ui_tests::daemon_runtime::DaemonArgs;

    #[derive(clap::Args)]
    pub(crate) struct ServeArgs {
        #[command(flatten)]
        pub(crate) daemon: DaemonArgs,
    }

    #[ui_tests::daemon_runtime::daemonize(crate = ::ui_tests::daemon_runtime)]
    pub(crate) fn serve(_args: ServeArgs) {}
}

// The string form that serde and tokio use works too.
#[renamed::daemonize(crate = "renamed", umask = 0o027)]
fn main() {
    let _ = reexported::serve;
}
