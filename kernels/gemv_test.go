package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// packRows is the test's own packer (the formula in gemv.go, written independently of quant).
func packTritRows(t []int8, n, k int) []byte {
	rb := (k + 4) / 5
	w := make([]byte, n*rb)
	for r := 0; r < n; r++ {
		for j := 0; j < rb; j++ {
			b, p := 0, 1
			for i := 0; i < 5; i++ {
				d := 1 // padding: weight 0
				if c := 5*j + i; c < k {
					d = int(t[r*k+c]) + 1
				}
				b += d * p
				p *= 3
			}
			w[r*rb+j] = byte(b)
		}
	}
	return w
}

func naiveGemv(t []int8, x []int8, n, k int) []int32 {
	y := make([]int32, n)
	for r := 0; r < n; r++ {
		for c := 0; c < k; c++ {
			y[r] += int32(t[r*k+c]) * int32(x[c])
		}
	}
	return y
}

// forEachGemvPath runs f once for every implementation this CPU supports (fast paths first, then
// the generic one), restoring the feature flags afterwards.
func forEachGemvPath(t *testing.T, f func(t *testing.T)) {
	for _, name := range distinctImpls(GemvPath) {
		withImplName(name, func() { t.Run(GemvPath(), f) })
	}
}

func TestTernaryGemv(t *testing.T) {
	rng := rand.New(rand.NewSource(0)) // always the same seed for reproducible results
	type tc struct {
		n, k int
		t, x []int8
		w    []byte
		want []int32
	}
	var cases []tc
	for _, n := range []int{1, 3, 4, 5, 7, 8, 17, 33, 130} { // 130: the portable path's lookup table
		for _, k := range []int{1, 3, 5, 7, 17, 33, 64, 65, 257, 319, 320, 321, 639, 1000, 4096} {
			tr := make([]int8, n*k)
			for i := range tr {
				tr[i] = int8(rng.Intn(3) - 1)
			}
			x := make([]int8, k)
			for i := range x {
				x[i] = int8(rng.Intn(256) - 128)
			}
			cases = append(cases, tc{n, k, tr, x, packTritRows(tr, n, k), naiveGemv(tr, x, n, k)})
		}
	}
	// Extremes: all +1 (or all -1) weights against x = -128 everywhere, the largest |sums|.
	for _, v := range []int8{1, -1} {
		n, k := 5, 3001
		tr := make([]int8, n*k)
		x := make([]int8, k)
		for i := range tr {
			tr[i] = v
		}
		for i := range x {
			x[i] = -128
		}
		cases = append(cases, tc{n, k, tr, x, packTritRows(tr, n, k), naiveGemv(tr, x, n, k)})
	}
	forEachGemvPath(t, func(t *testing.T) {
		for _, c := range cases {
			v := NewGemvVec(c.k)
			v.Set(c.x)
			y := make([]int32, c.n)
			// w has no spare capacity, so any read past its end would be a bug the fast paths must avoid.
			TernaryGemv(y, c.w[:len(c.w):len(c.w)], c.n, c.k, v)
			for r := range y {
				if y[r] != c.want[r] {
					t.Fatalf("n=%d k=%d: y[%d] = %d, want %d", c.n, c.k, r, y[r], c.want[r])
				}
			}
			y2 := make([]int32, c.n)
			TernaryGemvGeneric(y2, c.w, c.n, c.k, c.x)
			for r := range y2 {
				if y2[r] != c.want[r] {
					t.Fatalf("generic n=%d k=%d: y[%d] = %d, want %d", c.n, c.k, r, y2[r], c.want[r])
				}
			}
		}
	})
}

// TestTernaryGemvRowsAtEnd checks rows that start at every offset in a larger buffer: the kernels
// receive sub-slices of a mapped file, whose rows need not be aligned.
func TestTernaryGemvSubslices(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	n, k := 9, 700
	tr := make([]int8, n*k)
	for i := range tr {
		tr[i] = int8(rng.Intn(3) - 1)
	}
	x := make([]int8, k)
	for i := range x {
		x[i] = int8(rng.Intn(256) - 128)
	}
	want := naiveGemv(tr, x, n, k)
	w := packTritRows(tr, n, k)
	v := NewGemvVec(k)
	v.Set(x)
	forEachGemvPath(t, func(t *testing.T) {
		for off := 0; off < 70; off += 3 {
			buf := make([]byte, off+len(w))
			copy(buf[off:], w)
			y := make([]int32, n)
			TernaryGemv(y, buf[off:], n, k, v)
			for r := range y {
				if y[r] != want[r] {
					t.Fatalf("offset %d: y[%d] = %d, want %d", off, r, y[r], want[r])
				}
			}
		}
	})
}

func TestTernaryGemvThreadsAndBadBytes(t *testing.T) {
	defer SetThreads(Threads())
	rng := rand.New(rand.NewSource(1))
	n, k := 301, 2000
	w := randPackedRows(rng, n, k)
	x := make([]int8, k)
	for i := range x {
		x[i] = int8(rng.Intn(256) - 128)
	}
	v := NewGemvVec(k)
	v.Set(x)
	ref := make([]int32, n)
	TernaryGemvGeneric(ref, w, n, k, x)
	forEachGemvPath(t, func(t *testing.T) {
		for _, th := range []int{1, 2, 3, 7} {
			SetThreads(th)
			y := make([]int32, n)
			TernaryGemv(y, w, n, k, v)
			if fmt.Sprint(y) != fmt.Sprint(ref) {
				t.Fatalf("threads=%d: result differs from the reference", th)
			}
		}
		// Bytes no packer writes must not crash any path.
		bad := append([]byte{}, w...)
		for i := 0; i < len(bad); i += 7 {
			bad[i] = byte(243 + i%13)
		}
		TernaryGemv(make([]int32, n), bad, n, k, v)
	})
}

func TestGemvVecSetFloat32(t *testing.T) {
	x := []float32{0.5, -1, 0.25, 0, 2, -2, 1e-3}
	v := NewGemvVec(len(x))
	g := v.SetFloat32(x)
	q := make([]int8, len(x))
	s := make([]float32, 1)
	QuantizeRowsInt8(q, s, x, 1, len(x))
	if g != s[0] || fmt.Sprint(v.X) != fmt.Sprint(q) {
		t.Errorf("SetFloat32: g=%v X=%v, QuantizeRowsInt8: %v %v", g, v.X, s[0], q)
	}
	if v.Sum != 32+(-64)+16+0+127+(-127)+0 {
		t.Errorf("Sum = %d", v.Sum)
	}
	// Planes: x[i] sits in block i/320, plane i%5, position (i%320)/5.
	k := 700
	xs := make([]int8, k)
	for i := range xs {
		xs[i] = int8(i%251 - 120)
	}
	v = NewGemvVec(k)
	v.Set(xs)
	if len(v.Planes) != 3*320 {
		t.Fatalf("len(Planes) = %d", len(v.Planes))
	}
	for i, q := range xs {
		if got := v.Planes[(i/320)*320+(i%5)*64+(i%320)/5]; got != q {
			t.Fatalf("plane slot of x[%d] = %d, want %d", i, got, q)
		}
	}
	for i := k; i < 960; i++ {
		if v.Planes[(i/320)*320+(i%5)*64+(i%320)/5] != 0 {
			t.Fatalf("padding slot %d not zero", i)
		}
	}
}

func BenchmarkTernaryGemv(b *testing.B) {
	for _, s := range [][2]int{{4096, 4096}, {2560, 6912}, {6912, 2560}} {
		n, k := s[0], s[1]
		rng := rand.New(rand.NewSource(0))
		w := randPackedRows(rng, n, k)
		v := NewGemvVec(k)
		x := make([]int8, k)
		for i := range x {
			x[i] = int8(rng.Intn(256) - 128)
		}
		v.Set(x)
		y := make([]int32, n)
		b.Run(fmt.Sprintf("%dx%d/%s", n, k, GemvPath()), func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			for b.Loop() {
				TernaryGemv(y, w, n, k, v)
			}
		})
	}
}

// TestTernaryGemvAllocs: one product allocates nothing of its own on one thread (the worker pool's
// hand-off to other threads costs one WaitGroup per call).
func TestTernaryGemvAllocs(t *testing.T) {
	defer SetThreads(Threads())
	SetThreads(1)
	n, k := 64, 1000
	w := make([]byte, n*GemvRowBytes(k))
	v := NewGemvVec(k)
	y := make([]int32, n)
	if a := testing.AllocsPerRun(20, func() { TernaryGemv(y, w, n, k, v) }); a != 0 {
		t.Errorf("allocs = %v, want 0", a)
	}
}

func BenchmarkGemvVecSet(b *testing.B) {
	for _, k := range []int{2560, 4096, 6912} {
		x := make([]float32, k)
		rng := rand.New(rand.NewSource(0))
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		v := NewGemvVec(k)
		b.Run(fmt.Sprint(k), func(b *testing.B) {
			for b.Loop() {
				v.SetFloat32(x)
			}
		})
	}
}

// TestGemvVecSetFloat32Paths compares SetFloat32 (AVX-512 and Go) with QuantizeRowsInt8 on awkward
// lengths and on values whose scaled form is exactly a tie (k + 0.5), or one float32 ulp below.
func TestGemvVecSetFloat32Paths(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, name := range Impls() {
		withImplName(name, func() {
			for _, k := range []int{1, 3, 15, 16, 17, 31, 33, 100, 257, 1000, 4096} {
				x := make([]float32, k)
				for i := range x {
					switch i % 4 {
					case 0:
						x[i] = float32(rng.NormFloat64())
					case 1: // with max|x| = 127 below, g = 1: exact ties
						x[i] = float32(rng.Intn(254)-127) + 0.5
					case 2:
						x[i] = math.Nextafter32(float32(rng.Intn(254)-127)+0.5, 0)
					default:
						x[i] = -x[i-1]
					}
				}
				x[0] = 127
				v := NewGemvVec(k)
				g := v.SetFloat32(x)
				q := make([]int8, k)
				s := make([]float32, 1)
				QuantizeRowsInt8(q, s, x, 1, k)
				if g != s[0] {
					t.Fatalf("%s k=%d: scale %v, want %v", name, k, g, s[0])
				}
				for i := range q {
					if v.X[i] != q[i] {
						t.Fatalf("%s k=%d: X[%d] = %d for %v, want %d", name, k, i, v.X[i], x[i], q[i])
					}
				}
			}
		})
	}
}

func TestTernaryGemvF32(t *testing.T) {
	defer SetThreads(Threads())
	rng := rand.New(rand.NewSource(4))
	n, k := 517, 777
	w := randPackedRows(rng, n, k)
	xf := make([]float32, k)
	for i := range xf {
		xf[i] = float32(rng.NormFloat64())
	}
	v := NewGemvVec(k)
	g := v.SetFloat32(xf)
	ref := make([]int32, n)
	TernaryGemvGeneric(ref, w, n, k, v.X)
	const ws = 0.0371
	forEachGemvPath(t, func(t *testing.T) {
		for _, th := range []int{1, 2, 3} {
			SetThreads(th)
			out := make([]float32, n)
			y := make([]int32, n)
			TernaryGemvF32(out, y, w, n, k, v, ws, g)
			for j := range out {
				if want := float32(ref[j]) * ws / g; out[j] != want || y[j] != ref[j] {
					t.Fatalf("threads=%d: out[%d] = %v (y %d), want %v (y %d)", th, j, out[j], y[j], want, ref[j])
				}
			}
		}
	})
}

// randPackedRows returns n random packed rows of k weights (bytes 0..242, the valid 5-trit codes).
func randPackedRows(rng *rand.Rand, n, k int) []byte {
	w := make([]byte, n*GemvRowBytes(k))
	for i := range w {
		w[i] = byte(rng.Intn(243))
	}
	return w
}
