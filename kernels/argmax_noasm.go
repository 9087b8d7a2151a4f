//go:build !amd64 || purego

package kernels

import "math"

func maxNotNaN(x []float32) (float32, int)  { return float32(math.Inf(-1)), 0 }
func firstEqual(x []float32, v float32) int { return firstEqualGeneric(x, v) }
