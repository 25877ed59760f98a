use daemon_runtime::daemonize;

fn bind() -> std::io::Result<std::net::TcpListener> {
    std::net::TcpListener::bind("127.0.0.1:0")
}

#[daemonize(privileged = bind)]
fn main(port: u16) {
    let _ = port;
}
