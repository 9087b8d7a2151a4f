package train

import (
	"fmt"
	"math"
	"sort"
	"time"

	"tern/kernels"
	"tern/model"
	"tern/nn"
	"tern/optim"
	"tern/tensor"
)

// PrecisionWarning is the one-line warning for bf16 on a CPU without a native bf16 product (it runs
// on the emulated path: the same results at fp32 speed), or "".
func PrecisionWarning(precision string) string {
	if precision != nn.PrecisionBF16 || kernels.HasBF16() {
		return ""
	}
	return fmt.Sprintf("warning: precision bf16: this CPU (%s) has no AVX512_BF16; bf16 products run emulated (%s: the same results, at fp32 GEMM speed)", kernels.Impl(), kernels.BgemmPath())
}

// BenchResult is the outcome of BenchSteps.
type BenchResult struct {
	Params       int       `json:"params"`
	StepMedianS  float64   `json:"step_s_median"`
	StepMinS     float64   `json:"step_s_min"`
	FwdMedianS   float64   `json:"fwd_s_median"`
	TokensPerSec float64   `json:"tokens_per_s"`
	LossFirst    float64   `json:"loss_first"`
	LossLast     float64   `json:"loss_last"`
	StepTimes    []float64 `json:"step_s"`
}

// BenchSteps times full training steps (zero grad, forward, loss, backward, AdamW) on one fixed random
// batch, as ../shared/peers/torch_train_bench.py does, so tokens/s compare like for like. precision
// is the layers' products, "fp32" or "bf16" (nn.SetPrecision; it stays set afterwards).
func BenchSteps(mc model.Config, b, t, warmup, steps int, seed uint64, precision string) (*BenchResult, error) {
	if err := nn.SetPrecision(precision); err != nil {
		return nil, err
	}
	lm, err := model.New(mc, tensor.NewRNG(seed))
	if err != nil {
		return nil, err
	}
	params := nn.Unique(lm.Params())
	opt := optim.NewAdamW(params, noDecay(params))
	rng := tensor.NewRNG(seed + 1)
	ids, targets := make([]int32, b*t), make([]int32, b*t)
	for i := range ids {
		ids[i] = int32(rng.Intn(mc.Vocab))
		targets[i] = int32(rng.Intn(mc.Vocab))
	}
	rowLoss := make([]float32, b*t)
	res := &BenchResult{}
	_, res.Params = model.CountParams(lm.Params())
	var times, fwd []float64
	for i := 0; i < warmup+steps; i++ {
		t0 := time.Now()
		for _, p := range params {
			clear(p.G)
		}
		logits, err := lm.Forward(ids, b, t)
		if err != nil {
			return nil, err
		}
		nats, cnt := crossEntropy(logits, targets, rowLoss, b*t, mc.Vocab, 1)
		t1 := time.Now()
		lm.Backward(logits)
		opt.Update(1e-3, 0.1)
		el := time.Since(t0).Seconds()
		loss := nats / float64(cnt)
		if math.IsNaN(loss) {
			return nil, fmt.Errorf("bench: loss is NaN at step %d", i)
		}
		if i == 0 {
			res.LossFirst = loss
		}
		res.LossLast = loss
		if i >= warmup {
			times = append(times, el)
			fwd = append(fwd, t1.Sub(t0).Seconds())
		}
	}
	res.StepTimes = append([]float64(nil), times...)
	res.StepMedianS, res.FwdMedianS = median(times), median(fwd)
	sort.Float64s(times)
	res.StepMinS = times[0]
	res.TokensPerSec = float64(b*t) / res.StepMedianS
	return res, nil
}

func median(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	if len(s) == 0 {
		return math.NaN()
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
