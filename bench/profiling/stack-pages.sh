#!/bin/sh
# Which function first touched each page of the main stack, in the launcher (whose dirty
# stack pages the daemon inherits: RssAnon), the intermediate and the daemon. Needs root,
# bpftrace, and a build with symbols (see README.md):
#   sh bench/profiling/stack-pages.sh /tmp/symtarget/release/tick_macro
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/daemon-stack-XXXXXX")
trap 'rm -rf "$work"' EXIT
ulimit -l 8192 2>/dev/null || true
bpftrace "$here/stack-pages.bt" > "$work/out.txt" 2>/dev/null &
tracer=$!
sleep 5 # bpftrace attaches its probe
"$bin" --daemon --pid-file "$work/p.pid" 2>> "$work/stderr.log"
pid=$(cat "$work/p.pid")
grep -E 'stack|r--p 00000000' "/proc/$pid/maps" > "$work/maps.txt"
grep RssAnon "/proc/$pid/status"
kill "$pid"
sleep 0.3
kill -INT $tracer
wait $tracer || true
python3 - "$bin" "$work/maps.txt" "$work/out.txt" <<'PY'
import subprocess, sys
binary, maps, out = sys.argv[1:4]
maps = open(maps).read().split('\n')
base = int(maps[0].split('-')[0], 16)
s0, s1 = [int(x, 16) for x in [l for l in maps if 'stack' in l][0].split()[0].split('-')]
rows = []
for line in open(out):
    p = line.split()
    if len(p) == 3 and p[0].isdigit():
        pid, addr, ip = int(p[0]), int(p[1], 16), int(p[2], 16)
        if s0 <= addr < s1:
            rows.append((pid, addr, ip))
ips = sorted({ip - base for _, _, ip in rows if base <= ip < base + 0x1000000})
names = subprocess.run(['addr2line', '-f', '-C', '-e', binary] + [hex(i) for i in ips],
                       capture_output=True, text=True).stdout.split('\n')
sym = {ips[i]: names[2 * i] for i in range(len(ips))}
for pid, addr, ip in rows:
    print(pid, f'{(s1 - addr) // 1024:4d} KiB below the top', sym.get(ip - base, hex(ip))[:110])
PY
