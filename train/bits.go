package train

// bits.go is --bits auto: after a warm-up, measure how much each quantized matrix's precision matters
// and choose per-matrix widths within a budget of stored bits per weight (quant.Knapsack or
// quant.Cluster), then keep training (quantization-aware) at those widths.
//
// Sensitivity (bits_sensitivity), two measures:
//   - fisher (the default): cost(m, b) = ½ Σ_i F_i·(w_i - Q_b(w_i))², the second-order term of the loss
//     change with the diagonal empirical Fisher F for the Hessian (HAWQ-V2/V3 use the Hessian trace;
//     Fisher x quantization error is the cheap, per-weight version). F comes free: AdamW's second moment
//     v is an average of squared gradients (bias-corrected by 1/(1-β2^t)). The cost is smooth and
//     exactly additive over matrices, the knapsack's model.
//   - loss: cost(m, b) = max(0, L(m at b) - L0), the held-out loss increase when matrix m alone is at
//     width b and every other matrix at 8 bits (L0: all at 8 bits), on the LAST bitsSensBatches
//     validation batches (disjoint from the reported validation loss unless the split is short).
//     Direct, but each single-matrix change is tiny next to the measurement's resolution on a few
//     batches, and the clipped negatives look free: on the README's Gutenberg runs it allocated worse
//     than uniform widths (see README), which is why fisher is the default.

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"tern/model"
	"tern/nn"
	"tern/quant"
)

// bitsSensBatches is how many held-out batches each sensitivity measurement averages.
const bitsSensBatches = 2

// bitsWarmup is the step of the first allocation.
func (c Config) bitsWarmup() int {
	if c.BitsWarmup > 0 {
		return c.BitsWarmup
	}
	return max(1, c.Steps/5)
}

// bitsDue reports whether widths are (re)allocated before the next step. The steps follow from the
// config alone, so a resumed run allocates at the same steps as an uninterrupted one.
func (r *Run) bitsDue() bool {
	c := r.Cfg
	if c.BitsBudget <= 0 {
		return false
	}
	w := c.bitsWarmup()
	return r.Step == w || (c.BitsEvery > 0 && r.Step > w && (r.Step-w)%c.BitsEvery == 0)
}

// BitsItems measures the sensitivity of every quantized matrix at every width (Cfg.BitsSensitivity)
// and returns the allocator's items (options in quant.Widths() order) and the matrices.
func (r *Run) BitsItems() ([]quant.Item, []model.QuantMatrix) {
	if r.Cfg.BitsSensitivity == "loss" {
		return r.lossItems()
	}
	return r.fisherItems()
}

// fisherItems is BitsItems with cost(m, b) = ½ Σ F_i·(w_i - Q_b(w_i))², F = AdamW's v/(1-β2^t).
func (r *Run) fisherItems() ([]quant.Item, []model.QuantMatrix) {
	ms := model.QuantMatrices(r.Model)
	off := map[*nn.Param]int{}
	o := 0
	for _, p := range r.Opt.Params {
		off[p] = o
		o += len(p.W)
	}
	corr := 1.0
	if r.Opt.Step > 0 {
		corr = 1 / (1 - math.Pow(r.Opt.Beta2, float64(r.Opt.Step)))
	}
	items := make([]quant.Item, len(ms))
	for i, m := range ms {
		items[i].Name = m.Name
		w := m.Param.W
		v := r.Opt.V[off[m.Param] : off[m.Param]+len(w)]
		dq, u := make([]float32, len(w)), make([]uint8, len(w))
		for _, wd := range quant.Widths() {
			wd.FakeQuant(dq, u, nil, w, m.Rows, m.Cols, *m.Slots[0].PerRow)
			var cost float64
			for j, x := range w {
				d := float64(x - dq[j])
				cost += float64(v[j]) * d * d
			}
			items[i].Options = append(items[i].Options, quant.Option{Width: wd, Bits: wd.StoredBits(m.Rows, m.Cols, *m.Slots[0].PerRow), Cost: 0.5 * corr * cost})
		}
	}
	return items, ms
}

// lossItems is BitsItems with the measured held-out loss increase.
func (r *Run) lossItems() ([]quant.Item, []model.QuantMatrix) {
	saved := model.Widths(r.Model)
	defer model.SetWidths(r.Model, saved) // measuring leaves the widths as they were
	ms := model.QuantMatrices(r.Model)
	set := func(m model.QuantMatrix, w quant.Width) {
		for _, s := range m.Slots {
			*s.Width = w
		}
	}
	for _, m := range ms {
		set(m, quant.Width8)
	}
	nv := (len(r.valid) - 1) / (r.Cfg.Batch * r.Cfg.Seq)
	loss := func() float64 { return r.evalFrom(nv-1, -1, bitsSensBatches) }
	l0 := loss()
	items := make([]quant.Item, len(ms))
	for i, m := range ms {
		items[i].Name = m.Name
		for _, w := range quant.Widths() {
			cost := 0.0
			if w != quant.Width8 {
				set(m, w)
				cost = max(0, loss()-l0)
				set(m, quant.Width8)
			}
			items[i].Options = append(items[i].Options, quant.Option{Width: w, Bits: w.StoredBits(m.Rows, m.Cols, *m.Slots[0].PerRow), Cost: cost})
		}
	}
	return items, ms
}

// BitsBudget converts bits per weight into total bits over ms, and rejects a budget that no choice
// of widths can meet.
func BitsBudget(perWeight float64, items []quant.Item, ms []model.QuantMatrix) (int64, error) {
	var n, least int64
	for i, m := range ms {
		n += int64(m.Rows) * int64(m.Cols)
		l := int64(math.MaxInt64)
		for _, o := range items[i].Options {
			l = min(l, o.Bits)
		}
		least += l
	}
	budget := int64(math.Floor(perWeight * float64(n)))
	if least > budget {
		return 0, fmt.Errorf("--bits-budget %g is below the smallest width: 1 bit takes %.4f bits/weight stored for this model (widths: %s)",
			perWeight, float64(least)/float64(n), quant.WidthNames)
	}
	return budget, nil
}

// Allocate chooses widths for items within budget bits by method (knapsack or cluster).
func Allocate(items []quant.Item, budget int64, method string) ([]int, error) {
	if method != "cluster" {
		return quant.Knapsack(items, budget)
	}
	// features: log sensitivity at each width below 8 bits, standardized per width
	feats := make([][]float64, len(items))
	for i, it := range items {
		for _, o := range it.Options {
			if o.Width != quant.Width8 {
				feats[i] = append(feats[i], math.Log10(o.Cost+1e-6))
			}
		}
	}
	standardize(feats)
	choice, _, err := quant.Cluster(items, feats, bitsClusters, budget)
	return choice, err
}

// bitsClusters is k, the number of precision groups of --bits-method cluster.
const bitsClusters = 3

func standardize(x [][]float64) {
	if len(x) == 0 {
		return
	}
	for j := range x[0] {
		var m, v float64
		for _, r := range x {
			m += r[j] / float64(len(x))
		}
		for _, r := range x {
			v += (r[j] - m) * (r[j] - m) / float64(len(x))
		}
		sd := math.Sqrt(v)
		for _, r := range x {
			r[j] = (r[j] - m) / max(sd, 1e-12)
		}
	}
}

// allocateWidths measures, allocates, applies the widths to the model (and its config) and logs them.
func (r *Run) allocateWidths() error {
	items, ms := r.BitsItems()
	budget, err := BitsBudget(r.Cfg.BitsBudget, items, ms)
	if err != nil {
		return err
	}
	choice, err := Allocate(items, budget, r.Cfg.BitsMethod)
	if err != nil {
		return err
	}
	bits := model.WidthMap{}
	count := map[quant.Width]int{}
	for i, m := range ms {
		w := items[i].Options[choice[i]].Width
		bits[m.Name] = w
		count[w]++
	}
	if err := model.SetWidths(r.Model, bits); err != nil {
		return err
	}
	var parts []string
	for _, w := range quant.Widths() {
		if count[w] > 0 {
			parts = append(parts, fmt.Sprintf("%d x %v", count[w], w))
		}
	}
	r.log.Printf("step %d: bit widths (%s, %s sensitivity, budget %g): %s matrices, %.4f bits/weight stored\n", r.Step, methodName(r.Cfg.BitsMethod), sensName(r.Cfg.BitsSensitivity),
		r.Cfg.BitsBudget, strings.Join(parts, ", "), model.StoredBitsPerWeight(r.Model))
	names := make([]string, 0, len(bits))
	for n := range bits {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r.log.Printf("  %-40s %v\n", n, bits[n])
	}
	return nil
}

func sensName(s string) string {
	if s == "" {
		return "fisher"
	}
	return s
}

func methodName(m string) string {
	if m == "" {
		return "knapsack"
	}
	return m
}
