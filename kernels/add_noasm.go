//go:build !amd64 || purego

package kernels

// addFast: without assembly AddInPlace's loop does every value.
func addFast(x, y []float32) int { return 0 }
