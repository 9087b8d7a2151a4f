#!/usr/bin/env bash
# bench-serve-quiet.sh: the serving figures of issue #16 in one command, for a quiet machine (~4-6 min
# on the 2-vCPU Zen 5): (1) `tern bench serve` on the 100M and 700M decode presets at 1, 4, 16 and 64
# clients, three runs (aggregate tokens/s, TTFT and per-token p50/p99, RSS), and the 16-client / 1-client
# ratio of each run; (2) tern against llama-server at 16 clients in the same command
# (scripts/bench-serve.sh, --parallel 16, random TQ2_0 GGUFs of the same shapes).
#
# Usage: scripts/bench-serve-quiet.sh [OUT_DIR]   (run from the repository root)
# Environment: TERN (a built tern; default: built into OUT_DIR), LLAMA_BIN (llama-server's folder,
# default ~/.cache/tern-refs/llama.cpp/build/bin), GGUF_DIR (r100m.gguf, r700m.gguf; made with
# scripts/gguf-random.py when missing), THREADS (default 2); RUNS (3) and LEVELS (1,4,16,64) shorten it.
set -euo pipefail
out=${1:-/tmp/tern-serve-quiet}
mkdir -p "$out"
tern=${TERN:-}
if [ -z "$tern" ]; then
	tern="$out/tern"
	go build -o "$tern" ./cmd/tern
fi
llama=${LLAMA_BIN:-$HOME/.cache/tern-refs/llama.cpp/build/bin}
gguf=${GGUF_DIR:-$out/gguf}
threads=${THREADS:-2}
mkdir -p "$gguf"
for p in 100m 700m; do
	[ -f "$gguf/r$p.gguf" ] || /usr/bin/python3 scripts/gguf-random.py --preset "$p" --out "$gguf/r$p.gguf" --ctx 256
done
echo "load before: $(cat /proc/loadavg)"
: >"$out/tern.jsonl"
for run in $(seq 1 "${RUNS:-3}"); do
	for p in 100m 700m; do
		"$tern" bench serve --preset "$p" --clients "${LEVELS:-1,4,16,64}" --requests 2 --threads "$threads" --linear=false --json |
			sed "s/^{/{\"run\": $run, /" >>"$out/tern.jsonl"
	done
done
if [ -x "$llama/llama-server" ]; then
	CLIENTS=16 PARALLEL=16 REQUESTS=2 THREADS="$threads" scripts/bench-serve.sh "$out/vs-llama.jsonl" "$tern" "$llama" "$gguf" >/dev/null
else
	echo "no llama-server in $llama: skipping the comparison" >&2
	: >"$out/vs-llama.jsonl"
fi
echo "load after: $(cat /proc/loadavg)"
python3 - "$out/tern.jsonl" "$out/vs-llama.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print("tern (%s), tokens/s | TTFT p50/p99 ms | per-token p50/p99 ms | RSS MB, per run:" % rows[0]["features"])
for p in ("100m", "700m"):
    for c in (1, 4, 16, 64):
        rs = [r for r in rows if r["preset"] == p and r["clients"] == c]
        print("  %s %2d clients: %s" % (p, c, "  ".join("%.0f | %.0f/%.0f | %.1f/%.1f | %d" % (r["tokens_per_s"], r["ttft_p50_ms"], r["ttft_p99_ms"], r["per_token_p50_ms"], r["per_token_p99_ms"], r["rss_mb"]) for r in rs)))
    one = {r["run"]: r["tokens_per_s"] for r in rows if r["preset"] == p and r["clients"] == 1}
    six = {r["run"]: r["tokens_per_s"] for r in rows if r["preset"] == p and r["clients"] == 16}
    print("  %s 16 clients / 1 client per run: %s (target >= 4)" % (p, " ".join("%.2fx" % (six[k] / one[k]) for k in sorted(one) if k in six)))
vs = [json.loads(l) for l in open(sys.argv[2]) if l.startswith('{"server"')]
for p in ("100m", "700m"):
    t = [r["tokens_per_s"] for r in vs if r["preset"] == p and r["server"] == "tern"]
    l = [r["tokens_per_s"] for r in vs if r["preset"] == p and r["server"] == "target"]
    if t and l:
        print("  %s 16 clients, same command: tern %.0f tokens/s, llama-server %.0f tokens/s: %.2fx" % (p, t[0], l[0], t[0] / l[0]))
PY
