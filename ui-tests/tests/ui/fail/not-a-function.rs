use daemon_runtime::daemonize;

#[daemonize]
struct Server;

fn main() {
    let _ = Server;
}
