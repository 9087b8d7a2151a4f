package kernels

import (
	"fmt"
	"math"
	"testing"

	"tern/tensor"
)

// nbitRef is the float64 product of the dequantized codes and activations, unpacked here from the
// layout's definition (code j of a row at bits j·bits.., little-endian).
func nbitRef(w []byte, steps []float32, n, k, bits int, q []int8, g float32) []float64 {
	rb := (k*bits + 7) / 8
	out := make([]float64, n)
	for i := 0; i < n; i++ {
		s := float64(steps[0])
		if len(steps) > 1 {
			s = float64(steps[i])
		}
		for j := 0; j < k; j++ {
			var u int
			for b := 0; b < bits; b++ {
				bit := j*bits + b
				u |= int(w[i*rb+bit/8]>>(bit%8)&1) << b
			}
			out[i] += (float64(u) - float64(int(1)<<bits-1)/2) * s * float64(q[j]) / float64(g)
		}
	}
	return out
}

// NBitGemv under every implementation agrees with the float64 reference (and so the SIMD paths with
// the Go one: the int32 sums are exact) on ragged shapes: K around each kernel's block, N around the
// kernels' 4-row groups, the 64-row groups and the threads' row chunks.
func TestNBitGemv(t *testing.T) {
	rng := tensor.NewRNG(41)
	for _, name := range Impls() {
		restore, err := Use(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bits := range []int{1, 2, 3, 4, 8} {
			per := 512 / bits // the AVX-512 block of 2, 4 and 8 bits; the others' blocks are smaller
			if kern := nbitKernelFor(bits); kern != nil {
				per = kern.per
			}
			for _, k := range []int{1, per - 1, per, per + 1, 2*per + 7, 3 * per, 1000} {
				for _, n := range []int{1, 3, 4, 7, 63, 64, 65, 130, 261} {
					rb := (k*bits + 7) / 8
					w := make([]byte, n*rb)
					for i := range w {
						w[i] = byte(rng.Uint64())
					}
					if pad := rb*8 - k*bits; pad > 0 { // the layout's pad bits are zero
						for i := 0; i < n; i++ {
							w[(i+1)*rb-1] &= byte(0xff >> pad)
						}
					}
					q := make([]int8, k)
					for i := range q {
						q[i] = int8(rng.Intn(256) - 128)
					}
					steps := []float32{0.01}
					if n%2 == 1 {
						steps = make([]float32, n)
						for i := range steps {
							steps[i] = 0.005 + 0.01*rng.Float32()
						}
					}
					y := make([]float32, n)
					NBitGemv(y, w, steps, n, k, bits, q, 3.5)
					if name != "go" && k >= per && NBitGemvPath(bits) == "go" && (bits != 1 && bits != 3 || name != "avx2" && name != "avx512") {
						t.Fatalf("%s bits=%d: no SIMD path", name, bits)
					}
					want := nbitRef(w, steps, n, k, bits, q, 3.5)
					for i := range want {
						if math.Abs(float64(y[i])-want[i]) > 1e-5*(1+math.Abs(want[i])) {
							t.Fatalf("%s bits=%d n=%d k=%d: y[%d] = %v, want %v", name, bits, n, k, i, y[i], want[i])
						}
					}
				}
			}
		}
		restore()
	}
	_ = fmt.Sprint()
}

// NBitGemvBatch gives every vector exactly NBitGemv's result (the same int32 sums and finishing),
// under every implementation, for batch sizes around the 8-vector kernel and its 4-vector minimum and
// shapes around the blocks and row groups.
func TestNBitGemvBatch(t *testing.T) {
	rng := tensor.NewRNG(43)
	for _, name := range Impls() {
		restore, err := Use(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bits := range []int{1, 2, 3, 4, 8} {
			per := 512 / bits
			for _, k := range []int{per - 1, per, 2*per + 7, 1000} {
				for _, n := range []int{1, 65, 130} {
					for _, nv := range []int{1, 3, 4, 5, 8, 9, 13} {
						rb := (k*bits + 7) / 8
						w := make([]byte, n*rb)
						for i := range w {
							w[i] = byte(rng.Uint64())
						}
						if pad := rb*8 - k*bits; pad > 0 {
							for i := 0; i < n; i++ {
								w[(i+1)*rb-1] &= byte(0xff >> pad)
							}
						}
						q := make([]int8, nv*k)
						for i := range q {
							q[i] = int8(rng.Intn(256) - 128)
						}
						g := make([]float32, nv)
						for i := range g {
							g[i] = 1 + 5*rng.Float32()
						}
						steps := []float32{0.01}
						if n%2 == 1 {
							steps = make([]float32, n)
							for i := range steps {
								steps[i] = 0.005 + 0.01*rng.Float32()
							}
						}
						out := make([]float32, nv*n)
						NBitGemvBatch(out, w, steps, n, k, bits, q, g, nv)
						want := make([]float32, n)
						for v := 0; v < nv; v++ {
							NBitGemv(want, w, steps, n, k, bits, q[v*k:(v+1)*k], g[v])
							for i := range want {
								if out[v*n+i] != want[i] {
									t.Fatalf("%s bits=%d n=%d k=%d nv=%d: vector %d row %d = %v, NBitGemv %v", name, bits, n, k, nv, v, i, out[v*n+i], want[i])
								}
							}
						}
					}
				}
			}
		}
		restore()
	}
}
