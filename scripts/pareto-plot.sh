#!/bin/sh
# pareto-plot.sh: the bit-width Pareto figure from training runs. Each RUN_DIR is NAME-sSEED (as
# scripts/pareto-bits.sh names them: uniform-2-s1, knapsack-2.0-s2, fp32-s1, ...) holding
# model.safetensors and metrics.jsonl. Every quantized run is packed (tern pack) and its bits per
# weight are read from the packed file's bytes (as tern pack prints them); the validation perplexity is the
# last "valid" line of metrics.jsonl. Writes OUT.jsonl beside the PNG and draws OUT with `tern plot --pareto`.
# Usage: scripts/pareto-plot.sh OUT.png RUN_DIR...   (env TERN, default go run ./cmd/tern)
set -eu
OUT=$1; shift
TERN=${TERN:-go run ./cmd/tern}
points=${OUT%.png}.jsonl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: > "$tmp/points.jsonl"
for dir in "$@"; do
	base=$(basename "$dir")
	name=${base%-s*}; seed=${base##*-s}
	ppl=$(grep '"split":"valid"' "$dir/metrics.jsonl" | tail -1 | sed 's/.*"ppl":\([0-9.e+-]*\).*/\1/')
	if [ "$name" = fp32 ]; then
		printf '{"name":"%s","seed":%s,"ppl":%s}\n' "$name" "$seed" "$ppl" >> "$tmp/points.jsonl"
		continue
	fi
	# one width: its "N-bit tensors" line; mixed widths: the "all quantized" line
	$TERN pack --model "$dir/model.safetensors" --out "$tmp/m.tern" > "$tmp/pack.txt"
	bits=$(sed -n 's/.*all quantized:.* = \([0-9.]*\) bits\/weight.*/\1/p' "$tmp/pack.txt")
	if [ -z "$bits" ] && [ "$(grep -c 'tensors:.*bits/weight' "$tmp/pack.txt")" = 1 ]; then
		bits=$(sed -n 's/.*tensors:.* = \([0-9.]*\) bits\/weight.*/\1/p' "$tmp/pack.txt")
	fi
	[ -n "$bits" ] || { echo "pareto-plot: no bits per weight in tern pack's output for $dir" >&2; exit 1; }
	printf '{"name":"%s","seed":%s,"bits":%s,"ppl":%s}\n' "$name" "$seed" "$bits" "$ppl" >> "$tmp/points.jsonl"
	echo "$name seed $seed: $bits bits/weight (packed), ppl $ppl"
done
mv "$tmp/points.jsonl" "$points"
$TERN plot --pareto "$points" --out "$OUT"
