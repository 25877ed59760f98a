"""Per-syscall timeline of the launchers recorded by launcher-syscalls.bt: for each
syscall in order, the median user time before it and the median time in it.

launcher-syscalls.py BPFTRACE_OUTPUT COMM   (COMM as the kernel keeps it: 15 bytes)
"""
import re,sys,collections,statistics
names={}
for l in open('/usr/include/x86_64-linux-gnu/asm/unistd_64.h'):
    m=re.match(r'#define __NR_(\w+) (\d+)',l)
    if m: names[int(m.group(2))]=m.group(1)
procs=collections.defaultdict(list); comm={}
for l in open(sys.argv[1]):
    p=l.split()
    if len(p)<3 or not p[0].isdigit(): continue
    pid=int(p[0])
    if p[1]=='exec': comm[pid]=p[3]; procs[pid].append(('exec',int(p[2])))
    else: procs[pid].append((p[1],int(p[2])))
want=sys.argv[2]
seqs=[]
for pid,ev in procs.items():
    if comm.get(pid)!=want: continue
    # pair enters and exits
    out=[]; t0=ev[0][1]; last=t0; cur=None
    for k,t in ev[1:]:
        if k.startswith('e'): cur=(int(k[1:]),t)
        elif k.startswith('x') and cur and int(k[1:])==cur[0]:
            out.append((names.get(cur[0],cur[0]),cur[1]-last,t-cur[1])); last=t; cur=None
        elif k=='fork': pass
    if cur: out.append((names.get(cur[0],cur[0]),cur[1]-last,0))
    seqs.append(out)
# keep the most common syscall sequence
key=collections.Counter(tuple(s[0] for s in q) for q in seqs).most_common(1)[0]
seqs=[q for q in seqs if tuple(s[0] for s in q)==key[0]]
print(f'# {want}: {len(seqs)} launchers with the same syscall sequence; median µs: user time before the call, then the call')
tot_u=tot_k=0
for i,n in enumerate(key[0]):
    u=statistics.median(q[i][1] for q in seqs)/1000; k=statistics.median(q[i][2] for q in seqs)/1000
    tot_u+=u; tot_k+=k
    print(f'{i:3} {n:18} user-before {u:8.1f}  call {k:8.1f}')
print(f'sum user {tot_u:.1f} sum calls {tot_k:.1f}')
