use daemon_runtime::daemonize;

#[daemonize]
fn serve() {}

fn main() {
    serve();
}
