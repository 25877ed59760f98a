use daemon_runtime::daemonize;

#[daemonize]
fn serve<A: clap::Args>(args: A) {
    let _ = args;
}

fn main() {}
