"""Per-function size differences of one crate between two `cargo bloat -n 0 -w` listings.

bloat_diff.py BEFORE.fns AFTER.fns CRATE [N]
"""
import sys,collections
import os; sys.path.insert(0,os.path.dirname(os.path.abspath(__file__))); from bloat_by_module import load
a=load(sys.argv[1]); b=load(sys.argv[2]); crate=sys.argv[3]
ca=collections.Counter(); cb=collections.Counter()
for c,n,v in a:
    if c==crate: ca[n]+=v
for c,n,v in b:
    if c==crate: cb[n]+=v
d={k:cb[k]-ca[k] for k in set(ca)|set(cb)}
print('total', round(sum(cb.values())-sum(ca.values()),1))
for k,v in sorted(d.items(), key=lambda x:-abs(x[1]))[:int(sys.argv[4]) if len(sys.argv)>4 else 40]:
    if abs(v)>0.05: print(f'{v:+7.1f} {k[:150]}')
