package train

import (
	"math"

	"tern/kernels"
)

// crossEntropy computes the mean softmax cross-entropy of logits (N, V) against targets (N) (-1 =
// ignored) and overwrites logits with dloss/dlogits * scale (scale folds in 1/accum). Returns the
// summed loss in nats and the number of scored targets. Per-row losses are summed in row order, so the
// result does not depend on the thread count.
func crossEntropy(logits []float32, targets []int32, rowLoss []float64, n, v int, scale float32) (float64, int) {
	count := 0
	for _, t := range targets[:n] {
		if t >= 0 {
			count++
		}
	}
	if count == 0 {
		clear(logits[:n*v])
		return 0, 0
	}
	inv := scale / float32(count)
	kernels.ParallelFor(n, 8, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := logits[i*v : (i+1)*v]
			tgt := targets[i]
			if tgt < 0 {
				rowLoss[i] = 0
				clear(row)
				continue
			}
			mx := row[0]
			for _, x := range row {
				mx = max(mx, x)
			}
			xt := float64(row[tgt] - mx)
			var sum float64
			for j, x := range row {
				e := float32(math.Exp(float64(x - mx)))
				row[j] = e
				sum += float64(e)
			}
			rowLoss[i] = math.Log(sum) - xt
			is := float32(1 / sum)
			for j := range row {
				row[j] *= is * inv
			}
			row[tgt] -= inv
		}
	})
	var total float64
	for i := 0; i < n; i++ {
		total += rowLoss[i]
	}
	return total, count
}
