package train

import "tern/nn"

// crossEntropy computes the softmax cross-entropy of logits (N, V) against targets (N) (-1 = ignored)
// and overwrites logits with dloss/dlogits * scale, where the loss is the mean over scored targets
// (scale folds in 1/accum). It returns the summed loss in nats and the number of scored targets; the
// sum runs in row order, so it does not depend on the thread count.
func crossEntropy(logits []float32, targets []int32, rowLoss []float32, n, v int, scale float32) (float64, int) {
	return nn.CrossEntropyFused(rowLoss, logits, targets, n, v, scale)
}
