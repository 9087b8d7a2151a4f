//go:build !amd64 || purego

package kernels

func gemvRows(y []int32, w []byte, n, k int, x *GemvVec) { gemvRowsGeneric(y, w, n, k, x) }

func gemvPath() string { return "generic" }

func gemvPlanes(v *GemvVec, full int) int64 { return gemvPlanesGeneric(v, full) }

func gemvPortable() bool { return true }

func gemvBatchAsm() bool { return false }

func gemvBatchRows(acc []int32, w []byte, n, k int, x *GemvBatch) {
	gemvBatchRowsGeneric(acc, w, n, k, x)
}

func toF16Fast(dst []uint16, src []float32) int { return 0 }
