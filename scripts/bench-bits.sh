#!/bin/sh
# bench-bits.sh: the adaptive-bit-width timing figures (README "Adaptive bit widths: kernels and
# decoding"), peers in the same command: n-bit GEMV cold (2, 4, 8 bits and ternary) against reading the
# same bytes, decoding the 700M-shaped model with a width map (qkv 4, o 8, FFN 2/2) and all-ternary, and
# prefill vs stepping a 64-token prompt. ~4-6 minutes on 2 cores. Run it under the benchmark lock:
#   flock /tmp/tern-bench.lock scripts/bench-bits.sh
set -eu
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/tern" ./cmd/tern
T=$bin/tern
map=$bin/widths700m.json
python3 - "$map" <<'PY'
import json, sys
w = {}
for l in range(24):
    p = "blocks.%d." % l
    w.update({p + "attn.qkv.weight": 4, p + "attn.o.weight": 8, p + "ffn.fc.weight": 2, p + "ffn.fc2.weight": 2})
json.dump(w, open(sys.argv[1], "w"))
PY
show() {
	python3 -c '
import json, sys
for l in sys.stdin:
    d = json.loads(l)
    if "read_fraction" in d:
        print("gemv %-5s us %7.1f read_us %7.1f read_fraction %.2f %s" % (sys.argv[1], d["us"], d["read_us"], d["read_fraction"], d.get("path", d.get("features"))))
    else:
        gb = d["weight_bytes_per_token"] * d["tokens_per_s"] / 1e9
        extra = " prefill %.1f tok/s, prompt stepped %.1f tok/s" % (d["prefill_tokens_per_s"], d["prompt_step_tokens_per_s"]) if d.get("prefill_tokens_per_s") else ""
        print("decode %-8s %.1f tok/s, %.1f GB/s of weights, probe %.1f GB/s, fraction of bound %.2f%s" % (sys.argv[1], d["tokens_per_s"], gb, d["bandwidth_gbps"], d["bandwidth_fraction"], extra))
' "$1"
}
echo "load: $(cat /proc/loadavg)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
for r in 1 2 3; do
	for b in 2 4 8 1.58; do $T bench gemv --bits $b --cold --threads 2 --calls 100 --json | show "$b"; done
done
for r in 1 2; do
	$T bench decode --preset 700m --threads 2 --tokens 32 --bits-map "$map" --json | show mixed
	$T bench decode --preset 700m --threads 2 --tokens 32 --json | show ternary
done
$T bench decode --preset 700m --threads 2 --tokens 8 --prompt 64 --bits-map "$map" --json | show mixed
echo "load: $(cat /proc/loadavg)"
