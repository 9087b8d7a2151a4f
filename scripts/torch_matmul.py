#!/usr/bin/env python3
"""PyTorch matrix product peer for `tern bench gemm`: n^3 matmul GFLOP/s in fp32 or bf16 (oneDNN's bf16
path on CPUs with AVX512_BF16 or AMX), median of timed repetitions after a warm-up. One JSON line.
Run with Debian's python3-torch: /usr/bin/python3 scripts/torch_matmul.py --dtype bf16 --threads 2"""
import argparse, json, statistics, time

import torch

ap = argparse.ArgumentParser()
ap.add_argument("--dtype", choices=["fp32", "bf16"], default="bf16")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--n", type=int, default=1024)
ap.add_argument("--reps", type=int, default=9)
a = ap.parse_args()
torch.set_num_threads(a.threads)
dt = torch.bfloat16 if a.dtype == "bf16" else torch.float32
g = torch.Generator().manual_seed(1)
x = (torch.rand(a.n, a.n, generator=g) * 2 - 1).to(dt)
y = (torch.rand(a.n, a.n, generator=g) * 2 - 1).to(dt)
for _ in range(3):
    x @ y
ts = []
for _ in range(a.reps):
    inner = 5
    t0 = time.perf_counter()
    for _ in range(inner):
        x @ y
    ts.append((time.perf_counter() - t0) / inner)
m = statistics.median(ts)
print(json.dumps({"peer": "pytorch", "op": "matmul", "dtype": a.dtype, "m": a.n, "n": a.n, "k": a.n, "threads": a.threads,
                  "gflops": 2 * a.n**3 / m / 1e9, "ms": m * 1e3, "min_ms": min(ts) * 1e3, "torch": torch.__version__}))
