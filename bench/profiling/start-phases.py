"""Medians of the start-up phases recorded by start-phases.bt.

start-phases.py BPFTRACE_OUTPUT ORDER_FILE   (ORDER_FILE: the system of each start, in order)
"""
import re,sys,collections,statistics
maps=collections.defaultdict(dict)
for l in open(sys.argv[1]):
    m=re.match(r'@(\w+)\[(\d+)\]: (\d+)',l)
    if m: maps[m.group(1)][int(m.group(2))]=int(m.group(3))
# launcher pids in exec order; the system is known from the command order file
lp=sorted(maps['exec'],key=lambda p:maps['exec'][p])
order=open(sys.argv[2]).read().split()
res=collections.defaultdict(lambda: collections.defaultdict(list))
for k,L in enumerate(lp):
    if k>=len(order): break
    s=order[k]; g=lambda m,p: maps[m].get(p)
    I=g('lchild',L); D=g('ichild',I) if I else None
    e=g('exec',L)
    if not (I and D and g('clone_in',L) and g('exitg',L) and g('gone',L) and g('clone_in',I) and g('exitg',I)): continue
    r=res[s]
    r['L exec→fork (loader, std init, parse, settings, checks, PID file)'].append(g('clone_in',L)-e)
    r['L fork syscall (parent side)'].append(g('clone_out',L)-g('clone_in',L))
    r['I born→first syscall'].append(g('first',I)-g('born',I))
    r['I first syscall→second fork (setsid...)'].append(g('clone_in',I)-g('first',I))
    r['I second fork syscall'].append(g('clone_out',I)-g('clone_in',I))
    r['D born→first syscall'].append(g('first',D)-g('born',D))
    r['D born→launcher exit_group (daemon work to ready + launcher wake)'].append(g('exitg',L)-g('born',D))
    r['L exit_group→exit tracepoint (exit_mm)'].append(g('gone',L)-g('exitg',L))
    r['TOTAL exec→launcher exit tracepoint'].append(g('gone',L)-e)
names=list(res)
keys=list(res[names[0]])
print(f"{'phase (median µs)':70}"+''.join(f'{n:>16}' for n in names))
for k in keys:
    print(f'{k:70}'+''.join(f'{statistics.median(res[n][k])/1000:16.1f}' for n in names))
print(f"{'samples':70}"+''.join(f'{len(res[n][keys[0]]):16}' for n in names))
