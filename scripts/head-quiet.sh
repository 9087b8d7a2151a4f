#!/usr/bin/env bash
# head-quiet.sh: the batched F16 LM head figures in one command (~5 min on the 2-vCPU Zen 5), under
# the benchmark lock: (1) the kernel, `go test -bench SgemvF16Head` (100M and 700M head shapes,
# B = 1, 4, 16, 64 vectors, 1 and 2 threads; best call, G FMA/s per thread against the ~112 peak);
# (2) `tern bench serve` on the 100M and 700M presets at 1 and 16 clients, 2 threads, and the
# 16-client / 1-client ratio of aggregate tokens/s (the issue's target: >= 4x).
# Usage: scripts/head-quiet.sh [OUT_DIR]   (run from the repository root; RUNS=N repeats (2))
set -euo pipefail
out=${1:-/tmp/tern-head-quiet}
mkdir -p "$out"
go build -o "$out/tern" ./cmd/tern
go test -c -o "$out/kernels.test" ./kernels
lscpu | grep -m1 'Model name' || true
exec flock /tmp/tern-bench.lock bash -c '
out=$0
echo "load before: $(cat /proc/loadavg)"
"$out/kernels.test" -test.run XXX -test.bench "SgemvF16Head/k=.*/threads=./B=(1|4|16|64)$" -test.benchtime 20x |
	awk "/^Benchmark/ {printf \"%-45s best %8s us  %6s G FMA/s per thread\n\", \$1, \$7, \$9}"
: >"$out/serve.jsonl"
for run in $(seq 1 "${RUNS:-2}"); do
	for p in 100m 700m; do
		"$out/tern" bench serve --preset "$p" --clients 1,16 --requests 2 --threads 2 --linear=false --json |
			sed "s/^{/{\"run\": $run, /" >>"$out/serve.jsonl"
	done
done
echo "load after: $(cat /proc/loadavg)"
python3 - "$out/serve.jsonl" <<PY
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
for p in ("100m", "700m"):
    one = {r["run"]: r["tokens_per_s"] for r in rows if r["preset"] == p and r["clients"] == 1}
    six = {r["run"]: r["tokens_per_s"] for r in rows if r["preset"] == p and r["clients"] == 16}
    print("%s: 1 client %s tokens/s; 16 clients %s; ratio %s (target >= 4)" % (p,
        " ".join("%.0f" % one[k] for k in sorted(one)), " ".join("%.0f" % six[k] for k in sorted(six)),
        " ".join("%.2fx" % (six[k] / one[k]) for k in sorted(one) if k in six)))
PY
' "$out"
