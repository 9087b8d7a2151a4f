//go:build !amd64 || purego

package kernels

func absMax(x []float32) float32                    { return absMaxGeneric(x) }
func quantRowInt8(q []int8, x []float32, g float32) { quantRowInt8Generic(q, x, g) }
func absSum(w []float32) float64                    { return absSumGeneric(w) }
func quantTernary(t []int8, w []float32, inv float32) {
	quantTernaryGeneric(t, w, inv)
}
