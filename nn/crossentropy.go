package nn

import (
	"fmt"

	"tern/kernels"
	"tern/tensor"
)

// Fused softmax + cross-entropy over logits (N,V). A target of -1 is ignored (masked-LM positions that
// are not predicted, padding); the loss is the mean over the other rows, as PyTorch's
// F.cross_entropy(..., ignore_index=-1). Only the log-sum-exp of each row is saved, not the (N,V)
// probabilities, so backward recomputes exp(logit - lse): one extra exp per logit for N·V fewer floats.

// IgnoreIndex marks a target that contributes neither loss nor gradient.
const IgnoreIndex = -1

// CrossEntropyForward writes each row's loss into losses (N; 0 for ignored rows) and its log-sum-exp
// into lse (N), and returns the mean loss over non-ignored rows (0 when all are ignored).
func CrossEntropyForward(losses, lse []float32, logits []float32, targets []int32, n, v int) float32 {
	checkCE("CrossEntropyForward", len(logits), len(targets), n, v)
	need("CrossEntropyForward", "losses", len(losses), n)
	need("CrossEntropyForward", "lse", len(lse), n)
	kernels.LogSumExpRows(lse, logits, n, v)
	for i, t := range targets[:n] {
		losses[i] = 0
		if t != IgnoreIndex {
			losses[i] = lse[i] - logits[i*v+int(t)]
		}
	}
	var sum float64 // rows in order: deterministic for any thread count
	count := 0
	for i, t := range targets[:n] {
		if t != IgnoreIndex {
			sum += float64(losses[i])
			count++
		}
	}
	if count == 0 {
		return 0
	}
	return float32(sum / float64(count))
}

// CrossEntropyBackward OVERWRITES dlogits (N,V) with dloss·(softmax(logits) - onehot(target))/count,
// count = non-ignored rows; ignored rows get zeros. dlogits may alias logits (in place).
func CrossEntropyBackward(dlogits, logits, lse []float32, targets []int32, n, v int, dloss float32) {
	checkCE("CrossEntropyBackward", len(logits), len(targets), n, v)
	need("CrossEntropyBackward", "dlogits", len(dlogits), n*v)
	need("CrossEntropyBackward", "lse", len(lse), n)
	count := 0
	for _, t := range targets[:n] {
		if t != IgnoreIndex {
			count++
		}
	}
	scale := float32(0)
	if count > 0 {
		scale = dloss / float32(count)
	}
	kernels.ExpShiftRows(dlogits, logits, lse, scale, n, v)
	for i, t := range targets[:n] {
		if t == IgnoreIndex {
			clear(dlogits[i*v : i*v+v])
		} else {
			dlogits[i*v+int(t)] -= scale
		}
	}
}

// CrossEntropyFused is the one-pass form for training loops: it writes each row's loss into losses
// (N; 0 for ignored rows) and OVERWRITES logits (N,V) with scale·d(mean loss)/dlogits (ignored rows
// zeroed; scale folds in e.g. 1/accumulation steps), computing one exp per logit. It returns the
// summed loss (float64, rows in order: thread-count independent) and the number of non-ignored rows.
func CrossEntropyFused(losses, logits []float32, targets []int32, n, v int, scale float32) (sum float64, count int) {
	checkCE("CrossEntropyFused", len(logits), len(targets), n, v)
	need("CrossEntropyFused", "losses", len(losses), n)
	for i, t := range targets[:n] {
		if t != IgnoreIndex {
			if t < 0 || int(t) >= v {
				panic(fmt.Sprintf("nn: CrossEntropyFused: target %d at row %d outside [0,%d) and not %d", t, i, v, IgnoreIndex))
			}
			count++
		}
	}
	inv := float32(0)
	if count > 0 {
		inv = scale / float32(count)
	}
	kernels.ParallelFor(n, max(1, 4096/v), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row, t := logits[i*v:i*v+v], targets[i]
			if t == IgnoreIndex {
				losses[i] = 0
				clear(row)
				continue
			}
			xt := row[t]
			losses[i] = kernels.SoftmaxRowScaled(row, row, inv) - xt
			row[t] -= inv
		}
	})
	for i, t := range targets[:n] {
		if t != IgnoreIndex {
			sum += float64(losses[i])
		}
	}
	return sum, count
}

func checkCE(name string, nlogits, ntargets, n, v int) {
	if n < 0 || v <= 0 {
		panic(fmt.Sprintf("nn: %s: n=%d v=%d", name, n, v))
	}
	need(name, "logits", nlogits, n*v)
	need(name, "targets", ntargets, n)
}

// CrossEntropy is the layer form of CrossEntropyForward/Backward with its own buffers.
type CrossEntropy struct {
	Losses []float32 // (N) per-row losses of the last Forward (0 for ignored rows)
	// InPlace makes Backward write dlogits over the logits passed to Forward (which the caller must
	// not need afterwards) instead of a layer-owned (N,V) buffer: 100 MB less at B·T 512, V 50257.
	InPlace bool

	lse     []float32 // (N)
	logits  []float32 // (N, V) referenced
	targets []int32   // (N) referenced
	n, v    int
	dlogits []float32 // (N, V)
}

// Forward validates targets (each in [0,V) or IgnoreIndex; else panic) and returns the mean loss.
func (ce *CrossEntropy) Forward(logits []float32, targets []int32, n, v int) float32 {
	checkCE("CrossEntropy", len(logits), len(targets), n, v)
	for i, t := range targets[:n] {
		if t != IgnoreIndex && (t < 0 || int(t) >= v) {
			panic(fmt.Sprintf("nn: CrossEntropy: target %d at row %d outside [0,%d) and not %d", t, i, v, IgnoreIndex))
		}
	}
	ce.logits, ce.targets, ce.n, ce.v = logits[:n*v], targets[:n], n, v
	ce.Losses, ce.lse = tensor.Grow(ce.Losses, n), tensor.Grow(ce.lse, n)
	return CrossEntropyForward(ce.Losses, ce.lse, ce.logits, ce.targets, n, v)
}

// Backward returns dlogits (N,V) for a loss gradient dloss (1 for the plain mean loss; 1/k to average
// over k accumulation steps).
func (ce *CrossEntropy) Backward(dloss float32) []float32 {
	if ce.InPlace {
		CrossEntropyBackward(ce.logits, ce.logits, ce.lse, ce.targets, ce.n, ce.v, dloss)
		return ce.logits
	}
	ce.dlogits = tensor.Grow(ce.dlogits, ce.n*ce.v)
	CrossEntropyBackward(ce.dlogits, ce.logits, ce.lse, ce.targets, ce.n, ce.v, dloss)
	return ce.dlogits
}
