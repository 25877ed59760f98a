#!/bin/sh
# Runs the README's daemon end to end: `hello`, a plain `fn main()` under
# `#[daemonize]` (examples/src/bin/hello.rs). Starts it detached, shows its status and
# log, reloads it, stops it. Needs no root: the PID file and log go to
# $XDG_RUNTIME_DIR/daemon-examples or /tmp/daemon-examples-<uid>.
set -eu
cd "$(dirname "$0")/.."
cargo build --quiet -p daemon-examples --bin hello
hello=target/debug/hello
dir=/tmp/daemon-examples-$(id -u)
if [ -n "${XDG_RUNTIME_DIR:-}" ] && [ -d "$XDG_RUNTIME_DIR" ]; then
    dir=$XDG_RUNTIME_DIR/daemon-examples
fi

set -x
"$hello" --daemon                  # returns once the daemon is ready
"$hello" --status                  # exit 0: running, with its pid
cat "$dir/hello.pid"
"$hello" --daemon || true          # refused: already running, PID file untouched
sleep 2
"$hello" --reload                  # SIGHUP: log reopened, reload hook runs
"$hello" --stop                    # SIGTERM, waits for the exit
"$hello" --status || true          # exit 3: not running
tail -n 5 "$dir/hello.log"
