package infer

import (
	"fmt"
	"testing"

	"tern/format"
	"tern/model"
)

// BenchmarkBatchStep times one batched decoding step of the 100M and 700M decode shapes for B
// sequences, with the ternary products as packed batch GEMVs (the default) and as the int8 GEMM over
// resident matrices ("gemm").
func BenchmarkBatchStep(b *testing.B) {
	for _, shape := range []string{"100m", "700m"} {
		cfg := decodeShape100M()
		if shape == "700m" {
			cfg.Hidden, cfg.Layers, cfg.Heads, cfg.FFN = 1536, 24, 16, 4096
		}
		cfg.MaxPos = 64
		for _, from := range []int{ternaryGemmFrom, gemmMin} {
			m, err := RandomPacked(cfg, 1, format.F16)
			if err != nil {
				b.Fatal(err)
			}
			bt, err := newBatch(m, 64, true, from)
			if err != nil {
				b.Fatal(err)
			}
			name := shape + "/packed"
			if from == gemmMin {
				name = shape + "/gemm"
			}
			benchBatchStep(b, bt, name, cfg.MaxPos)
		}
	}
}

func benchBatchStep(b *testing.B, bt *Batch, name string, maxPos int) {
	for _, B := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprint(name, "/B=", B), func(b *testing.B) {
			slots, ids := make([]int, B), make([]int, B)
			for i := range B {
				slots[i], ids[i] = i, i
				bt.Start(i, []int{1, 2, 3, 4})
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if bt.slots[0].Pos >= maxPos-1 {
					b.StopTimer()
					for i := range B {
						bt.Start(i, []int{1, 2, 3, 4})
					}
					b.StartTimer()
				}
				if _, err := bt.Step(slots, ids); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(B*b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

func decodeShape100M() model.Config {
	return model.Config{Type: "transformer", Objective: "causal", Vocab: 32000, Hidden: 768, Layers: 12, Heads: 12, FFN: 2048, Linear: "bitnet", TieEmbeddings: true, Norm: "rmsnorm"}
}

// BenchmarkPackedStep is Packed.Step on the same shape, the single-sequence reference.
func BenchmarkPackedStep(b *testing.B) {
	cfg := decodeShape100M()
	cfg.MaxPos = 64
	m, err := RandomPacked(cfg, 1, format.F16)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if m.Pos >= cfg.MaxPos-1 {
			m.Reset()
		}
		if _, err := m.Step(i % 100); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}
