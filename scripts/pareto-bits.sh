#!/bin/sh
# pareto-bits.sh: validation perplexity vs stored bits per weight on Gutenberg (character level), for
# uniform widths 1, 1.58, 2, 3, 4, 8, fp32, and --bits auto at budgets 1.8/2.0/2.5/3.0 (knapsack and
# cluster), every run with the same tokens (STEPS x 16 x 64). One JSON line per run in $OUT/results.jsonl;
# at the end the table of all results so far (name, seed, stored bits/weight, validation perplexity) and
# the figure $OUT/pareto.png (scripts/pareto-plot.sh: bits per weight measured from each packed file).
# Usage: scripts/pareto-bits.sh [out-dir]
#   env: STEPS=300, SEEDS="1 2", ROWS="fp32 uniform-2 knapsack-2.0 ..." (default: every row),
#        SENS=fisher|loss (the allocated rows' --bits-sensitivity), TERN (default go run ./cmd/tern), DATA
set -eu
OUT=${1:-runs/pareto-bits}
STEPS=${STEPS:-300}
TERN=${TERN:-go run ./cmd/tern}
DATA=${DATA:-../shared/data/gutenberg}
SENS=${SENS:-fisher}
mkdir -p "$OUT"
common="--preset tiny --data $DATA --tokenizer char --steps $STEPS --batch 16 --seq 64 --eval-every 100 --eval-batches 20 --threads 2 --json"
want() { [ -z "${ROWS:-}" ] || echo " $ROWS " | grep -q " $1 "; }
run() { # name seed args...
	name=$1; seed=$2; shift 2
	want "$name" || return 0
	dir="$OUT/$name-s$seed"
	rm -rf "$dir"
	start=$(date +%s)
	res=$(nice -n 10 $TERN train $common --seed "$seed" --out "$dir" "$@" | tail -1)
	printf '{"name":"%s","seed":%s,"wall_s":%s,"result":%s}\n' "$name" "$seed" "$(($(date +%s) - start))" "$res" >> "$OUT/results.jsonl"
	echo "$name seed $seed: $res"
}
for seed in ${SEEDS:-1 2}; do
	run fp32 $seed --linear fp32
	for b in 1.58 1 2 3 4 8; do run "uniform-$b" $seed --bits $b; done
	for budget in 1.8 2.0 2.5 3.0; do
		for m in knapsack cluster; do
			run "$m-$budget" $seed --bits auto --bits-budget $budget --bits-method $m --bits-sensitivity "$SENS"
		done
	done
done
python3 - "$OUT/results.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l); x = r["result"]
    b = "%.4f" % x["stored_bits_per_weight"] if x.get("stored_bits_per_weight") else "32 (fp32)"
    print("| %s | %d | %s | %.3f |" % (r["name"], r["seed"], b, x["val_ppl"]))
PY
scripts/pareto-plot.sh "$OUT/pareto.png" "$OUT"/*-s*
