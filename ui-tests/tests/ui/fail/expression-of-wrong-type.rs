// An expression is checked by rustc against the builder's setter.
use daemon_runtime::daemonize;

fn mask() -> i64 {
    0o027
}

#[daemonize(umask = mask())]
fn main() {}
