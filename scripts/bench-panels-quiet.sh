#!/usr/bin/env bash
# bench-panels-quiet.sh: the wide 2-bit panel kernels against the 16-column ones, in one command for a
# quiet machine (~2-3 min on the 2-vCPU Zen 5): (1) TestTernaryPanelWideMicro (both alternating in one
# process, one thread, thread CPU time, hot and cold, the 100M and 700M presets' matrices at 16 and 240
# rows); (2) `tern bench bitgemm --op panels --peak`, the product's share of VPDPBUSD's peak on 1 and 2
# threads; (3) `tern bench serve --clients 1,16` on both presets, TERN_TGEMM_NARROW=1 (16-column
# kernels) and not, alternating, ROUNDS rounds, with the median decode step at 16 clients.
#
# Usage: scripts/bench-panels-quiet.sh [OUT_DIR]   (run from the repository root)
set -euo pipefail
out=${1:-/tmp/tern-panels-quiet}
mkdir -p "$out"
go build -o "$out/tern" ./cmd/tern
go test -c -o "$out/kernels.test" ./kernels
echo "load before: $(cat /proc/loadavg)"
lscpu | grep -m1 'Model name' || true
(cd kernels && TERN_TGEMM_WIDE=1 TERN_TGEMM_ROUNDS=15 GOMAXPROCS=1 taskset -c 0 "$out/kernels.test" \
	-test.run TernaryPanelWideMicro -test.v | grep -v '^=== \|^--- \|^PASS')
for t in 1 2; do
	for m in 16 240; do
		"$out/tern" bench bitgemm --op panels --m $m --n 2048 --k 768 --threads $t --reps 15 --peak
		"$out/tern" bench bitgemm --op panels --m $m --n 4096 --k 1536 --threads $t --reps 15 --peak
	done
done
: >"$out/serve.jsonl"
for run in $(seq 1 "${ROUNDS:-5}"); do
	for p in 100m 700m; do
		for v in narrow wide; do
			if [ $v = narrow ]; then export TERN_TGEMM_NARROW=1; else unset TERN_TGEMM_NARROW; fi
			"$out/tern" bench serve --preset $p --clients 1,16 --requests 2 --threads 2 --linear=false --json |
				sed "s/^{/{\"kernels\": \"$v\", /" >>"$out/serve.jsonl"
		done
	done
done
unset TERN_TGEMM_NARROW
echo "load after: $(cat /proc/loadavg)"
python3 - "$out/serve.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
for p in ("100m", "700m"):
    for v in ("narrow", "wide"):
        rs = [r for r in rows if r["preset"] == p and r["kernels"] == v]
        one = [r["tokens_per_s"] for r in rs if r["clients"] == 1]
        six = [r for r in rs if r["clients"] == 16]
        print("%s %-6s 16 clients: step ms %s (median %.2f), tok/s %s (median %.0f); 1 client tok/s median %.0f" % (
            p, v, " ".join("%.2f" % r["step_ms"] for r in six), statistics.median(r["step_ms"] for r in six),
            " ".join("%.0f" % r["tokens_per_s"] for r in six), statistics.median(r["tokens_per_s"] for r in six),
            statistics.median(one)))
PY
