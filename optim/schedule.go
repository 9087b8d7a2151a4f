package optim

import (
	"fmt"
	"math"
)

// Schedule gives the learning rate and weight decay for a step (0-based).
type Schedule struct {
	Kind     string  // "cosine" (warmup + cosine to MinLR), "bitnet" (two-stage), "constant"
	LR       float64 // peak learning rate, e.g. 1.5e-3
	MinLR    float64 // final learning rate of cosine, e.g. LR/10
	Warmup   int     // linear warmup steps
	Steps    int     // total steps
	WD       float64 // weight decay (stage one for bitnet)
	Stage2LR float64 // bitnet: the learning rate the second stage starts from, e.g. LR/2 (0 = LR*0.5)
}

// Validate checks the schedule.
func (s Schedule) Validate() error {
	switch s.Kind {
	case "cosine", "bitnet", "constant":
	default:
		return fmt.Errorf("unknown schedule %q (want cosine, bitnet or constant)", s.Kind)
	}
	if s.LR <= 0 || s.Steps <= 0 || s.Warmup < 0 {
		return fmt.Errorf("schedule needs lr > 0, steps > 0, warmup >= 0 (got %g, %d, %d)", s.LR, s.Steps, s.Warmup)
	}
	return nil
}

// At returns (lr, wd) for step.
//
// BitNet b1.58's two-stage recipe (https://arxiv.org/abs/2504.12285, §2.2; "Training Tips" FAQ): a high
// learning rate over the first half (here cosine from LR to 0.6·LR after warmup), then a sharp drop to
// Stage2LR (default LR/2) decaying to MinLR over the second half; weight decay WD in stage one is
// switched off in stage two, so the latent weights settle into stable rounding bins at the end. The
// 0.6 and 1/2 factors are our defaults; the papers give the shape, not these numbers.
func (s Schedule) At(step int) (lr, wd float64) {
	if step < s.Warmup {
		return s.LR * float64(step+1) / float64(s.Warmup), s.WD
	}
	cos := func(from, to float64, i, n int) float64 {
		if n <= 0 {
			return to
		}
		r := math.Min(1, float64(i)/float64(n))
		return to + 0.5*(from-to)*(1+math.Cos(math.Pi*r))
	}
	switch s.Kind {
	case "constant":
		return s.LR, s.WD
	case "bitnet":
		half := s.Steps / 2
		if step < half {
			return cos(s.LR, s.LR*0.6, step-s.Warmup, half-s.Warmup), s.WD
		}
		lr2 := s.Stage2LR
		if lr2 == 0 {
			lr2 = s.LR * 0.5
		}
		return cos(lr2, s.MinLR, step-half, s.Steps-half), 0
	default:
		return cos(s.LR, s.MinLR, step-s.Warmup, s.Steps-s.Warmup), s.WD
	}
}
