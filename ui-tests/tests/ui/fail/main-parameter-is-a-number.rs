// The case: a number where the program's parser goes. One error, at the type,
// saying what the parameter must be.
use daemon_runtime::daemonize;

#[daemonize]
fn main(port: u32) {
    let _ = port;
}
