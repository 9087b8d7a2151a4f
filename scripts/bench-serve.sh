#!/usr/bin/env bash
# bench-serve.sh: tern's HTTP server against llama.cpp's llama-server, same clients, same run, loopback
# only: `tern bench serve` on the 100M and 700M decode presets (random packed weights), then
# llama-server with a random TQ2_0 `llama` GGUF of the same size (scripts/gguf-random.py) and the
# same --parallel, measured by the same client code (`tern bench serve --target`).
# With MODEL=x.gguf both servers load that one file instead (tern: `tern bench serve --model`, a KV
# cache of prompt+tokens+16 positions per slot; llama-server the same per slot), and both get the
# same prompt text ("b b b ..."); RSS of both is reported.
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
maxtime=${MAXTIME:-90s}
model=${MODEL:-}
: >"$out"
lscpu | sed -n 's/^Model name: *//p' | head -1 | sed 's/.*/{"cpu": "&"}/' >>"$out"
common=(--clients "$clients" --parallel "$par" --tokens "$tokens" --prompt "$prompt" --requests "$requests" --max-time "$maxtime" --json)
# llama_run FILE LABEL: llama-server on FILE, measured by tern's clients, then its peak RSS
llama_run() {
	LD_LIBRARY_PATH="$llama" "$llama/llama-server" -m "$1" --host 127.0.0.1 --port "$port" -t "$threads" \
		--parallel "$par" -c $((par * (prompt + tokens + 16))) --cont-batching --no-webui >"$out.llama-$2.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 120); do curl -sf "127.0.0.1:$port/health" >/dev/null && break; sleep 1; done
	"$tern" bench serve --target "http://127.0.0.1:$port/v1/completions" --extra-json '"ignore_eos": true, "cache_prompt": false' \
		--preset "$2" "${common[@]}" >>"$out" || true
	echo "{\"llama_server_rss_mb\": $(($(awk '/VmHWM/{print $2}' /proc/$pid/status) / 1024)), \"preset\": \"$2\"}" >>"$out"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}
if [ -n "$model" ]; then
	label=$(basename "${model%.*}")
	"$tern" bench serve --model "$model" --threads "$threads" "${common[@]}" >>"$out"
	llama_run "$model" "$label"
else
	for p in 100m 700m; do
		"$tern" bench serve --preset "$p" --threads "$threads" --linear="$([ $p = 100m ] && echo true || echo false)" "${common[@]}" >>"$out"
		llama_run "$gguf/r$p.gguf" "$p"
	done
fi
cat "$out"
