//go:build !amd64 || purego

package kernels

func gemvRows(y []int32, w []byte, n, k int, x *GemvVec) { gemvRowsGeneric(y, w, n, k, x) }

func gemvPath() string { return "generic" }

func gemvAbsMax(x []float32) float32 { return gemvAbsMaxGeneric(x) }

func gemvQuant(q []int8, x []float32, g float32) { gemvQuantGeneric(q, x, g) }

func gemvPlanes(v *GemvVec, full int) int64 { return gemvPlanesGeneric(v, full) }

func gemvPortable() bool { return true }
