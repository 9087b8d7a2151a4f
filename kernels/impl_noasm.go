//go:build !amd64 || purego

package kernels

// asmBuilt: this build has no assembly kernels; Impls() is just "go".
const asmBuilt = false
