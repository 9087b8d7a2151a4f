package dist

import (
	"strings"
	"sync"
	"testing"
)

// TestGroupAllreduce: every rank gets the rank-ordered sum, call after call, with buffers of several
// sizes, and a length mismatch is an error on every rank, not a hang.
func TestGroupAllreduce(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5} {
		cs := NewGroup(n)
		var wg sync.WaitGroup
		errs := make([]string, n)
		for r, c := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for call := range 50 {
					m := 1 + call%7
					b := make([]float32, m)
					d := make([]float64, m)
					for i := range b {
						b[i] = float32(r*100 + i + call)
						d[i] = float64(r) + 0.5
					}
					if err := c.AllreduceSum(b); err != nil {
						errs[r] = err.Error()
						return
					}
					if err := c.AllreduceSum64(d); err != nil {
						errs[r] = err.Error()
						return
					}
					for i := range b {
						want := float32(0)
						for q := range n {
							want += float32(q*100 + i + call)
						}
						if b[i] != want || d[i] != float64(n*(n-1))/2+0.5*float64(n) {
							errs[r] = "wrong sum"
							return
						}
					}
				}
				// mismatched lengths: rank 0 sends one value more
				b := make([]float32, 3+min(r, 1))
				if err := c.AllreduceSum(b); n > 1 && (err == nil || !strings.Contains(err.Error(), "values")) {
					errs[r] = "mismatch not reported"
				}
			}()
		}
		wg.Wait()
		for r, e := range errs {
			if e != "" {
				t.Errorf("n=%d rank %d: %s", n, r, e)
			}
		}
	}
}

func TestOpen(t *testing.T) {
	c, err := Open("")
	if err != nil || c.Rank() != 0 || c.Size() != 1 || c.AllreduceSum([]float32{1}) != nil {
		t.Errorf("Open(\"\"): %v %v", c, err)
	}
	if _, err := Open("nccl"); err == nil || !strings.Contains(err.Error(), "unknown engine") {
		t.Errorf("Open(nccl): %v", err)
	}
	if !MPIBuilt {
		if _, err := Open("mpi"); err == nil || !strings.Contains(err.Error(), "-tags mpi") {
			t.Errorf("Open(mpi) without MPI: %v", err)
		}
	}
}
