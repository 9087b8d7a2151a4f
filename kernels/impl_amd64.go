//go:build !purego

package kernels

// asmBuilt: this build has the amd64 assembly kernels.
const asmBuilt = true
