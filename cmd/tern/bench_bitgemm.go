// bench_bitgemm.go is `tern bench bitgemm`: the int8 x ternary GEMM (BitLinear's forward product)
// and the quantizers around it, timed as the median of repeated runs.
package main

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"tern/kernels"
	"tern/tensor"
)

func init() {
	registerBench("bitgemm", "int8 x ternary GEMM (BitLinear forward) and its quantizers", runBenchBitgemm)
}

// bitgemmResult is one measurement; gops counts a multiply and an add per (i, j, k), like GEMM
// FLOP counts, for the gemm, bitlinear and panels ops (0 for set and quant).
type bitgemmResult struct {
	Op       string  `json:"op"`
	M        int     `json:"m"`
	N        int     `json:"n"`
	K        int     `json:"k"`
	Threads  int     `json:"threads"`
	Features string  `json:"features"`
	Ms       float64 `json:"ms"`     // median milliseconds per call
	MinMs    float64 `json:"min_ms"` // fastest repeat
	GOPS     float64 `json:"gops"`   // from the median
	Reps     int     `json:"reps"`
	// With --peak: VPDPBUSD's own peak on the same threads (24 independent zmm chains, no memory),
	// in the same GOP/s (a multiply and an add per int8 product), and the product's share of it.
	PeakGOPS float64 `json:"peak_gops,omitempty"`
	OfPeak   float64 `json:"of_peak,omitempty"`
	// threads x the instruction's best GOP/s per thread-CPU-second: its peak with each thread on
	// its own core, which other processes on a shared machine do not lower.
	PeakPerCPU float64 `json:"peak_per_cpu_gops,omitempty"`
}

func runBenchBitgemm(ctx context.Context, args []string) error {
	fs := newFlags("bench bitgemm", "bench bitgemm [--m M --n N --k K | --sweep 64,...] [--op gemm|bitlinear|panels|set|quant] [--threads T] [--peak] [--json]")
	m := fs.Int("m", 1024, "rows of the activations (tokens)")
	n := fs.Int("n", 1024, "output features (rows of the ternary weight)")
	k := fs.Int("k", 1024, "input features")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "worker threads")
	op := fs.String("op", "gemm", "gemm: TernaryGemm; bitlinear: BitLinearForward (fused fp32 rescale); panels: TernaryPanelForward (2-bit panels, the batched decode's product); set: QuantizeTernary+Set of the (N,K) weight; quant: QuantizeRowsInt8 of (M,K)")
	impl := fs.String("impl", "auto", "kernel implementation: auto or one of "+strings.Join(kernels.Impls(), ", ")+" (those this CPU has)")
	sweep := fs.String("sweep", "", "comma-separated square sizes (M=N=K) to run instead of --m/--n/--k, e.g. 64,128,256,512,1024,2048")
	reps := fs.Int("reps", 7, "timed repeats (the median is reported)")
	minTime := fs.Duration("min-time", 30*time.Millisecond, "minimum duration of one repeat (calls are batched up to it)")
	peak := fs.Bool("peak", false, "also measure VPDPBUSD's peak GOP/s on the same threads (512-bit registers) and the product's share of it")
	asJSON := fs.Bool("json", false, "print one JSON object per measurement")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *threads < 1 || *reps < 1 {
		return fmt.Errorf("--threads and --reps must be at least 1")
	}
	if err := setBitgemmImpl(*impl); err != nil {
		return err
	}
	kernels.SetThreads(*threads)
	shapes := [][3]int{{*m, *n, *k}}
	if *sweep != "" {
		shapes = nil
		for _, f := range strings.Split(*sweep, ",") {
			s, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || s < 1 {
				return fmt.Errorf("--sweep: bad size %q", f)
			}
			shapes = append(shapes, [3]int{s, s, s})
		}
	}
	for _, sh := range shapes {
		if sh[0] < 1 || sh[1] < 1 || sh[2] < 1 {
			return fmt.Errorf("sizes must be positive, got m=%d n=%d k=%d", sh[0], sh[1], sh[2])
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := benchBitgemmOne(*op, sh[0], sh[1], sh[2], *reps, *minTime)
		if err != nil {
			return err
		}
		r.Threads = *threads
		human := fmt.Sprintf("bitgemm %s m=%d n=%d k=%d threads=%d %s: %.3f ms (min %.3f)", r.Op, r.M, r.N, r.K, r.Threads, r.Features, r.Ms, r.MinMs)
		if r.GOPS > 0 {
			human += fmt.Sprintf(", %.1f GOP/s", r.GOPS)
		}
		if *peak && r.GOPS > 0 {
			if err := bitgemmPeak(&r, 300*time.Millisecond); err != nil {
				return err
			}
			human += fmt.Sprintf("; VPDPBUSD peak %.1f GOP/s on %d threads (%.0f%%; %.1f per thread-CPU-second x threads)", r.PeakGOPS, r.Threads, 100*r.OfPeak, r.PeakPerCPU)
		}
		if err := printResult(*asJSON, r, human); err != nil {
			return err
		}
	}
	return nil
}

// bitgemmPeak measures VPDPBUSD's peak on r.Threads threads for about d and fills in r's peak
// fields.
func bitgemmPeak(r *bitgemmResult, d time.Duration) error {
	p, err := kernels.PeakGFLOPS("int8", r.Threads, d)
	if err != nil {
		return fmt.Errorf("bitgemm: --peak: %v", err)
	}
	r.PeakGOPS, r.OfPeak, r.PeakPerCPU = p.GFLOPS, r.GOPS/p.GFLOPS, p.PerCPU
	return nil
}

// setBitgemmImpl pins the kernels to one implementation of the registry (kernels.Impls).
func setBitgemmImpl(impl string) error {
	if impl == "auto" {
		return nil
	}
	if _, err := kernels.Use(impl); err != nil {
		return fmt.Errorf("--impl %s: %v", impl, err)
	}
	return nil
}

func benchBitgemmOne(op string, m, n, k, reps int, minTime time.Duration) (bitgemmResult, error) {
	r := tensor.NewRNG(1)
	wf := make([]float32, n*k)
	r.FillNormal(wf, 0.02)
	wt := make([]int8, n*k)
	wscale := kernels.QuantizeTernary(wt, wf)
	w := kernels.NewTernaryMatrix(wt, n, k)
	xf := make([]float32, m*k)
	r.FillNormal(xf, 1)
	x, xscale := make([]int8, m*k), make([]float32, m)
	kernels.QuantizeRowsInt8(x, xscale, xf, m, k)

	var call func()
	flops := 2 * float64(m) * float64(n) * float64(k)
	switch op {
	case "gemm":
		c := make([]int32, m*n)
		call = func() { kernels.TernaryGemm(c, x, w, m) }
	case "bitlinear":
		out := make([]float32, m*n)
		call = func() { kernels.BitLinearForward(out, x, xscale, w, wscale, m) }
	case "panels":
		p := kernels.NewTernaryPanels(n, k)
		p.SetRows(0, wt)
		out := make([]float32, m*n)
		call = func() { kernels.TernaryPanelForward(out, x, xscale, p, wscale, m) }
	case "set":
		call = func() {
			kernels.QuantizeTernary(wt, wf)
			w.Set(wt)
		}
		flops = 0
	case "quant":
		call = func() { kernels.QuantizeRowsInt8(x, xscale, xf, m, k) }
		flops = 0
	default:
		return bitgemmResult{}, fmt.Errorf("--op: unknown %q (gemm, bitlinear, panels, set, quant)", op)
	}
	call() // warm caches and the worker pool
	batch := 1
	for t0 := time.Now(); time.Since(t0) < minTime/4; batch++ {
		call()
	}
	times := make([]float64, reps)
	for i := range times {
		t0 := time.Now()
		for j := 0; j < batch; j++ {
			call()
		}
		times[i] = float64(time.Since(t0).Nanoseconds()) / 1e6 / float64(batch)
	}
	sort.Float64s(times)
	res := bitgemmResult{Op: op, M: m, N: n, K: k, Features: kernels.Features(), Ms: times[reps/2], MinMs: times[0], Reps: reps}
	if flops > 0 {
		res.GOPS = flops / (res.Ms * 1e6)
	}
	return res, nil
}
