#!/usr/bin/env bash
# test-mpi.sh: data-parallel training over MPI, the way a cluster runs it. Builds tern with -tags mpi
# (cgo), runs the dist package's collective test under `mpirun -np 2`, trains the same tiny model with
# 2 MPI ranks twice (the losses must be identical, bit for bit) and with one process and --accum 2
# (the same batches: losses agree to float32 rounding), stops one at step 15 and resumes it (identical
# to the uninterrupted run), and prints the tokens/s of 2 ranks x 1 thread
# against 1 process x 2 threads. Installs Debian's Open MPI when it is missing and apt-get can; without
# MPI it says so and exits 0 (the MPI engine is optional). Any failure of the tests themselves exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v mpirun >/dev/null || ! pkg-config --exists ompi-c 2>/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "test-mpi: installing Open MPI (openmpi-bin, libopenmpi-dev)" >&2
		apt-get install -y -q openmpi-bin libopenmpi-dev >/dev/null 2>&1 || true
	fi
fi
if ! command -v mpirun >/dev/null || ! pkg-config --exists ompi-c 2>/dev/null; then
	echo "test-mpi: skipped: no MPI (mpirun and pkg-config ompi-c); install Open MPI to run it" >&2
	exit 0
fi
run=(mpirun --oversubscribe -np 2)
[ "$(id -u)" = 0 ] && run+=(--allow-run-as-root)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CGO_ENABLED=1
go build -tags mpi -o "$tmp/tern" ./cmd/tern
go test -c -tags mpi -o "$tmp/dist.test" ./dist
"${run[@]}" "$tmp/dist.test" -test.run MPIAllreduce -test.count 1

args=(train --preset tiny --hidden 64 --layers 2 --heads 2 --ffn 128 --steps 30 --batch 8 --seq 64
	--eval-every 30 --eval-batches 2 --json)
"${run[@]}" "$tmp/tern" "${args[@]}" --dist mpi --threads 1 --out "$tmp/a" >/dev/null
"${run[@]}" "$tmp/tern" "${args[@]}" --dist mpi --threads 1 --out "$tmp/b" >/dev/null
"$tmp/tern" "${args[@]}" --accum 2 --threads 2 --out "$tmp/c" >/dev/null
# interrupted and resumed: 15 steps with a checkpoint, then --resume to 30, must match run a exactly
"${run[@]}" "$tmp/tern" "${args[@]}" --dist mpi --threads 1 --steps 15 --ckpt-every 15 --out "$tmp/r" >/dev/null
"${run[@]}" "$tmp/tern" train --dist mpi --threads 1 --steps 30 --resume --json --out "$tmp/r" >/dev/null
# a rank started without --dist mpi must refuse, not train alone
if "${run[@]}" "$tmp/tern" "${args[@]}" --out "$tmp/d" >/dev/null 2>&1; then
	echo "test-mpi: FAIL: ranks without --dist mpi trained" >&2
	exit 1
fi
python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
def losses(run):
    return {m["step"]: m["loss"] for m in map(json.loads, open(f"{d}/{run}/metrics.jsonl")) if m["split"] == "train"}
a, b, c, r = losses("a"), losses("b"), losses("c"), losses("r")
assert len(a) == 30 and a == b, "two identical 2-rank runs differ"
assert r == a, "a resumed 2-rank run differs from the uninterrupted one"
worst = max(abs(a[s] - c[s]) / c[s] for s in a)
print(f"test-mpi: 2 ranks twice, and stopped at 15 and resumed: identical losses; against 1 process with --accum 2: step 1 "
      f"{'identical' if a[1] == c[1] else 'DIFFERENT'}, worst relative difference {worst:.2g} over 30 steps")
assert a[1] == c[1] and worst < 1e-3, "data-parallel run does not follow the accumulated one"
PY
# speed: the PyTorch baseline's small model, 2 ranks x 1 thread against 1 process x 2 threads
speed=(train --preset small --steps 8 --batch 8 --seq 128 --eval-every 0 --eval-batches 1 --json)
"${run[@]}" "$tmp/tern" "${speed[@]}" --dist mpi --threads 1 --out "$tmp/s1" | grep -o '"tokens_per_s":[0-9.]*' | sed 's/^/test-mpi: 2 ranks x 1 thread: /'
"$tmp/tern" "${speed[@]}" --accum 2 --threads 2 --out "$tmp/s2" | grep -o '"tokens_per_s":[0-9.]*' | sed 's/^/test-mpi: 1 process x 2 threads, --accum 2: /'
echo "test-mpi: ok" >&2
