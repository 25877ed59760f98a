#!/bin/sh
# Runs the example daemon end to end: start it detached, show its status and log,
# reload it, stop it. Needs no root: the PID file and log go to $XDG_RUNTIME_DIR or
# /tmp/ticker-<uid>.
set -eu
cd "$(dirname "$0")/.."
cargo build --quiet -p daemon-examples --bin ticker
ticker=target/debug/ticker
dir=${XDG_RUNTIME_DIR:-/tmp/ticker-$(id -u)}
[ -d "$dir" ] || dir=/tmp/ticker-$(id -u)

set -x
"$ticker" --daemon                 # returns once the daemon is ready
"$ticker" --status                 # exit 0: running, with its pid
cat "$dir/ticker.pid"
"$ticker" --daemon || true         # refused: already running, PID file untouched
sleep 2
"$ticker" --reload                 # SIGHUP: log reopened, reload hook runs
"$ticker" --stop                   # SIGTERM, waits for the exit
"$ticker" --status || true         # exit 3: not running
tail -n 5 "$dir/ticker.log"
