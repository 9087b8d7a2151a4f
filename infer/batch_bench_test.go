package infer

import (
	"fmt"
	"testing"

	"tern/format"
	"tern/model"
)

// BenchmarkBatchStep times one batched decoding step of the 100M decode shape for B sequences.
func BenchmarkBatchStep(b *testing.B) {
	cfg := decodeShape100M()
	cfg.MaxPos = 64
	m, err := RandomPacked(cfg, 1, format.F16)
	if err != nil {
		b.Fatal(err)
	}
	bt, err := NewBatch(m, 16, true)
	if err != nil {
		b.Fatal(err)
	}
	for _, B := range []int{1, 4, 16} {
		b.Run(fmt.Sprint("B=", B), func(b *testing.B) {
			slots, ids := make([]int, B), make([]int, B)
			for i := range B {
				slots[i], ids[i] = i, i
				bt.Start(i, []int{1, 2, 3, 4})
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if bt.slots[0].Pos >= cfg.MaxPos-1 {
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
