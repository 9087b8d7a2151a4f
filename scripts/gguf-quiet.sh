#!/usr/bin/env bash
# Quiet re-measure of GGUF decoding and prefill: tern and llama.cpp's llama-bench on the same files, in one
# command under the benchmark lock, two alternating rounds per file (about 6 minutes for the two
# 2B4T-shaped files: F16 table, and the same requantized with a Q6_K table).
#   scripts/gguf-quiet.sh [LLAMA_BIN_DIR] [TERN] [GGUF...]
# Prints one line per measurement: file, engine, what, tokens/s (llama-bench: its average and samples).
set -euo pipefail
B=${1:-$HOME/.cache/tern-refs/llama.cpp/build/bin}
T=${2:-}
shift $(($# < 2 ? $# : 2))
FILES=("$@")
[ ${#FILES[@]} -gt 0 ] || FILES=(/work/cache-i12/bitnet-2b4t-tq2_0.gguf /work/cache-i12/bitnet-2b4t-tq2_0-q6k.gguf)
if [ -z "$T" ]; then
	T=$(mktemp -d)/tern
	(cd "$(dirname "$0")/.." && go build -o "$T" ./cmd/tern)
fi
lscpu | grep -m1 'Model name' || true
exec flock /tmp/tern-bench.lock bash -c '
B=$0; T=$1; shift
echo "load average: $(cat /proc/loadavg)"
for F in "$@"; do
echo "== $F"
for round in 1 2; do
	"$B/llama-bench" -m "$F" -p 128 -n 64 -t 2 -r 2 -o json 2>/dev/null | /usr/bin/python3 -c "
import json, sys
for r in json.load(sys.stdin):
    what = \"pp%d\" % r[\"n_prompt\"] if r[\"n_prompt\"] else \"tg%d\" % r[\"n_gen\"]
    print(\"round $round llama.cpp %s %.2f tokens/s (samples %s)\" % (what, r[\"avg_ts\"], \", \".join(\"%.2f\" % x for x in r[\"samples_ts\"])))"
	"$T" bench gguf --model "$F" --threads 2 --tokens 64 --prompt 128 --reps 2 --json | /usr/bin/python3 -c "
import json, sys
d = json.load(sys.stdin)
print(\"round $round tern pp128 %.2f tokens/s (runs %s)\" % (d[\"prompt_tokens_per_s\"], \", \".join(\"%.2f\" % x for x in d[\"prompt_tokens_per_s_runs\"])))
print(\"round $round tern tg64 %.2f tokens/s (runs %s); %.0f%% of the %.1f GB/s bound; RSS %d MB\" % (d[\"tokens_per_s\"], \", \".join(\"%.2f\" % x for x in d[\"tokens_per_s_runs\"]), 100*d[\"bandwidth_fraction\"], d[\"bandwidth_gbps\"], d[\"rss_mb\"]))"
done
done
echo "load average: $(cat /proc/loadavg)"
' "$B" "$T" "${FILES[@]}"
