#!/usr/bin/env bash
# bf16-quiet.sh: the mixed-precision headline figures with their PyTorch peers in one command, for a
# quiet machine (~3 minutes on 2 cores): VDPBF16PS's instruction peak, the bf16 GEMM 1024³ against
# PyTorch's bf16 matmul (three alternating rounds on 2 threads, one on 1), and small/base BitLinear
# training in bf16 against PyTorch's bf16 autocast. Everything runs under flock /tmp/tern-bench.lock.
# JSON lines go to $1 (default bf16-quiet.jsonl); a summary is printed at the end.
# Needs Debian's python3-torch (/usr/bin/python3) and ../shared/peers/torch_train_bench.py.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-bf16-quiet.jsonl}
: >"$out"
go build -o /tmp/tern-bf16q ./cmd/tern || exit 1
t=/tmp/tern-bf16q
py=/usr/bin/python3
peers=../shared/peers
lock() { flock /tmp/tern-bench.lock "$@"; }
run() { echo "+ $*" >&2; lock "$@" | tee -a "$out"; }
echo "load before: $(cat /proc/loadavg)" >&2
run $t bench gemm --dtype bf16 --m 64 --n 64 --k 64 --threads 2 --reps 3 --peak --json
for r in 1 2 3; do
	run $t bench gemm --dtype bf16 --m 1024 --n 1024 --k 1024 --threads 2 --json
	run $py scripts/torch_matmul.py --dtype bf16 --threads 2
done
run $t bench gemm --dtype bf16 --m 1024 --n 1024 --k 1024 --threads 1 --json
run $py scripts/torch_matmul.py --dtype bf16 --threads 1
run $t bench train --preset small --linear bitnet --precision bf16 --threads 2 --json
echo "+ torch small --bf16" >&2
lock env OPENBLAS_NUM_THREADS=2 $py $peers/torch_train_bench.py --config small --linear bit --threads 2 --bf16 | sed 's/^{/{"peer":"pytorch",/' | tee -a "$out"
run $t bench train --preset base --linear bitnet --precision bf16 --threads 2 --warmup 1 --steps 3 --json
echo "+ torch base --bf16" >&2
lock env OPENBLAS_NUM_THREADS=2 $py $peers/torch_train_bench.py --config base --linear bit --threads 2 --warmup 1 --steps 3 --bf16 | sed 's/^{/{"peer":"pytorch",/' | tee -a "$out"
echo "load after: $(cat /proc/loadavg)" >&2
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
g = lambda pred: [r for r in rows if pred(r)]
peak = g(lambda r: "peak_gflops" in r)
if peak:
    print("VDPBF16PS peak, 2 threads: %.0f GFLOP/s wall, %.0f per thread-CPU-second x 2" % (peak[0]["peak_gflops"], peak[0]["peak_per_cpu_gflops"]))
for th in (2, 1):
    tern = [r["gflops"] for r in g(lambda r: r.get("dtype") == "bf16" and r.get("m") == 1024 and r.get("threads") == th and "peer" not in r)]
    torch = [r["gflops"] for r in g(lambda r: r.get("peer") == "pytorch" and r.get("op") == "matmul" and r.get("threads") == th)]
    if tern and torch:
        print("GEMM bf16 1024^3, %d threads: tern %s, PyTorch %s GFLOP/s; ratio of medians %.2f" % (th, ["%.0f" % x for x in tern], ["%.0f" % x for x in torch], sorted(tern)[len(tern)//2] / sorted(torch)[len(torch)//2]))
keys = ("tokens_per_s", "step_s_median", "peak_rss_mb")
for r in rows:
    if "peer" not in r and "preset" in r:
        print("tern train %s %s: " % (r["preset"], r["precision"]) + ", ".join("%s %.4g" % (k, r[k]) for k in keys if k in r))
    elif r.get("peer") == "pytorch" and r.get("op") != "matmul":
        print("PyTorch train d=%s layers=%s bf16=%s: " % (r["config"]["d"], r["config"]["layers"], r.get("bf16")) + ", ".join("%s %.4g" % (k, r[k]) for k in keys if k in r))
PY
