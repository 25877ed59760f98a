#!/bin/sh
# Where the start, the stop and the exit → stop delay of daemon-runtime go, against the
# floor: native syscall costs, wall times, and bpftrace timelines. See README.md.
# Needs root, gcc and bpftrace (apt-get install bpftrace). Run from anywhere:
#   sh bench/profiling/run.sh [N]        # N starts per system (default 200)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
n=${1:-200}
work=$(mktemp -d "${TMPDIR:-/tmp}/daemon-profiling-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/d"

(cd "$root" && cargo build -q --profile bench -p daemon-bench --bins \
    && cargo build -q --profile bench -p daemon-bench-lean)
bin=$root/target/release
for c in syscalls pidfile-ext4 drive; do gcc -O2 -o "$work/$c" "$here/$c.c"; done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg); scratch: $work ($(stat -f -c %T "$work"))"

echo "== native cost of the extra syscalls"
"$work/syscalls" "$work/d"
echo "== the PID file on this file system"
"$work/pidfile-ext4" "$work/d"
echo "== start and stop wall times (whole processes, interleaved)"
"$work/drive" "$n" "$work/d" "$bin" tick_macro tick_macro:--log-target=none tick_floor \
    tick_macro_noconfig

pid_file=$work/d/p.pid
start() {
    case $1 in
        tick_floor) "$bin/$1" --pid-file "$pid_file" 2>> "$work/stderr.log" ;;
        *) "$bin/$1" --daemon --pid-file "$pid_file" 2>> "$work/stderr.log" ;;
    esac
}
# $1: bpftrace script; $2: how each system is stopped (pidfd or own); $3: read the PID
# file after start (as the harness does) or not.
traced() {
    bpftrace "$here/$1" > "$work/out.txt" 2>/dev/null &
    tracer=$!
    sleep 3 # bpftrace attaches its probes
    : > "$work/order.txt"
    i=0
    while [ $i -lt "$n" ]; do
        for s in tick_macro tick_floor tick_macro_noconfig; do
            start $s
            echo $s >> "$work/order.txt"
            [ "$3" = read ] && cat "$pid_file" > /dev/null
            if [ "$2" = own ] && [ $s != tick_floor ]; then
                "$bin/$s" --stop --pid-file "$pid_file" > /dev/null
            else
                "$bin/stop_pidfd" --pid-file "$pid_file"
            fi
        done
        i=$((i + 1))
    done
    kill -INT $tracer
    wait $tracer || true
}
echo "== start phases"
traced start-phases.bt pidfd read
python3 "$here/start-phases.py" "$work/out.txt" "$work/order.txt"
echo "== launcher syscall timelines"
traced launcher-syscalls.bt pidfd read
for c in tick_macro tick_floor; do python3 "$here/launcher-syscalls.py" "$work/out.txt" $c; done
echo "== daemon exit → stop command exit (PID file read after start, as the harness does)"
traced stop-delay.bt own read
python3 "$here/stop-delay.py" "$work/out.txt" | grep -A4 -E '^== (tick_macro|tick_macro_noco|stop_pidfd) '
echo "== the same, nobody reading the PID file between start and stop (the cycles)"
traced stop-delay.bt own noread
python3 "$here/stop-delay.py" "$work/out.txt" | grep -A4 -E '^== (tick_macro|tick_macro_noco|stop_pidfd) '
