// Package dist is data-parallel training's communication: a group of processes (ranks), each with a
// full copy of the model, that sum their gradients after every step.
//
// The collective engine is MPI (Open MPI, MPICH, or a cluster's own), reached through cgo when tern is
// built with -tags mpi; jobs start the way MPI jobs do, e.g. `mpirun -np 4 tern train --dist mpi ...`,
// or srun under SLURM. Without the tag, tern is pure Go and Open("mpi") explains how to get it. An
// in-process group (NewGroup) runs the same protocol over goroutines, for tests and for checking
// that data-parallel training gives the single-process result.
package dist

import (
	"fmt"
	"sync"
)

// Comm is one rank's view of its group. Every rank must make the same calls in the same order, with
// buffers of the same length; a call returns once every rank has made it.
type Comm interface {
	Rank() int // this process, 0 ≤ Rank < Size; rank 0 writes logs and checkpoints
	Size() int
	// AllreduceSum replaces buf on every rank with the elementwise sum over ranks. For a given group
	// size and engine the result is the same on every rank and in every run.
	AllreduceSum(buf []float32) error
	AllreduceSum64(buf []float64) error
	Close() error
}

// Open returns the communicator for kind: "" or "none" is a group of one (this process alone), "mpi"
// the MPI world (tern built with -tags mpi and launched by mpirun or srun).
func Open(kind string) (Comm, error) {
	switch kind {
	case "", "none":
		return Single(), nil
	case "mpi":
		return openMPI()
	}
	return nil, fmt.Errorf("dist: unknown engine %q (want none or mpi)", kind)
}

// Single is a group of one: every collective is a no-op.
func Single() Comm { return single{} }

type single struct{}

func (single) Rank() int                      { return 0 }
func (single) Size() int                      { return 1 }
func (single) AllreduceSum([]float32) error   { return nil }
func (single) AllreduceSum64([]float64) error { return nil }
func (single) Close() error                   { return nil }

// NewGroup returns n communicators that talk through shared memory, one per goroutine. Sums are
// taken in rank order (rank 0's value + rank 1's + ...), so results are deterministic.
func NewGroup(n int) []Comm {
	if n < 1 {
		panic(fmt.Sprintf("dist: NewGroup(%d)", n))
	}
	g := &group{n: n, in32: make([][]float32, n), in64: make([][]float64, n)}
	g.cond = sync.NewCond(&g.mu)
	cs := make([]Comm, n)
	for i := range cs {
		cs[i] = &member{g: g, rank: i}
	}
	return cs
}

// group is a reusable barrier with a reduction: ranks post their buffers; the last to arrive sums
// them in rank order into a shared result, then everyone copies it out and leaves; a second barrier
// keeps a fast rank from posting the next call's buffer before the others have copied.
type group struct {
	mu      sync.Mutex
	cond    *sync.Cond
	n       int
	arrived int
	left    int
	gen     uint64
	in32    [][]float32
	in64    [][]float64
	out32   []float32
	out64   []float64
	err     error
	closed  bool
}

type member struct {
	g    *group
	rank int
}

func (m *member) Rank() int { return m.rank }
func (m *member) Size() int { return m.g.n }

func (m *member) Close() error {
	g := m.g
	g.mu.Lock()
	g.closed = true
	g.cond.Broadcast()
	g.mu.Unlock()
	return nil
}

func (m *member) AllreduceSum(buf []float32) error {
	return m.g.reduce(m.rank, func(g *group) { g.in32[m.rank] = buf }, func(g *group) (err error) {
		g.out32, err = sumRanks(g.out32, g.in32, "AllreduceSum")
		return err
	}, func(g *group) { copy(buf, g.out32) })
}

func (m *member) AllreduceSum64(buf []float64) error {
	return m.g.reduce(m.rank, func(g *group) { g.in64[m.rank] = buf }, func(g *group) (err error) {
		g.out64, err = sumRanks(g.out64, g.in64, "AllreduceSum64")
		return err
	}, func(g *group) { copy(buf, g.out64) })
}

// sumRanks returns the elementwise sum of the ranks' buffers in rank order, reusing out's storage.
func sumRanks[T float32 | float64](out []T, in [][]T, what string) ([]T, error) {
	n := len(in[0])
	for r, b := range in {
		if len(b) != n {
			return out, fmt.Errorf("dist: %s: rank %d has %d values, rank 0 has %d", what, r, len(b), n)
		}
	}
	out = append(out[:0], in[0]...)
	for _, b := range in[1:] {
		for i, v := range b {
			out[i] += v
		}
	}
	return out, nil
}

// reduce runs one collective: post, the last arrival combines, all copy out, all leave.
func (g *group) reduce(rank int, post func(*group), combine func(*group) error, collect func(*group)) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return fmt.Errorf("dist: group closed")
	}
	gen := g.gen
	post(g)
	g.arrived++
	if g.arrived == g.n {
		g.err = combine(g)
		g.arrived, g.left = 0, 0
		g.gen++
		g.cond.Broadcast()
	} else {
		for g.gen == gen && !g.closed {
			g.cond.Wait()
		}
		if g.gen == gen {
			return fmt.Errorf("dist: group closed")
		}
	}
	err := g.err
	if err == nil {
		collect(g)
	}
	// Leave only when everyone has copied the result, so that the next call cannot overwrite it.
	g.left++
	if g.left == g.n {
		g.cond.Broadcast()
	} else {
		for g.left < g.n && g.gen == gen+1 && !g.closed {
			g.cond.Wait()
		}
	}
	return err
}
