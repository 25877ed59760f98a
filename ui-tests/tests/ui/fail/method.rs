use daemon_runtime::daemonize;

struct Server;

impl Server {
    #[daemonize]
    fn serve(&self) {}
}

fn main() {
    Server.serve();
}
