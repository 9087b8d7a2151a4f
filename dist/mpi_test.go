//go:build mpi && cgo

package dist

import "testing"

// TestMPIAllreduce runs under mpirun (scripts/test-mpi.sh starts it with 2 ranks; alone it is a
// group of one): every rank gets the sum of every rank's values, for float32 and float64 buffers,
// including one longer than a single message.
func TestMPIAllreduce(t *testing.T) {
	c, err := Open("mpi")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close() // MPI_Finalize, on the thread that initialized: no MPI test may follow this one
	n, r := c.Size(), c.Rank()
	t.Logf("rank %d of %d", r, n)
	b := make([]float32, 1<<20+3)
	d := make([]float64, 5)
	for i := range b {
		b[i] = float32(r + i%7)
	}
	for i := range d {
		d[i] = float64(r) * 0.5
	}
	if err := c.AllreduceSum(b); err != nil {
		t.Fatal(err)
	}
	if err := c.AllreduceSum64(d); err != nil {
		t.Fatal(err)
	}
	for i, v := range b {
		if want := float32(n*(n-1)/2 + n*(i%7)); v != want {
			t.Fatalf("rank %d: b[%d] = %v, want %v", r, i, v, want)
		}
	}
	for i, v := range d {
		if want := float64(n*(n-1)) / 4; v != want {
			t.Fatalf("rank %d: d[%d] = %v, want %v", r, i, v, want)
		}
	}
}
