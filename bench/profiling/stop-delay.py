"""Where the time between the daemon's exit and the stop command's exit goes, from
stop-delay.bt's maps.

stop-delay.py BPFTRACE_OUTPUT
"""
import re,sys,collections,statistics
maps=collections.defaultdict(dict)
for l in open(sys.argv[1]):
    m=re.match(r'@(\w+)\[(\d+)\]: (\S+)',l)
    if m: maps[m.group(1)][int(m.group(2))]=m.group(3)
res=collections.defaultdict(lambda: collections.defaultdict(list))
for d,s in maps['stopper'].items():
    s=int(s); c=maps['comm'].get(s)
    try:
        de=int(maps['dexit'][d]); pr=int(maps['pollret'][s]); eg=int(maps['exitg'][s]); se=int(maps['sexit'][s])
    except KeyError: continue
    r=res[c]
    r['daemon exit → stop command back from poll (wake-up)'].append(pr-de)
    r['back from poll → exit_group (checks, message, drops)'].append(eg-pr)
    r['exit_group → parent notified (process teardown)'].append(se-eg)
    r['TOTAL daemon exit → stop command exit'].append(se-de)
for c,r in res.items():
    print(f'== {c} ({len(next(iter(r.values())))} stops), median µs')
    for k,v in r.items(): print(f'  {statistics.median(v)/1000:8.1f}  (p10 {sorted(v)[len(v)//10]/1000:6.1f}, p90 {sorted(v)[9*len(v)//10]/1000:6.1f})  {k}')
