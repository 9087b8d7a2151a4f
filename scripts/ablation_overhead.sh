#!/usr/bin/env bash
# Wall-clock overhead per step of each hybrid-optimizer part, measured apart from the ablation (whose
# runs share the machine with other jobs): the ablation's model and batch, rows interleaved and
# repeated REPS times (default 3) in one command, the median step time per run after its first sixth of steps.
#   scripts/ablation_overhead.sh TERN CLUSTERS.json [OUTDIR]    (run it under flock /tmp/tern-bench.lock)
set -euo pipefail
tern=${1:?usage: ablation_overhead.sh TERN CLUSTERS.json [OUTDIR]}
clusters=${2:?usage: ablation_overhead.sh TERN CLUSTERS.json [OUTDIR]}
out=${3:-/tmp/tern-overhead}
data=${DATA:-../shared/data/gutenberg}
rm -rf "$out" && mkdir -p "$out"
# SIZE=10m (with TOK=gut8k.json): the 10M-parameter model of the 10M ablation (scripts/ablation.sh SIZE=10m)
# at its tuned LR (LR=...), STEPS steps per run (default 60 tiny, 30 10m; the first sixth is skipped).
if [ "${SIZE:-tiny}" = 10m ]; then
	steps=${STEPS:-30}
	common=(--data "$data" --tokenizer "${TOK:?SIZE=10m needs TOK=gut8k.json}" --preset small --hidden 320 --heads 5 --ffn 1280
		--layers 6 --linear bitnet --batch 8 --seq 128 --steps "$steps" --warmup 20 --schedule bitnet
		--lr "${LR:-2e-3}" --min-lr "$(python3 -c "print(${LR:-2e-3}/10)")" --eval-every 1000 --eval-batches 1 --threads 1 --seed 1)
else
	steps=${STEPS:-60}
	common=(--data "$data" --tokenizer char --preset tiny --batch 16 --seq 128 --steps "$steps" --warmup 25 --schedule bitnet
		--lr 6e-3 --min-lr 6e-4 --eval-every 1000 --eval-batches 1 --threads 1 --seed 1)
fi
declare -A extra=(
	[adamw]=""
	[clusters]="--clusters $clusters --batching balanced"
	[controller]="--controller aux"
	[trust]="--trust-region layer --trust-ratio 0.02"
	[all]="--clusters $clusters --batching balanced --controller aux --trust-region layer --trust-ratio 0.02"
)
for rep in $(seq "${REPS:-3}"); do
	for row in adamw clusters controller trust all; do
		# shellcheck disable=SC2086
		"$tern" train "${common[@]}" ${extra[$row]} --out "$out/$row-$rep" > "$out/$row-$rep.log" 2>&1
	done
done
python3 - "$out" "$steps" <<'PY'
import json, statistics, sys, glob, os
out = sys.argv[1]
med = {}
for d in sorted(glob.glob(out + "/*-[0-9]")):
    row = os.path.basename(d).rsplit("-", 1)[0]
    ms = [json.loads(l)["step_ms"] for l in open(d + "/metrics.jsonl") if '"train"' in l]
    med.setdefault(row, []).append(statistics.median(ms[int(sys.argv[2]) // 6:]))
base = statistics.median(med["adamw"])
print("| row | median step (ms), median (range) of the runs | vs AdamW |")
print("|---|---|---|")
for row in ["adamw", "clusters", "controller", "trust", "all"]:
    m = statistics.median(med[row])
    print(f"| {row} | {m:.1f} ({min(med[row]):.1f}–{max(med[row]):.1f}) | {100 * (m / base - 1):+.1f}% |")
PY
