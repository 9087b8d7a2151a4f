package main

// `tern bench gemv`: the packed ternary matrix-vector product of decoding, y(R) = W(R,C) · x(C),
// W at 5 trits per byte (1.6 bits/weight), x int8. It reports the median time of --calls products,
// the weight bytes streamed per second, and that rate as a fraction of the machine's read bandwidth
// measured with the same thread count (kernels.MemReadBandwidth): the floor for decoding is
// weight bytes / bandwidth. --cold rotates through copies of the matrix totalling >= 512 MiB, so
// every product reads its weights from DRAM as a real model does; without it a matrix that fits in
// L3 is read from cache. In the same rounds it times kernels.MemRead over the same copies (read_us):
// reading a 3 MB matrix costs more than its bytes over the 512 MiB bandwidth (thread start, DRAM
// ramp-up, TLB misses), and read_fraction says how close the product comes to that per-call floor.

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"time"

	"tern/kernels"
	"tern/quant"
)

func init() {
	registerBench("gemv", "packed ternary (or --bits N) matrix-vector product (--rows --cols --threads --cold)", runBenchGemv)
}

type gemvResult struct {
	Bits          string  `json:"bits"` // 1.58 (ternary) or the n-bit width
	Rows          int     `json:"rows"`
	Cols          int     `json:"cols"`
	Threads       int     `json:"threads"`
	Us            float64 `json:"us"` // median time of one product
	MinUs         float64 `json:"min_us"`
	GBps          float64 `json:"gbps"` // weight bytes / median time
	GOps          float64 `json:"gops"` // 2·rows·cols / median time
	BandwidthGBps float64 `json:"bandwidth_gbps"`
	BandwidthFrac float64 `json:"bandwidth_fraction"`
	ReadUs        float64 `json:"read_us"`                 // median time to only read the same bytes (kernels.MemRead)
	ReadFrac      float64 `json:"read_fraction"`           // read_us / us: the product's speed against reading its weights
	BitsPerWeight float64 `json:"bits_per_weight"`         // storage, with the fp32 scale
	ComputeBits   float64 `json:"compute_bits_per_weight"` // bytes the kernel streams, ·8 / weights
	Cold          bool    `json:"cold"`
	Copies        int     `json:"copies"`
	Calls         int     `json:"calls"`
	Features      string  `json:"features"`
}

func runBenchGemv(ctx context.Context, args []string) error {
	fs := newFlags("bench gemv", "bench gemv [--rows R] [--cols C] [--threads T] [--cold] [--json]")
	rows := fs.Int("rows", 4096, "output size R (matrix rows)")
	cols := fs.Int("cols", 4096, "input size C (matrix columns)")
	threads := fs.Int("threads", 0, "worker threads (0: all cores)")
	cold := fs.Bool("cold", false, "rotate through >= 512 MiB of weight copies so they come from memory")
	calls := fs.Int("calls", 300, "timed products (the median is reported)")
	bwMiB := fs.Int("bw-mib", 512, "buffer for the bandwidth measurement, MiB")
	asJSON := fs.Bool("json", false, "print one JSON object")
	bitsFlag := fs.String("bits", "1.58", "weight width: 1.58 (ternary trit5 GEMV) or 1, 2, 3, 4, 8 (n-bit rows, kernels.NBitGemv)")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	width, err := quant.ParseWidth(*bitsFlag)
	if err != nil {
		return fmt.Errorf("--bits: %w", err)
	}
	switch {
	case *rows < 1 || *cols < 1:
		return fmt.Errorf("--rows %d --cols %d: want positive sizes", *rows, *cols)
	case *threads < 0:
		return fmt.Errorf("--threads %d: want 0 (all cores) or more", *threads)
	case *calls < 5:
		return fmt.Errorf("--calls %d: want at least 5", *calls)
	case *bwMiB < 64:
		return fmt.Errorf("--bw-mib %d: want at least 64 (far larger than the cache)", *bwMiB)
	}
	if *threads > 0 {
		old := kernels.Threads()
		kernels.SetThreads(*threads)
		defer kernels.SetThreads(old)
	}
	r, err := benchGemv(ctx, *rows, *cols, width.Bits(), *cold, *calls, *bwMiB<<20)
	if err != nil {
		return err
	}
	r.Bits = width.String()
	human := fmt.Sprintf("gemv %s-bit %dx%d threads=%d cold=%v: %.1f us (min %.1f), %.1f GB/s = %.0f%% of %.1f GB/s read bandwidth; reading the same bytes alone %.1f us (%.0f%%); %.0f GOP/s, %.4f bits/weight stored, %.4f streamed (%s)",
		r.Bits, r.Rows, r.Cols, r.Threads, r.Cold, r.Us, r.MinUs, r.GBps, 100*r.BandwidthFrac, r.BandwidthGBps, r.ReadUs, 100*r.ReadFrac, r.GOps, r.BitsPerWeight, r.ComputeBits, r.Features)
	return printResult(*asJSON, r, human)
}

// benchGemv times the ternary GEMV (bits 0) or the n-bit one.
func benchGemv(ctx context.Context, n, k, bits int, cold bool, calls, bwBytes int) (gemvResult, error) {
	rng := rand.New(rand.NewSource(1))
	x := make([]int8, k)
	for i := range x {
		x[i] = int8(rng.Intn(255) - 127)
	}
	var data []byte
	var stored float64
	var product func(w []byte)
	path := kernels.GemvPath()
	if bits == 0 {
		t := make([]int8, n*k)
		for i := range t {
			t[i] = int8(rng.Intn(3) - 1)
		}
		p := quant.PackTernary(t, 1, n, k)
		v := kernels.NewGemvVec(k)
		v.Set(x)
		y := make([]int32, n)
		// Check the kernel once against the reference: a fast wrong answer is not a result.
		ref := make([]int32, n)
		kernels.TernaryGemvGeneric(ref, p.Data, n, k, x)
		kernels.TernaryGemv(y, p.Data, n, k, v)
		if !slices.Equal(y, ref) {
			return gemvResult{}, fmt.Errorf("TernaryGemv (%s) disagrees with the reference", kernels.GemvPath())
		}
		data, stored = p.Data, p.BitsPerWeight()
		product = func(w []byte) { kernels.TernaryGemv(y, w, n, k, v) }
	} else {
		u := make([]uint8, n*k)
		for i := range u {
			u[i] = uint8(rng.Intn(1 << bits))
		}
		p := &quant.PackedNBit{N: n, K: k, Bits: bits, Steps: []float32{0.01}, Data: make([]byte, n*quant.BitRowBytes(k, bits))}
		quant.PackBits(p.Data, u, n, k, bits)
		y, ref := make([]float32, n), make([]float32, n)
		restore, err := kernels.Use("go")
		if err != nil {
			return gemvResult{}, err
		}
		kernels.NBitGemv(ref, p.Data, p.Steps, n, k, bits, x, 1)
		restore()
		kernels.NBitGemv(y, p.Data, p.Steps, n, k, bits, x, 1)
		if !slices.Equal(y, ref) { // exact int32 sums and the same rescale: bit-identical
			return gemvResult{}, fmt.Errorf("NBitGemv (%s) disagrees with the Go reference", kernels.NBitGemvPath(bits))
		}
		data, stored, path = p.Data, p.BitsPerWeight(), kernels.NBitGemvPath(bits)
		product = func(w []byte) { kernels.NBitGemv(y, w, p.Steps, n, k, bits, x, 1) }
	}

	size := len(data)
	copies := 1
	if cold {
		copies = max(2, (512<<20+size-1)/size)
	}
	buf := make([]byte, copies*size) // writing every copy also faults its pages in
	for c := 0; c < copies; c++ {
		copy(buf[c*size:], data)
	}
	bw := buf
	if len(bw) < bwBytes {
		bw = make([]byte, bwBytes)
		for i := range bw {
			bw[i] = byte(i)
		}
	}
	mat := func(i int) []byte { c := i % copies; return buf[c*size : (c+1)*size] }
	for i := 0; i < max(copies, 20); i++ { // warm-up: pool, TLB, and one pass over every copy
		product(mat(i))
	}
	// Bandwidth and products alternate in rounds, so that on a shared machine each round's fraction
	// compares the two under the same contention; the reported fraction is the median over rounds.
	const rounds = 5
	times, reads := make([]float64, calls), make([]float64, calls)
	var sink uint64
	bws, fracs := make([]float64, rounds), make([]float64, rounds)
	for r := range rounds {
		if err := ctx.Err(); err != nil {
			return gemvResult{}, err
		}
		bws[r], _ = kernels.MemReadBandwidth(bw, 1)
		lo, hi := r*calls/rounds, (r+1)*calls/rounds
		for i := lo; i < hi; i++ {
			// Each round restarts at copy 0: the bandwidth pass just read the whole buffer, so only its
			// last copies can still be in cache, and the round reaches them last, if at all.
			w := mat(i - lo)
			t0 := time.Now()
			product(w)
			times[i] = time.Since(t0).Seconds()
		}
		for i := lo; i < hi; i++ { // the same copies, in the same order, now only read
			w := mat(i - lo)
			t0 := time.Now()
			sink += kernels.MemRead(w)
			reads[i] = time.Since(t0).Seconds()
		}
		if hi > lo {
			rt := slices.Clone(times[lo:hi])
			slices.Sort(rt)
			fracs[r] = float64(size) / rt[len(rt)/2] / 1e9 / bws[r]
		}
	}
	slices.Sort(times)
	slices.Sort(reads)
	slices.Sort(bws)
	slices.Sort(fracs)
	med := times[len(times)/2]
	gbps := float64(size) / med / 1e9
	return gemvResult{
		Rows: n, Cols: k, Threads: kernels.Threads(),
		Us: med * 1e6, MinUs: times[0] * 1e6,
		GBps: gbps, GOps: 2 * float64(n) * float64(k) / med / 1e9,
		BandwidthGBps: bws[rounds/2], BandwidthFrac: fracs[rounds/2],
		ReadUs: reads[len(reads)/2] * 1e6, ReadFrac: reads[len(reads)/2] / med,
		BitsPerWeight: stored, ComputeBits: float64(8*size) / float64(n*k),
		Cold: cold, Copies: copies, Calls: calls, Features: path,
	}, nil
}
