import json, statistics, glob
A = ["bench/results/audit-postgresql-1000000-20261202_171726-A1.json",
     "bench/results/audit-postgresql-1000000-20261202_172449-A2.json",
     "bench/results/audit-postgresql-1000000-20261202_173225-A3.json"]
B = ["bench/results/audit-postgresql-1000000-20261202_172105-B1.json",
     "bench/results/audit-postgresql-1000000-20261202_172832-B2.json",
     "bench/results/audit-postgresql-1000000-20261202_173608-B3.json"]
def load(p):
    d = json.load(open(p)); return d["tag"], {(m["name"], m["user"]): m for m in d["measurements"]}, d
runs_a = [load(p) for p in A]; runs_b = [load(p) for p in B]
print("tags", [r[0] for r in runs_a], [r[0] for r in runs_b], runs_a[0][2]["git"], runs_b[0][2]["git"])
keys = list(runs_b[0][1].keys())
print("| endpoint | reader | A p50/p95 (A1;A2;A3) | B p50/p95 (B1;B2;B3) | B/A p95 per pair | rows A→B | verdict |")
print("|---|---|---|---|---|---|---|")
for k in keys:
    if not all(k in r[1] for r in runs_a + runs_b):
        continue
    ratios = [b[1][k]["p95_ms"] / a[1][k]["p95_ms"] for a, b in zip(runs_a, runs_b)]
    med = statistics.median(ratios)
    if all(r > 1.10 for r in ratios) and med > 1.2: v = "**slower**"
    elif sum(r > 1 for r in ratios) >= len(ratios) - 1 and med > 1.10: v = "slower (weak)"
    elif all(r < 1/1.10 for r in ratios) and med < 1/1.2: v = "**faster**"
    elif sum(r < 1 for r in ratios) >= len(ratios) - 1 and med < 1/1.10: v = "faster (weak)"
    else: v = "within noise"
    fa = "; ".join(f'{a[1][k]["p50_ms"]:.0f}/{a[1][k]["p95_ms"]:.0f}' for a in runs_a)
    fb = "; ".join(f'{b[1][k]["p50_ms"]:.0f}/{b[1][k]["p95_ms"]:.0f}' for b in runs_b)
    ra, rb = runs_a[0][1][k].get("rows", runs_a[0][1][k].get("total")), runs_b[0][1][k].get("rows", runs_b[0][1][k].get("total"))
    print(f"| {k[0]} | {k[1]} | {fa} | {fb} | {' · '.join(f'{r:.2f}' for r in ratios)} | {ra}→{rb} | {v} |")
