// `fn main()`: the runtime builds the whole command line.
use daemon_runtime::daemonize;

#[daemonize(umask = 0o022, stop_timeout = 2.5, start_timeout = 5, name = "bare")]
fn main() -> std::io::Result<()> {
    assert!(daemon_runtime::config().is_none());
    Ok(())
}
