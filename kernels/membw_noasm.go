//go:build !amd64 || purego

package kernels

func readSum(b []byte) uint64 { return readSumGeneric(b) }

// spinPause is the pool's polling pause: nothing to do without the PAUSE instruction.
func spinPause() {}
