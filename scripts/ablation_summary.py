#!/usr/bin/env python3
"""Summarize scripts/ablation.sh runs as the README's Markdown table.

usage: python3 scripts/ablation_summary.py OUTDIR [--tokens-per-step 2048]

Rows group the run directories NAME-sSEED. For each row: mean ± sample std (and the range) of the
validation loss at the end and at half the budget, the tokens at which the mean validation curve
first reaches tuned AdamW's mean final validation loss, the trust region's bound fraction, the
controller's multiplier and the hypergradient cosine it learned from (mean over all seeds' steps and
the share of steps where it was > 0, i.e. said "shorter"; runs that logged it), and the median step
time (the machine is shared: step times carry other jobs' load and are no overhead measurement;
scripts/ablation_overhead.sh is).
"""
import glob, json, os, re, statistics, sys

out = sys.argv[1]
tps = 2048
if "--tokens-per-step" in sys.argv:
    tps = int(sys.argv[sys.argv.index("--tokens-per-step") + 1])

rows = {}
for d in sorted(glob.glob(os.path.join(out, "*-s[0-9]*"))):
    if not os.path.isdir(d) or not os.path.exists(os.path.join(d, "model.safetensors")):
        continue
    name, seed = re.match(r"(.*)-s(\d+)$", os.path.basename(d)).groups()
    ms = [json.loads(l) for l in open(os.path.join(d, "metrics.jsonl")) if l.strip()]
    val = {m["step"]: m["loss"] for m in ms if m["split"] == "valid"}
    step_ms = [m["step_ms"] for m in ms if m["split"] == "train" and "step_ms" in m]
    bound = [m.get("trust_bound", 0) for m in ms if m["split"] == "train"]
    mult = [m["lr_mult"] for m in ms if m["split"] == "train" and "lr_mult" in m]
    cos = [m["hyper_cos"] for m in ms if m["split"] == "train" and "hyper_cos" in m]
    rows.setdefault(name, {})[int(seed)] = dict(val=val, step_ms=statistics.median(step_ms), bound=statistics.mean(bound) if bound else 0,
                                                mult=(min(mult), max(mult), mult[-1]) if mult else None, cos=cos)

adamw = [n for n in rows if n.startswith("adamw") and len(rows[n]) >= 3]
if not adamw:
    sys.exit("no AdamW row with three seeds yet")
base = min(adamw, key=lambda n: statistics.mean(r["val"][max(r["val"])] for r in rows[n].values()))

def stats(xs):
    m = statistics.mean(xs)
    s = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{m:.4f} ± {s:.4f} ({min(xs):.4f}–{max(xs):.4f})"

last = max(next(iter(rows[base].values()))["val"])
half = last // 2
target = statistics.mean(r["val"][last] for r in rows[base].values())
base_ms = statistics.mean(r["step_ms"] for r in rows[base].values())
print(f"AdamW reference: {base}, mean final validation loss {target:.4f} at {last * tps:,} tokens\n")
print("| row | seeds | val loss at end | val loss at half budget | tokens to AdamW's final loss | trust region bound | LR multiplier (min–max, last; seed 1) | hypergradient cosine (mean, share > 0) | median step (ms; shared machine) |")
print("|---|---|---|---|---|---|---|---|---|")
order = sorted(rows, key=lambda n: (not n.startswith("adamw"), n != base, n))
for n in order:
    rs = rows[n]
    steps = sorted(set.intersection(*(set(r["val"]) for r in rs.values())))
    if last not in steps:
        continue
    mean_curve = {s: statistics.mean(r["val"][s] for r in rs.values()) for s in steps}
    reach = next((s for s in steps if mean_curve[s] <= target), None)
    reach_s = f"{reach * tps:,} ({100 * reach / last:.0f}%)" if reach else "not reached"
    ms = statistics.mean(r["step_ms"] for r in rs.values())
    b = statistics.mean(r["bound"] for r in rs.values())
    m1 = rs[min(rs)]["mult"]
    mult = f"{m1[0]:.2f}–{m1[1]:.2f}, {m1[2]:.2f}" if m1 else "—"
    cs = [c for r in rs.values() for c in r["cos"]]
    cos = f"{statistics.mean(cs):+.4f}, {100 * sum(c > 0 for c in cs) / len(cs):.0f}%" if cs else "—"
    print(f"| {n} | {len(rs)} | {stats([r['val'][last] for r in rs.values()])} | {stats([r['val'][half] for r in rs.values()])} | {reach_s} | {100 * b:.1f}% | {mult} | {cos} | {ms:.0f} |")
