#!/usr/bin/env bash
# Wall-clock overhead per step of each hybrid-optimizer part, measured apart from the ablation (whose
# runs share the machine with other jobs): the ablation's model and batch, 60 steps per run, rows
# interleaved and repeated three times in one command, median step time of steps 11-60 per run.
#   scripts/ablation_overhead.sh TERN CLUSTERS.json [OUTDIR]    (run it under flock /tmp/tern-bench.lock)
set -euo pipefail
tern=${1:?usage: ablation_overhead.sh TERN CLUSTERS.json [OUTDIR]}
clusters=${2:?usage: ablation_overhead.sh TERN CLUSTERS.json [OUTDIR]}
out=${3:-/tmp/tern-overhead}
data=${DATA:-../shared/data/gutenberg}
rm -rf "$out" && mkdir -p "$out"
common=(--data "$data" --tokenizer char --preset tiny --batch 16 --seq 128 --steps 60 --warmup 25 --schedule bitnet
	--lr 6e-3 --min-lr 6e-4 --eval-every 1000 --eval-batches 1 --threads 1 --seed 1)
declare -A extra=(
	[adamw]=""
	[clusters]="--clusters $clusters --batching balanced"
	[controller]="--controller aux"
	[trust]="--trust-region layer --trust-ratio 0.02"
	[all]="--clusters $clusters --batching balanced --controller aux --trust-region layer --trust-ratio 0.02"
)
for rep in 1 2 3; do
	for row in adamw clusters controller trust all; do
		# shellcheck disable=SC2086
		"$tern" train "${common[@]}" ${extra[$row]} --out "$out/$row-$rep" > "$out/$row-$rep.log" 2>&1
	done
done
python3 - "$out" <<'PY'
import json, statistics, sys, glob, os
out = sys.argv[1]
med = {}
for d in sorted(glob.glob(out + "/*-[123]")):
    row = os.path.basename(d).rsplit("-", 1)[0]
    ms = [json.loads(l)["step_ms"] for l in open(d + "/metrics.jsonl") if '"train"' in l]
    med.setdefault(row, []).append(statistics.median(ms[10:]))
base = statistics.median(med["adamw"])
print("| row | median step (ms), three runs | vs AdamW |")
print("|---|---|---|")
for row in ["adamw", "clusters", "controller", "trust", "all"]:
    m = statistics.median(med[row])
    print(f"| {row} | {m:.1f} ({min(med[row]):.1f}–{max(med[row]):.1f}) | {100 * (m / base - 1):+.1f}% |")
PY
