"""Sizes of one crate's functions in a `cargo bloat -n 0 -w` listing, by runtime module
or by the generic they instantiate.

bloat_by_module.py LISTING.fns daemon_runtime
"""
import sys,re,collections
def load(p):
    rows=[]
    for l in open(p):
        m=re.match(r'\s*[\d.]+%\s+[\d.]+%\s+([\d.]+)(B|KiB|MiB)\s+(\S+)\s+(.*)$',l)
        if not m: continue
        v=float(m.group(1))*{'B':1/1024,'KiB':1,'MiB':1024}[m.group(2)]
        rows.append((m.group(3),m.group(4).strip(),v))
    return rows
def key(name):
    n=re.sub(r'<[^<>]*>','<>',name)  # crude
    return name
if __name__=='__main__':
    rows=load(sys.argv[1]); crate=sys.argv[2]
    agg=collections.Counter()
    for c,n,v in rows:
        if c!=crate: continue
        m=re.match(r'daemon_runtime::([a-z_]+(::[a-z_]+)?)',n)
        if m: agg['own: '+m.group(1)]+=v
        elif n.startswith('<daemon_runtime::'):
            m=re.match(r'<daemon_runtime::([a-z_]+(::[a-z_]+)?)',n); agg['own impl: '+m.group(1)]+=v
        else:
            m=re.match(r'<?([a-z_]+::[a-z_]+(::[a-z_]+)?)',n)
            agg['generic: '+(m.group(1) if m else n[:40])]+=v
    tot=sum(agg.values())
    print(f'total {tot:.1f} KiB')
    for k,v in agg.most_common(45): print(f'{v:7.1f} {k}')
