// A parameter meant for a privileged action's value, without `privileged = ...`: the
// error says to name the action.
use daemon_runtime::daemonize;

#[daemonize(user = "nobody")]
fn main(listener: std::net::TcpListener) {
    let _ = listener;
}
