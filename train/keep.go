package train

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"tern/format"
)

// Checkpoint retention (--keep K): every checkpoint is also kept as ckpts/step-NNNNNNNN.safetensors
// (a hard link to the file just written, or a copy where links fail); after each save only the last
// K of them and the best by validation loss stay. best.json names the best (step, validation loss);
// a checkpoint counts for "best" when a validation ran at its step. The best so far is part of the
// checkpoint (tern.best), so a resumed run keeps comparing against it.

const metaBest = "tern.best"

type bestCheckpoint struct {
	Step int     `json:"step"`
	Loss float64 `json:"val_loss"`
	File string  `json:"file"`
}

func stepFile(step int) string { return fmt.Sprintf("step-%08d.safetensors", step) }

// noteBest updates the best checkpoint with this step's validation, before the checkpoint is written.
func (r *Run) noteBest() {
	if r.Cfg.Keep <= 0 || r.lastVal.step != r.Step || r.lastVal.loss != r.lastVal.loss { // NaN never wins
		return
	}
	if r.best.Step == 0 || r.lastVal.loss < r.best.Loss {
		r.best = bestCheckpoint{Step: r.Step, Loss: r.lastVal.loss, File: filepath.Join("ckpts", stepFile(r.Step))}
	}
}

// retain files the checkpoint just written under ckpts/ and prunes all but the last Keep and the best.
func (r *Run) retain() error {
	if r.Cfg.Keep <= 0 {
		return nil
	}
	dir := filepath.Join(r.Cfg.Out, "ckpts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("keep: %w", err)
	}
	dst := filepath.Join(dir, stepFile(r.Step))
	os.Remove(dst)
	if err := os.Link(r.path(CheckpointName), dst); err != nil {
		if err := copyFile(r.path(CheckpointName), dst); err != nil {
			return fmt.Errorf("keep: %w", err)
		}
	}
	if r.best.Step > 0 {
		b, _ := json.MarshalIndent(r.best, "", "  ")
		if err := format.WriteFileAtomic(r.path("best.json"), append(b, '\n')); err != nil {
			return fmt.Errorf("keep: %w", err)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("keep: %w", err)
	}
	var steps []int
	for _, e := range ents {
		name := e.Name()
		if s, ok := strings.CutPrefix(name, "step-"); ok {
			if n, err := strconv.Atoi(strings.TrimSuffix(s, ".safetensors")); err == nil && strings.HasSuffix(s, ".safetensors") {
				steps = append(steps, n)
			}
		}
	}
	slices.Sort(steps)
	for i, s := range steps {
		if i < len(steps)-r.Cfg.Keep && s != r.best.Step {
			if err := os.Remove(filepath.Join(dir, stepFile(s))); err != nil {
				return fmt.Errorf("keep: %w", err)
			}
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return format.WriteAtomic(dst, func(w io.Writer) error { _, err := io.Copy(w, in); return err })
}
