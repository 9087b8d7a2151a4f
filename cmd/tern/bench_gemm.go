package main

// `tern bench gemm`: fp32 (Sgemm) or bf16 (Bgemm: bf16 operands, fp32 sums) GEMM speed, C (M,N) = op(A) (M,K) · op(B) (K,N), as GFLOP/s (2*M*N*K
// flops per product). Warm-up first, then the median of --reps timed products, each rep sized to
// run at least ~50 ms so a fast product is not timed on timer noise.

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"time"

	"tern/kernels"
)

func init() {
	registerBench("gemm", "fp32 or bf16 matrix product GFLOP/s (--dtype f32|bf16, --m --n --k, --trans nn|nt|tn|tt, --sweep)", runBenchGemm)
}

type gemmResult struct {
	M        int     `json:"m"`
	N        int     `json:"n"`
	K        int     `json:"k"`
	Threads  int     `json:"threads"`
	Trans    string  `json:"trans"`
	Dtype    string  `json:"dtype"` // f32 or bf16
	GFLOPS   float64 `json:"gflops"`
	Ms       float64 `json:"ms"` // median time of one product
	MinMs    float64 `json:"min_ms"`
	Reps     int     `json:"reps"`
	Features string  `json:"features"`
	Path     string  `json:"path"` // GEMM micro-kernel: avx512, avx2, go; bf16: avx512bf16, avx512-emu, avx2-emu, go-emu
	// With --peak: the instruction's own peak on the same threads (VFMADD231PS zmm for f32,
	// VDPBF16PS zmm for bf16: independent register chains, no memory) and the GEMM's share of it.
	PeakGFLOPS float64 `json:"peak_gflops,omitempty"`
	OfPeak     float64 `json:"of_peak,omitempty"`
	// threads x the instruction's best flops per thread-CPU-second: its peak with each thread on
	// its own core, which other processes on a shared machine do not lower.
	PeakPerCPU float64 `json:"peak_per_cpu_gflops,omitempty"`
}

func runBenchGemm(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench gemm", flag.ContinueOnError)
	m := fs.Int("m", 1024, "rows of C")
	n := fs.Int("n", 1024, "columns of C")
	k := fs.Int("k", 1024, "inner dimension")
	threads := fs.Int("threads", 0, "worker threads (0: all cores)")
	trans := fs.String("trans", "nn", "transposes of A and B: nn, nt, tn or tt")
	reps := fs.Int("reps", 7, "timed repetitions (the median is reported)")
	sweep := fs.Bool("sweep", false, "run square sizes (--sizes) instead of one shape")
	sizes := fs.String("sizes", "128,256,512,1024,2048,4096", "comma-separated square sizes for --sweep")
	dtype := fs.String("dtype", "f32", "operand type: f32 (Sgemm) or bf16 (Bgemm: operands rounded to bf16, fp32 sums)")
	impl := fs.String("impl", "auto", "kernel implementation: auto or one of "+strings.Join(kernels.Impls(), ", ")+" (those this CPU has)")
	peak := fs.Bool("peak", false, "also measure the instruction's peak GFLOP/s on the same threads (VFMADD231PS or VDPBF16PS on 512-bit registers)")
	asJSON := fs.Bool("json", false, "print one JSON object per shape")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("gemm: unexpected arguments %q", fs.Args())
	}
	tr := strings.ToLower(*trans)
	if tr != "nn" && tr != "nt" && tr != "tn" && tr != "tt" {
		return fmt.Errorf("gemm: --trans %q: want nn, nt, tn or tt", *trans)
	}
	dt := strings.ToLower(*dtype)
	if dt == "fp32" {
		dt = "f32"
	}
	if dt != "f32" && dt != "bf16" {
		return fmt.Errorf("gemm: --dtype %q: want f32 or bf16", *dtype)
	}
	if *impl != "auto" {
		restore, err := kernels.Use(*impl)
		if err != nil {
			return fmt.Errorf("gemm: --impl %s: %v", *impl, err)
		}
		defer restore()
	}
	if *reps < 1 {
		return fmt.Errorf("gemm: --reps %d: want at least 1", *reps)
	}
	if *threads < 0 {
		return fmt.Errorf("gemm: --threads %d: want 0 (all cores) or more", *threads)
	}
	if *threads > 0 {
		old := kernels.Threads()
		kernels.SetThreads(*threads)
		defer kernels.SetThreads(old)
	}
	shapes := [][3]int{{*m, *n, *k}}
	if *sweep {
		shapes = shapes[:0]
		for _, f := range strings.Split(*sizes, ",") {
			s, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || s < 1 {
				return fmt.Errorf("gemm: --sizes: bad size %q", f)
			}
			shapes = append(shapes, [3]int{s, s, s})
		}
	}
	for _, sh := range shapes {
		if sh[0] < 1 || sh[1] < 1 || sh[2] < 1 {
			return fmt.Errorf("gemm: sizes must be positive, got m=%d n=%d k=%d", sh[0], sh[1], sh[2])
		}
		r, err := benchGemm(ctx, sh[0], sh[1], sh[2], tr, dt, *reps)
		if err != nil {
			return err
		}
		human := fmt.Sprintf("gemm %s %s m=%d n=%d k=%d threads=%d: %.1f GFLOP/s (median %.3f ms, min %.3f ms, %d reps, %s kernel, %s)",
			r.Dtype, r.Trans, r.M, r.N, r.K, r.Threads, r.GFLOPS, r.Ms, r.MinMs, r.Reps, r.Path, r.Features)
		if *peak {
			p, err := kernels.PeakGFLOPS(dt, kernels.Threads(), 300*time.Millisecond)
			if err != nil {
				return fmt.Errorf("gemm: --peak: %v", err)
			}
			r.PeakGFLOPS, r.OfPeak, r.PeakPerCPU = p.GFLOPS, r.GFLOPS/p.GFLOPS, p.PerCPU
			human += fmt.Sprintf("; instruction peak %.1f GFLOP/s on %d threads (%.0f%%; %.1f per thread-CPU-second x threads)", p.GFLOPS, r.Threads, 100*r.OfPeak, p.PerCPU)
		}
		if err := printResult(*asJSON, r, human); err != nil {
			return err
		}
	}
	return nil
}

func benchGemm(ctx context.Context, m, n, k int, trans, dtype string, reps int) (gemmResult, error) {
	transA, transB := trans[0] == 't', trans[1] == 't'
	rng := rand.New(rand.NewSource(1))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		return x
	}
	// Operands are stored (M,K)/(K,M) and (K,N)/(N,K); strides are the packed row lengths.
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	a, b, c := fill(m*k), fill(k*n), make([]float32, m*n)
	gemm, path := kernels.Sgemm, kernels.SgemmPath()
	if dtype == "bf16" {
		gemm, path = kernels.Bgemm, kernels.BgemmPath()
	}
	one := func() { gemm(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, n) }

	// Warm up (page faults, pools, caches) and size a rep to >= 50 ms.
	start := time.Now()
	one()
	calls := 1
	for el := time.Since(start); el < 200*time.Millisecond && calls < 3; el = time.Since(start) {
		one()
		calls++
	}
	per := time.Since(start) / time.Duration(calls)
	inner := max(1, int(50*time.Millisecond/max(per, time.Nanosecond)))
	times := make([]float64, reps)
	for r := range times {
		if err := ctx.Err(); err != nil {
			return gemmResult{}, err
		}
		t0 := time.Now()
		for range inner {
			one()
		}
		times[r] = time.Since(t0).Seconds() / float64(inner)
	}
	slices.Sort(times)
	med := times[len(times)/2]
	return gemmResult{
		M: m, N: n, K: k, Threads: kernels.Threads(), Trans: trans, Dtype: dtype,
		GFLOPS: 2 * float64(m) * float64(n) * float64(k) / med / 1e9,
		Ms:     med * 1e3, MinMs: times[0] * 1e3, Reps: reps, Features: kernels.Features(), Path: path,
	}, nil
}
