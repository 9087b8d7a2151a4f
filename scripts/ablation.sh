#!/usr/bin/env bash
# The hybrid-optimizer ablation of README "Hybrid optimizer": Gutenberg, the BitLinear "tiny" preset
# (4 layers, hidden 128, char tokenizer, ~0.8M params), the same token budget for every run
# (STEPS x 16 x 128 tokens), BitNet two-stage schedule. Rows: AdamW with its LR tuned over three
# values (seed 1), then the best LR with seeds 2 and 3; + clustered batches, + controller,
# + trust region, all together (three seeds each). One run at a time, niced, one thread.
# A run whose directory holds a model.safetensors is skipped, so the script can be rerun after a stop.
#   scripts/ablation.sh TERN OUTDIR [rows...]   (rows: tune adamw clusters controller trust all random widelr clustrust)
# random: the control for clusters (the same fixed windows in plain shuffled epochs, no stratification);
# widelr: when the grid's best LR is its largest (smallest) value, AdamW at twice (half) it, seed 1;
# the tuned LR is then the best of all seed-1 AdamW runs.
# clustrust: clustered batches + trust region without the controller.
# The summary: python3 scripts/ablation_summary.py OUTDIR
set -euo pipefail
tern=${1:?usage: ablation.sh TERN OUTDIR [rows...]}
out=${2:?usage: ablation.sh TERN OUTDIR [rows...]}
shift 2
rows=${*:-tune adamw clusters controller trust all}
STEPS=${STEPS:-500}
data=${DATA:-../shared/data/gutenberg}
mkdir -p "$out"
# SIZE=10m: the 10M-parameter BitLinear model of README "Quality: 1.58-bit vs fp32 on Gutenberg" (d 320,
# 6 layers, 5 heads, FFN 1280, the 8192-token BPE of $TOK), 200 steps x 8 x 128 = 205k tokens per run (half the README run: what a shared 2-core machine allowed for 17 runs).
if [ "${SIZE:-tiny}" = 10m ]; then
	STEPS=${STEPS_10M:-200}
	tok=${TOK:?SIZE=10m needs TOK=gut8k.json (tern tokenizer train --vocab-size 8192 --split train)}
	common=(--data "$data" --tokenizer "$tok" --preset small --hidden 320 --heads 5 --ffn 1280 --layers 6 --linear bitnet
		--batch 8 --seq 128 --steps "$STEPS" --warmup 20 --schedule bitnet --eval-every 20 --eval-batches 10 --threads 1)
	LRS=(1e-3 2e-3 4e-3)
else
	tok=char
	common=(--data "$data" --tokenizer char --preset tiny --batch 16 --seq 128 --steps "$STEPS" --warmup 25
		--schedule bitnet --eval-every 25 --eval-batches 12 --threads 1)
	LRS=(1.5e-3 3e-3 6e-3)
fi
run() { # name seed lr extra...
	local name=$1 seed=$2 lr=$3
	shift 3
	local dir=$out/$name-s$seed
	[ -f "$dir/model.safetensors" ] && return 0
	rm -rf "$dir"
	echo "== $name seed $seed lr $lr $* ($(date -u +%H:%M:%S))"
	nice -n 10 "$tern" train "${common[@]}" --seed "$seed" --lr "$lr" --min-lr "$(python3 -c "print($lr/10)")" \
		--out "$dir" "$@" > "$out/$name-s$seed.log" 2>&1 || { echo "run $name-s$seed failed: $(tail -1 "$out/$name-s$seed.log")"; return 1; }
}
best_lr() { # the tuned LR: lowest final validation loss at seed 1 over the grid and any edge check (widelr)
	python3 - "$out" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
def final(d):
    v = [json.loads(l) for l in open(f"{d}/metrics.jsonl") if '"valid"' in l]
    return v[-1]["loss"]
runs = [d for d in glob.glob(f"{out}/adamw-lr*-s1") if os.path.exists(f"{d}/model.safetensors")]
print(os.path.basename(min(runs, key=final))[len("adamw-lr"):-len("-s1")])
PY
}
edge_lr() { # the grid's best LR was an edge of it: the next value beyond (x2 or /2), else nothing
	python3 - "$(best_lr)" "${LRS[@]}" <<'PY'
import sys
best, grid = float(sys.argv[1]), [float(x) for x in sys.argv[2:]]
def fmt(x):
    m, e = f"{x:e}".split("e")
    return f"{float(m):g}e{int(e)}"
if best == max(grid):
    print(fmt(2 * best))
elif best == min(grid):
    print(fmt(best / 2))
PY
}
clusters=$out/clusters.json
for row in $rows; do
	case $row in
	tune) for lr in "${LRS[@]}"; do run "adamw-lr$lr" 1 "$lr"; done ;;
	adamw) lr=$(best_lr); for s in 2 3; do run "adamw-lr$lr" "$s" "$lr"; done ;;
	clusters | all)
		[ -f "$clusters" ] || nice -n 10 "$tern" cluster --data "$data" --tokenizer "$tok" --seq 128 --k 64 --seed 1 --iters 15 --threads 1 --out "$clusters"
		lr=$(best_lr)
		if [ "$row" = clusters ]; then
			for s in 1 2 3; do run clusters "$s" "$lr" --clusters "$clusters" --batching balanced; done
		else
			for s in 1 2 3; do run all "$s" "$lr" --clusters "$clusters" --batching balanced --controller aux --trust-region layer --trust-ratio "${RATIO:-0.02}"; done
		fi ;;
	controller) lr=$(best_lr); for s in 1 2 3; do run controller "$s" "$lr" --controller aux; done ;;
	random) lr=$(best_lr); for s in 1 2 3; do run random "$s" "$lr" --clusters "$clusters" --batching random; done ;;
	widelr) lr=$(edge_lr); [ -z "$lr" ] || run "adamw-lr$lr" 1 "$lr" ;;
	clustrust) lr=$(best_lr); for s in 1 2 3; do run clusters+trust "$s" "$lr" --clusters "$clusters" --batching balanced --trust-region layer --trust-ratio "${RATIO:-0.02}"; done ;;
	trust) lr=$(best_lr); for s in 1 2 3; do run trust "$s" "$lr" --trust-region layer --trust-ratio "${RATIO:-0.02}"; done ;;
	*) echo "unknown row $row"; exit 2 ;;
	esac
done
