#!/bin/sh
# pareto-bits.sh: validation perplexity vs stored bits per weight on Gutenberg (character level), for
# uniform widths 1, 1.58, 2, 3, 4, 8, fp32, and --bits auto at budgets 1.8/2.0/2.5/3.0 (knapsack and
# cluster), every run with the same tokens (STEPS x BATCH x SEQ). One JSON line per run in $OUT/results.jsonl.
# Usage: scripts/pareto-bits.sh [out-dir]   (env: STEPS=300, SEEDS="1 2", TERN, DATA)
set -eu
OUT=${1:-runs/pareto-bits}
STEPS=${STEPS:-300}
TERN=${TERN:-go run ./cmd/tern}
DATA=${DATA:-../shared/data/gutenberg}
mkdir -p "$OUT"
common="--preset tiny --data $DATA --tokenizer char --steps $STEPS --batch 16 --seq 64 --eval-every 100 --eval-batches 20 --threads 2 --json"
run() { # name seed args...
	name=$1; seed=$2; shift 2
	dir="$OUT/$name-s$seed"
	rm -rf "$dir"
	res=$(nice -n 10 $TERN train $common --seed "$seed" --out "$dir" "$@" | tail -1)
	printf '{"name":"%s","seed":%s,"result":%s}\n' "$name" "$seed" "$res" >> "$OUT/results.jsonl"
	echo "$name seed $seed: $res"
}
for seed in ${SEEDS:-1 2}; do
	run fp32 $seed --linear fp32
	for b in 1.58 1 2 3 4 8; do run "uniform-$b" $seed --bits $b; done
	for budget in 1.8 2.0 2.5 3.0; do
		for m in knapsack cluster; do run "$m-$budget" $seed --bits auto --bits-budget $budget --bits-every 100 --bits-method $m; done
	done
done
# the table: name, seed, stored bits/weight, validation perplexity
python3 - "$OUT/results.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l); x = r["result"]
    print("| %s | %d | %s | %.3f |" % (r["name"], r["seed"], "%.4f" % x["stored_bits_per_weight"] if x.get("stored_bits_per_weight") else "32 (fp32)", x["val_ppl"]))
PY
