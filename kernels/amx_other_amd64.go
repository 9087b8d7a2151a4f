//go:build !purego && !linux

package kernels

import "errors"

// amxRequest: only Linux's permission protocol is implemented.
func amxRequest() error {
	return errors.New("AMX is only enabled on Linux (arch_prctl ARCH_REQ_XCOMP_PERM)")
}
