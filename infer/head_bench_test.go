package infer

import (
	"fmt"
	"testing"

	"tern/format"
	"tern/kernels"
)

// BenchmarkHeadBatch compares the batched LM head of the 100M shape: the F16 table read once in
// L2-sized chunks (gemvBatch) or by kernels.SgemvF16Batch (what Batch uses) against an fp32 copy
// through Sgemm, whole and in the same chunks.
func BenchmarkHeadBatch(b *testing.B) {
	V, C := 32000, 768
	v := make([]float32, V*C)
	for i := range v {
		v[i] = float32(i%97) * 0.001
	}
	t16 := randomTable(v, C, format.F16)
	for _, B := range []int{4, 16, 64} {
		x := make([]float32, B*C)
		for i := range x {
			x[i] = float32(i%13) * 0.1
		}
		y := make([]float32, B*V)
		b.Run(fmt.Sprint("f16-chunks/B=", B), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				t16.gemvBatch(y, x, V, B)
			}
		})
		b.Run(fmt.Sprint("f16-batch/B=", B), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				kernels.SgemvF16Batch(y, V, t16.f16, x, V, C, B)
			}
		})
		b.Run(fmt.Sprint("f32-sgemm/B=", B), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				kernels.Sgemm(false, true, B, V, C, 1, x, C, v, C, 0, y, V)
			}
		})
		b.Run(fmt.Sprint("f32-sgemm-chunks/B=", B), func(b *testing.B) {
			rows := 256
			for i := 0; i < b.N; i++ {
				kernels.ParallelFor((V+rows-1)/rows, 1, func(lo, hi int) {
					for ch := lo; ch < hi; ch++ {
						r0, r1 := ch*rows, min(V, (ch+1)*rows)
						kernels.Sgemm(false, true, B, r1-r0, C, 1, x, C, v[r0*C:], C, 0, y[r0:], V)
					}
				})
			}
		})
	}
}
