package train

// The denoising sequence-to-sequence objective (BART text infilling, https://arxiv.org/abs/1910.13461
// §2.2): the encoder reads a corrupted copy of a text span, the decoder reconstructs the original.
// Spans of 1..5 tokens (mean 3, BART draws Poisson(3)) are each replaced by one [MASK], so the model
// must also infer how many tokens a mask hides.
//
// A training row (T = Seq tokens) is laid out for model.EncDec as
//
//	source (Ts = T - T/2, PadID-padded) | BOS | original[0 : Tt-1]     (Tt = T/2)
//
// with targets -1 over the source and original[0 : Tt] over the decoder part, so the ordinary LM loop
// (forward, cross-entropy on targets >= 0, backward) trains it unchanged. The rows are built in place
// from the windows the causal sampler draws (first Tt tokens of each window), so the same data
// position and checkpoint machinery apply.

import (
	"fmt"

	"tern/model"
	"tern/tensor"
)

// meanSpan is the mean corrupted span length (uniform 1..5).
const meanSpan = 3

// Seq2SeqRows rewrites b windows of t tokens in ids into denoising rows (see the file comment) and
// fills targets; p is the fraction of tokens hidden (e.g. 0.15; BART uses 0.3).
func Seq2SeqRows(ids, targets []int32, b, t int, rng *tensor.RNG, mc model.Config, p float64) {
	if t < 4 || len(ids) < b*t || len(targets) < b*t {
		panic(fmt.Sprintf("train: Seq2SeqRows: b=%d t=%d with %d ids, %d targets (t >= 4)", b, t, len(ids), len(targets)))
	}
	tt := t / 2
	ts := t - tt
	orig := make([]int32, tt)
	src := make([]int32, 0, ts)
	mask, bos, pad := int32(mc.MaskID()), int32(mc.BOSID()), int32(mc.PadID())
	// A span starts at a visited token with chance q and covers meanSpan tokens on average, so the
	// hidden fraction is meanSpan·q / (meanSpan·q + 1 - q); solving for p gives q.
	q := p / (meanSpan - (meanSpan-1)*p)
	for r := 0; r < b; r++ {
		row, tg := ids[r*t:(r+1)*t], targets[r*t:(r+1)*t]
		copy(orig, row[:tt])
		src = src[:0]
		for i := 0; i < tt; {
			if rng.Float64() < q {
				src = append(src, mask)
				i += 1 + rng.Intn(2*meanSpan-1)
				continue
			}
			src = append(src, orig[i])
			i++
		}
		copy(row, src)
		for j := len(src); j < ts; j++ {
			row[j] = pad
		}
		row[ts] = bos
		copy(row[ts+1:], orig[:tt-1])
		for j := 0; j < ts; j++ {
			tg[j] = -1
		}
		copy(tg[ts:], orig)
	}
}
