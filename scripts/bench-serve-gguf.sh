#!/usr/bin/env bash
# bench-serve-gguf.sh: serving one GGUF file (default: the 2B4T-shaped random TQ2_0 file), tern against
# llama-server in the same command (scripts/bench-serve.sh with MODEL), RUNS runs (default 3) at 1, 4
# and 16 clients, --parallel 16, THREADS threads each (default 2); prints tokens/s, TTFT p50, per-token
# p50 and RSS per run and the 16/1 and tern/llama-server ratios.
#
# Usage: scripts/bench-serve-gguf.sh [OUT_DIR]   (from the repository root; under flock /tmp/tern-bench.lock)
# Environment: MODEL (default /work/cache-i12/bitnet-2b4t-tq2_0.gguf), MAXTIME (90s: no new client
# count after this long per server), TERN (default: built into
# OUT_DIR), LLAMA_BIN, THREADS, RUNS, LEVELS (1,4,16), PARALLEL (16).
set -euo pipefail
out=${1:-/tmp/tern-serve-gguf}
mkdir -p "$out"
tern=${TERN:-}
if [ -z "$tern" ]; then
	tern="$out/tern"
	go build -o "$tern" ./cmd/tern
fi
llama=${LLAMA_BIN:-$HOME/.cache/tern-refs/llama.cpp/build/bin}
model=${MODEL:-/work/cache-i12/bitnet-2b4t-tq2_0.gguf}
for run in $(seq 1 "${RUNS:-3}"); do
	echo "run $run load before: $(cat /proc/loadavg)"
	MAXTIME="${MAXTIME:-90s}" MODEL="$model" CLIENTS="${LEVELS:-1,4,16}" PARALLEL="${PARALLEL:-16}" REQUESTS=1 THREADS="${THREADS:-2}" \
		scripts/bench-serve.sh "$out/run$run.jsonl" "$tern" "$llama" >/dev/null
	echo "run $run load after: $(cat /proc/loadavg)"
done
python3 - "$out" "${RUNS:-3}" <<'PY'
import json, sys
out, runs = sys.argv[1], int(sys.argv[2])
for run in range(1, runs + 1):
    rows = [json.loads(l) for l in open("%s/run%d.jsonl" % (out, run)) if l.startswith("{")]
    by = {}
    for r in rows:
        if "server" in r:
            by[(r["server"], r["clients"])] = r
    llrss = [r["llama_server_rss_mb"] for r in rows if "llama_server_rss_mb" in r]
    print("run %d:" % run)
    for (srv, c), r in sorted(by.items()):
        name = "tern" if srv == "tern" else "llama-server"
        rss = r.get("rss_mb") or (llrss[0] if llrss else 0)
        print("  %-12s %2d clients: %6.1f tokens/s, TTFT p50 %7.0f ms, per token p50 %6.1f ms, RSS %d MB%s" % (
            name, c, r["tokens_per_s"], r["ttft_p50_ms"], r["per_token_p50_ms"], rss, " (peak)" if srv != "tern" else " (peak %d)" % r.get("peak_rss_mb", 0)))
    t1, t16 = by.get(("tern", 1)), by.get(("tern", 16))
    l1, l16 = by.get(("target", 1)), by.get(("target", 16))
    if t1 and t16:
        print("  tern 16/1 clients: %.2fx" % (t16["tokens_per_s"] / t1["tokens_per_s"]))
    if l1 and l16:
        print("  llama-server 16/1 clients: %.2fx" % (l16["tokens_per_s"] / l1["tokens_per_s"]))
    for c in (1, 4, 16):
        if ("tern", c) in by and ("target", c) in by:
            print("  tern / llama-server at %d clients: %.2fx" % (c, by[("tern", c)]["tokens_per_s"] / by[("target", c)]["tokens_per_s"]))
PY
