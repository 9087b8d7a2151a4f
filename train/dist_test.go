package train

import (
	"context"
	"errors"
	"io"
	"math"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"tern/dist"
	"tern/model"
)

// TestDataParallelMatchesAccumulation: two ranks with one micro-batch each take the steps of one
// process with --accum 2: the same data and dropout masks (the first step's loss, computed before any
// update, is bit-identical), the same updates up to float32 rounding (a parameter that gets several
// contributions per micro-batch, such as an embedding row, sums them as (a+b)+(c+d) across ranks but
// ((a+b)+c)+d when accumulating), and bit-identical weights on the two ranks.
func TestDataParallelMatchesAccumulation(t *testing.T) {
	for _, tied := range []bool{false, true} {
		mutate := func(c *Config, m *model.Config) { m.TieEmbeddings, m.Dropout = tied, 0.1 }
		single, mc := tinyRun(t, t.TempDir(), 6, 0, func(c *Config, m *model.Config) { mutate(c, m); c.Accum = 2 })
		rs, err := NewRun(single, mc, false, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rs.Train(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := trainLosses(t, rs)

		comms := dist.NewGroup(2)
		runs := make([]*Run, 2)
		errs := make([]error, 2)
		dir := t.TempDir()
		var wg sync.WaitGroup
		for rank := range runs {
			cfg, mc := tinyRun(t, dir, 6, 0, mutate)
			if runs[rank], err = NewDataParallelRun(cfg, mc, false, io.Discard, comms[rank]); err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[rank] = runs[rank].Train(context.Background())
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got := trainLosses(t, runs[0])
		if len(got) != len(want) {
			t.Fatalf("tied=%v: %d logged steps, want %d", tied, len(got), len(want))
		}
		for s, l := range want {
			if d := math.Abs(got[s] - l); (s == 1 && d != 0) || d > 1e-6*l {
				t.Errorf("tied=%v step %d: data-parallel loss %.9g, accumulated %.9g", tied, s, got[s], l)
			}
		}
		worst := 0.0
		for i, p := range rs.params {
			for j := range p.W {
				a, b, c := p.W[j], runs[0].params[i].W[j], runs[1].params[i].W[j]
				if b != c {
					t.Fatalf("tied=%v: ranks disagree on %s[%d]: %v vs %v", tied, p.Name, j, b, c)
				}
				worst = max(worst, math.Abs(float64(a-b)))
			}
		}
		if worst > 1e-6 {
			t.Errorf("tied=%v: weights differ from the accumulated run by up to %g", tied, worst)
		}
	}
}

// TestDataParallelStopTogether: an interrupt seen by one rank stops every rank at the same step, and
// rank 0 saves the checkpoint.
func TestDataParallelStopTogether(t *testing.T) {
	comms := dist.NewGroup(2)
	dir := t.TempDir()
	errs := make([]error, 2)
	steps := make([]int, 2)
	var wg sync.WaitGroup
	for rank := range 2 {
		cfg, mc := tinyRun(t, dir, 100000, 0, nil)
		r, err := NewDataParallelRun(cfg, mc, false, io.Discard, comms[rank])
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if rank == 1 {
			time.AfterFunc(30*time.Millisecond, cancel) // rank 1's user presses Ctrl-C mid-run
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[rank] = r.Train(ctx)
			steps[rank] = r.Step
		}()
	}
	wg.Wait()
	for rank, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("rank %d: %v, want context.Canceled", rank, err)
		}
	}
	if steps[0] != steps[1] || steps[0] >= 100000 {
		t.Errorf("ranks stopped at steps %v", steps)
	}
	st, err := readCheckpoint(filepath.Join(dir, CheckpointName))
	if err != nil || st.Step != steps[0] {
		t.Errorf("checkpoint: %v, step %v, want %d", err, st, steps[0])
	}
}
