//go:build !purego

package kernels

import (
	"fmt"
	"syscall"
)

// amxRequest asks Linux for permission to use the AMX tile data (XFEATURE_XTILEDATA = 18) in this
// process: arch_prctl(ARCH_REQ_XCOMP_PERM = 0x1023, 18). Without it the first tile instruction
// would kill the process with SIGILL.
func amxRequest() error {
	const archReqXcompPerm, xfeatureXtiledata = 0x1023, 18
	if _, _, e := syscall.RawSyscall(syscall.SYS_ARCH_PRCTL, archReqXcompPerm, xfeatureXtiledata, 0); e != 0 {
		return fmt.Errorf("Linux refused the AMX tile data (arch_prctl ARCH_REQ_XCOMP_PERM: %v)", e)
	}
	return nil
}
