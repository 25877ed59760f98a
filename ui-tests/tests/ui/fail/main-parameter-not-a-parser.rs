use daemon_runtime::daemonize;

struct Settings {
    port: u16,
}

#[daemonize]
fn main(settings: Settings) {
    let _ = settings.port;
}
