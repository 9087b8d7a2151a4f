#!/usr/bin/env bash
# bench.sh runs every figure README.md reports, in one session, and writes one JSON line per
# measurement to bench-results.jsonl (or $1). Peer baselines (PyTorch, OpenBLAS through numpy) run in
# the same session when Debian's python3-torch / python3-numpy are installed, so ratios are like for
# like on this noisy shared machine. Needs ../shared (beside the checkout) for the peer script and data;
# GGML_GEMV=path/to/a-ggml-gemv-bench adds ggml's ternary GEMV (see README, Kernels).
# Takes ~10 minutes on 2 cores. `scripts/bench.sh OUT bf16` runs only the mixed-precision comparison
# (section 4: bf16 GEMM and training against PyTorch's bf16 matmul and autocast, ~5 minutes).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench-results.jsonl}
only=${2:-all}
: >"$out"
go build -o /tmp/tern-bench ./cmd/tern || exit 1
t=/tmp/tern-bench
peers=../shared/peers
run() { echo "+ $*" >&2; "$@" | tee -a "$out"; }
torch_ok() { /usr/bin/python3 -c 'import torch' 2>/dev/null; }
torch_train() { # config linear extra-args...: the PyTorch peer, tagged
	echo "+ torch_train_bench.py $*" >&2
	local c=$1 l=$2
	shift 2
	OPENBLAS_NUM_THREADS=2 /usr/bin/python3 $peers/torch_train_bench.py --config $c --linear $l --threads 2 "$@" | sed 's/^{/{"peer":"pytorch",/' | tee -a "$out"
}

# 4. mixed precision (bf16): tern's bf16 GEMM and training against PyTorch's bf16 matmul (oneDNN) and
# torch.autocast("cpu", bfloat16), with the fp32 runs beside them, all in this one session.
bf16() {
	for th in 2 1; do
		run $t bench gemm --dtype bf16 --m 1024 --n 1024 --k 1024 --threads $th --peak --json
		run $t bench gemm --dtype f32 --m 1024 --n 1024 --k 1024 --threads $th --json
		if torch_ok; then
			echo "+ torch_matmul.py bf16/fp32 --threads $th" >&2
			OPENBLAS_NUM_THREADS=$th /usr/bin/python3 scripts/torch_matmul.py --dtype bf16 --threads $th | tee -a "$out"
			OPENBLAS_NUM_THREADS=$th /usr/bin/python3 scripts/torch_matmul.py --dtype fp32 --threads $th | tee -a "$out"
		fi
	done
	for p in bf16 fp32; do
		run $t bench train --preset small --linear bitnet --precision $p --threads 2 --json
	done
	if torch_ok; then
		torch_train small bit --bf16
		torch_train small bit
	fi
	for p in bf16 fp32; do
		run $t bench train --preset base --linear bitnet --precision $p --threads 2 --warmup 1 --steps 3 --json
	done
	if torch_ok; then
		torch_train base bit --warmup 1 --steps 3 --bf16
	fi
}
if [ "$only" = bf16 ]; then
	bf16
	echo "wrote $out" >&2
	exit 0
fi

# 1. kernels
for th in 2 1; do
	run $t bench gemm --m 1024 --n 1024 --k 1024 --threads $th --json
	if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
		OPENBLAS_NUM_THREADS=$th /usr/bin/python3 -c '
import numpy as np, time, json, statistics
a=np.random.rand(1024,1024).astype(np.float32); b=np.random.rand(1024,1024).astype(np.float32)
for _ in range(3): a@b
ts=[]
for _ in range(9):
    t0=time.perf_counter(); a@b; ts.append(time.perf_counter()-t0)
m=statistics.median(ts)
print(json.dumps({"peer":"numpy-openblas","m":1024,"n":1024,"k":1024,"threads":'$th',"gflops":2*1024**3/m/1e9,"ms":m*1e3}))' | tee -a "$out"
	fi
	run $t bench bitgemm --m 1024 --n 1024 --k 1024 --threads $th --json
done
run $t bench gemm --sweep --threads 2 --json
run $t bench bitgemm --sweep 128,256,512,1024,2048,4096 --threads 2 --json
for th in 2 1; do
	run $t bench gemv --rows 4096 --cols 4096 --threads $th --cold --json
done
run $t bench gemv --rows 4096 --cols 4096 --threads 2 --json
run $t bench gemv --rows 2560 --cols 6912 --threads 2 --cold --json
run $t bench gemv --rows 6912 --cols 2560 --threads 2 --cold --json
# ggml's ternary GEMV (TQ2_0, TQ1_0) as a same-session peer, when a locally built benchmark is named by
# GGML_GEMV (a program taking: type rows cols threads cold|hot; built from ggml, which is not part of tern)
if [ -n "${GGML_GEMV:-}" ] && [ -x "$GGML_GEMV" ]; then
	for cfg in "tq2_0 4096 4096 2 cold" "tq1_0 4096 4096 2 cold" "tq2_0 4096 4096 1 cold" "tq2_0 4096 4096 2 hot" \
		"tq2_0 2560 6912 2 cold" "tq2_0 6912 2560 2 cold"; do
		echo "+ ggml $cfg" >&2
		"$GGML_GEMV" $cfg 2>/dev/null | tee -a "$out"
	done
fi

# 2. decoding and training
for tab in f16 int8; do
	run $t bench decode --preset 100m --threads 2 --table $tab --json
	run $t bench decode --preset 700m --threads 2 --table $tab --json
done
run $t bench decode --preset 100m --threads 2 --prompt 128 --json
run $t bench decode --preset 700m --threads 2 --prompt 256 --json
run $t bench decode --preset 100m --threads 2 --tokens 1000 --kv f32 --json
run $t bench decode --preset 100m --threads 2 --tokens 1000 --kv f16 --json
run $t bench train --preset small --linear bitnet --threads 2 --json
run $t bench train --preset small --linear fp32 --threads 2 --json
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	for lin in bit fp32; do
		echo "+ torch_train_bench.py --config small --linear $lin" >&2
		OPENBLAS_NUM_THREADS=2 /usr/bin/python3 $peers/torch_train_bench.py --config small --linear $lin --threads 2 | sed 's/^{/{"peer":"pytorch",/' | tee -a "$out"
	done
fi
run $t bench train --preset base --linear bitnet --threads 2 --warmup 1 --steps 3 --json
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	echo "+ torch_train_bench.py --config base --linear bit" >&2
	OPENBLAS_NUM_THREADS=2 /usr/bin/python3 $peers/torch_train_bench.py --config base --linear bit --threads 2 --warmup 1 --steps 3 | sed 's/^{/{"peer":"pytorch",/' | tee -a "$out"
fi

# 3. tokenizer
run $t bench tokenize --reps 3 --json

bf16
echo "wrote $out" >&2
