use daemon_runtime::daemonize;

#[derive(clap::Parser)]
struct Cli {}

#[daemonize]
fn main(cli: Cli, port: u16) {
    let _ = (cli, port);
}
