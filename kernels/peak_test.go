package kernels

import (
	"testing"
	"time"
)

// TestPeakGFLOPS: the peak loops run where the implementation has the instruction and report a
// positive rate; elsewhere (and for an unknown type) a clear error instead of a number.
func TestPeakGFLOPS(t *testing.T) {
	for _, name := range Impls() {
		restore, err := Use(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, dt := range []string{"f32", "bf16", "int8", "int4"} {
			p, err := PeakGFLOPS(dt, 2, 10*time.Millisecond)
			has := (dt == "f32" && hasAVX512) || (dt == "bf16" && hasBF16) || (dt == "int8" && hasVNNI)
			if has && (err != nil || !(p.GFLOPS > 0) || !(p.PerCPU > 0)) {
				t.Errorf("%s %s: %+v, %v", name, dt, p, err)
			}
			if !has && err == nil {
				t.Errorf("%s %s: no error without the instruction", name, dt)
			}
		}
		restore()
	}
}
