#!/usr/bin/env bash
# bench-serve.sh: tern's HTTP server against llama.cpp's llama-server, same clients, same run, loopback
# only: `tern bench serve` on the 100M and 700M decode presets (random packed weights), then
# llama-server with a random TQ2_0 `llama` GGUF of the same size (scripts/gguf-random.py) and the
# same --parallel, measured by the same client code (`tern bench serve --target`).
#
# Usage: scripts/bench-serve.sh OUT.jsonl [TERN] [LLAMA_BIN_DIR] [GGUF_DIR]
# Run it under `flock /tmp/tern-bench.lock` on a shared machine. GGUF_DIR must hold r100m.gguf and
# r700m.gguf (scripts/gguf-random.py --preset 100m|700m --out DIR/rNNNm.gguf --ctx 4096).
set -euo pipefail
out=${1:?usage: bench-serve.sh OUT.jsonl [TERN] [LLAMA_BIN_DIR] [GGUF_DIR]}
tern=${2:-tern}
llama=${3:-$HOME/.cache/tern-refs/llama.cpp/build/bin}
gguf=${4:-.}
clients=${CLIENTS:-1,4,16,64}
par=${PARALLEL:-64}
tokens=${TOKENS:-32}
prompt=${PROMPT:-16}
requests=${REQUESTS:-1}
threads=${THREADS:-2}
port=${PORT:-18093}
: >"$out"
lscpu | sed -n 's/^Model name: *//p' | head -1 | sed 's/.*/{"cpu": "&"}/' >>"$out"
for p in 100m 700m; do
	"$tern" bench serve --preset "$p" --clients "$clients" --parallel "$par" --tokens "$tokens" --prompt "$prompt" \
		--requests "$requests" --threads "$threads" --max-time 90s --json --linear="$([ $p = 100m ] && echo true || echo false)" >>"$out"
	LD_LIBRARY_PATH="$llama" "$llama/llama-server" -m "$gguf/r$p.gguf" --host 127.0.0.1 --port "$port" -t "$threads" \
		--parallel "$par" -c $((par * (prompt + tokens + 16))) --cont-batching --no-webui >"$out.llama-$p.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 120); do curl -sf "127.0.0.1:$port/health" >/dev/null && break; sleep 1; done
	"$tern" bench serve --target "http://127.0.0.1:$port/v1/completions" --extra-json '"ignore_eos": true, "cache_prompt": false' \
		--preset "$p" --clients "$clients" --parallel "$par" --tokens "$tokens" --prompt "$prompt" --requests "$requests" --max-time 90s --json >>"$out" || true
	echo "{\"llama_server_rss_mb\": $(($(awk '/VmHWM/{print $2}' /proc/$pid/status) / 1024)), \"preset\": \"$p\"}" >>"$out"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
done
cat "$out"
