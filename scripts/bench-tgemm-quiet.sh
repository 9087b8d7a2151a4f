#!/usr/bin/env bash
# bench-tgemm-quiet.sh: the figures of the 2-bit ternary panels (kernels.TernaryPanelForward) in one
# command, for a quiet machine (~5-6 min on the 2-vCPU Zen 5): (1) the batched ternary product four ways,
# one thread, thread CPU time, hot and cold (TestTernaryPanelMicro) for the 100M and 700M FFN matrices;
# (2) `tern bench serve --clients 1,16 --threads 2 --linear=false` on the 100M and 700M presets, three
# runs each, alternating a tern built from BEFORE (default: the commit before the panels) and this
# tree, with the 16-client / 1-client ratio of each run.
#
# Usage: scripts/bench-tgemm-quiet.sh [OUT_DIR]   (run from the repository root)
# Environment: BEFORE (a commit; default c9c7614, main just before the panels: one-byte resident matrices from 16 rows), RUNS (3), THREADS (2).
set -euo pipefail
out=${1:-/tmp/tern-tgemm-quiet}
mkdir -p "$out"
before=${BEFORE:-c9c7614}
threads=${THREADS:-2}
go build -o "$out/tern-after" ./cmd/tern
rm -rf "$out/src-before" && mkdir -p "$out/src-before"
git archive "$before" | tar -x -C "$out/src-before"
(cd "$out/src-before" && go build -o "$out/tern-before" ./cmd/tern)
echo "load before: $(cat /proc/loadavg)"
lscpu | grep -m1 'Model name' || true
for nk in "2048 768" "4096 1536"; do
	set -- $nk
	TERN_TGEMM_MICRO=1 TERN_TGEMM_N=$1 TERN_TGEMM_K=$2 go test -run TernaryPanelMicro -count=1 -v ./kernels | grep -E '^(rows|[0-9]+ x)'
done
: >"$out/serve.jsonl"
for run in $(seq 1 "${RUNS:-3}"); do
	for p in 100m 700m; do
		for v in before after; do
			"$out/tern-$v" bench serve --preset "$p" --clients 1,16 --requests 2 --threads "$threads" --linear=false --json |
				sed "s/^{/{\"run\": $run, \"build\": \"$v\", /" >>"$out/serve.jsonl"
		done
	done
done
echo "load after: $(cat /proc/loadavg)"
python3 - "$out/serve.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
for p in ("100m", "700m"):
    for v in ("before", "after"):
        rs = [r for r in rows if r["preset"] == p and r["build"] == v]
        one = {r["run"]: r for r in rs if r["clients"] == 1}
        six = {r["run"]: r for r in rs if r["clients"] == 16}
        print("%s %-6s 1 client tok/s: %s | 16 clients tok/s: %s | per-token p50 ms at 16: %s | RSS MB at 16: %s | ratio: %s" % (
            p, v, " ".join("%.0f" % one[k]["tokens_per_s"] for k in sorted(one)),
            " ".join("%.0f" % six[k]["tokens_per_s"] for k in sorted(six)),
            " ".join("%.1f" % six[k]["per_token_p50_ms"] for k in sorted(six)),
            " ".join("%d" % six[k]["rss_mb"] for k in sorted(six)),
            " ".join("%.2fx" % (six[k]["tokens_per_s"] / one[k]["tokens_per_s"]) for k in sorted(one) if k in six)))
PY
