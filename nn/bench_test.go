package nn

import (
	"testing"

	"tern/tensor"
)

// Benchmarks at the small GPT config of ../shared/peers/torch_train_bench.py (B 8, T 128, C 256,
// NH 4, FFN 4C, vocab 8192): one pre-LN block forward+backward, and the LM-head cross-entropy.

func benchBlock(b *testing.B, proj func(*tensor.RNG) ProjFunc) {
	const B, T, C, NH = 8, 128, 256, 4
	rng := tensor.NewRNG(1)
	ln1, ln2 := NewLayerNorm("ln1", C), NewLayerNorm("ln2", C)
	attn, err := NewSelfAttention("attn", C, NH, true, false, proj(rng))
	if err != nil {
		b.Fatal(err)
	}
	ffn := NewFFN("ffn", C, 4*C, proj(rng))
	x := randn(rng, B*T*C, 1)
	h := make([]float32, B*T*C)
	out := make([]float32, B*T*C)
	dx := make([]float32, B*T*C)
	step := func() {
		Add(h, x, attn.Forward(ln1.Forward(x, B*T), B, T, nil))
		Add(out, h, ffn.Forward(ln2.Forward(h, B*T), B*T))
		dh := ln2.Backward(ffn.Backward(out)) // dout = out, just some gradient
		copy(dx, out)
		AddInPlace(dh, out)
		copy(dx, dh)
		AddInPlace(dx, ln1.Backward(attn.Backward(dh)))
	}
	step()
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(B*T)*float64(b.N)/b.Elapsed().Seconds(), "tok/s")
}

func BenchmarkBlockLinear(b *testing.B) {
	benchBlock(b, func(rng *tensor.RNG) ProjFunc { return LinearProj(rng, false) })
}

func BenchmarkBlockBitLinear(b *testing.B) {
	benchBlock(b, func(rng *tensor.RNG) ProjFunc { return BitLinearProj(rng, false) })
}

func BenchmarkAttentionCore(b *testing.B) {
	const B, T, C, NH = 8, 128, 256, 4
	rng := tensor.NewRNG(2)
	a, _ := NewSelfAttention("attn", C, NH, true, false, LinearProj(rng, false))
	x := randn(rng, B*T*C, 1)
	a.Forward(x, B, T, nil)
	b.Run("core_fwd", func(b *testing.B) {
		for b.Loop() {
			a.core(a.qkv, 3*C, a.qkv[C:], 3*C, a.qkv[2*C:], 3*C)
		}
	})
	dy := randn(rng, B*T*C, 1)
	a.dqkv = tensor.Grow(a.dqkv, B*T*3*C)
	b.Run("core_bwd", func(b *testing.B) {
		for b.Loop() {
			a.coreBackward(dy, a.qkv, 3*C, a.qkv[C:], 3*C, a.qkv[2*C:], 3*C, a.dqkv, 3*C, a.dqkv[C:], 3*C, a.dqkv[2*C:], 3*C)
		}
	})
}

func BenchmarkCrossEntropy(b *testing.B) {
	const N, V = 1024, 8192
	rng := tensor.NewRNG(3)
	logits := randn(rng, N*V, 2)
	targets := make([]int32, N)
	for i := range targets {
		targets[i] = int32(rng.Intn(V))
	}
	var ce CrossEntropy
	for b.Loop() {
		ce.Forward(logits, targets, N, V)
		ce.Backward(1)
	}
}

// A 2-layer LSTM / GRU LM body: B 16, T 64, H 256, forward+backward.
func BenchmarkRNN(b *testing.B) {
	const B, T, H, L = 16, 64, 256, 2
	rng := tensor.NewRNG(4)
	x := randn(rng, B*T*H, 1)
	lstm := NewLSTM("lstm", H, H, L, rng)
	gru := NewGRU("gru", H, H, L, rng)
	b.Run("lstm", func(b *testing.B) {
		for b.Loop() {
			o, _, _ := lstm.Forward(x, B, T, nil, nil)
			lstm.Backward(o)
		}
		b.ReportMetric(float64(B*T)*float64(b.N)/b.Elapsed().Seconds(), "tok/s")
	})
	b.Run("gru", func(b *testing.B) {
		for b.Loop() {
			o, _ := gru.Forward(x, B, T, nil)
			gru.Backward(o)
		}
		b.ReportMetric(float64(B*T)*float64(b.N)/b.Elapsed().Seconds(), "tok/s")
	})
}

func BenchmarkCrossEntropyFused(b *testing.B) {
	const N, V = 1024, 8192
	rng := tensor.NewRNG(3)
	src := randn(rng, N*V, 2)
	logits := make([]float32, N*V)
	targets := make([]int32, N)
	for i := range targets {
		targets[i] = int32(rng.Intn(V))
	}
	losses := make([]float32, N)
	for b.Loop() {
		copy(logits, src)
		CrossEntropyFused(losses, logits, targets, N, V, 1)
	}
}
