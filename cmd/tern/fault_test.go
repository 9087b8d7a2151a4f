package main

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tern/format"
	"tern/train"
)

// TestKillAnywhere is the fault test: a run is killed with SIGKILL at random moments (during steps,
// checkpoint saves, metrics writes), resumed each time, again and again; after every kill whatever
// checkpoint exists must read back whole, and in the end the run's losses must equal an uninterrupted
// run's bit for bit, with no temporary file left behind. About 15 kills, under ~30 s on 2 cores.
func TestKillAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI and runs it many times")
	}
	bin := buildTern(t)
	const steps = 240
	args := []string{"train", "--preset", "tiny", "--hidden", "32", "--layers", "2", "--heads", "2", "--ffn", "64",
		"--steps", "240", "--batch", "4", "--seq", "32", "--ckpt-every", "3", "--eval-every", "50", "--eval-batches", "1", "--threads", "1"}
	full, killed := t.TempDir(), t.TempDir()
	start := time.Now()
	if out, err := exec.Command(bin, append(args, "--out", full)...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	// Kill within the first sixth of an uninterrupted run's time (start-up included), so that a fast
	// machine still needs many runs to finish and a slow one still makes progress between kills.
	window := max(time.Since(start)/6, 60*time.Millisecond)
	rng := rand.New(rand.NewPCG(11, 11))
	deadline := time.Now().Add(25 * time.Second)
	kills, finished := 0, false
	for kills < 40 && time.Now().Before(deadline) {
		a := append(append([]string{}, args...), "--out", killed)
		if _, err := os.Stat(filepath.Join(killed, train.CheckpointName)); err == nil {
			a = append(a, "--resume")
		} else {
			a = append(a, "--force") // a kill before the first checkpoint leaves metrics to replace
		}
		cmd := exec.Command(bin, a...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run ended with %v before the kill", err)
			}
			finished = true
		case <-time.After(30*time.Millisecond + time.Duration(rng.Int64N(int64(window)))):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
		}
		if finished {
			break
		}
		if _, err := os.Stat(filepath.Join(killed, train.CheckpointName)); err == nil {
			if _, err := format.Read(filepath.Join(killed, train.CheckpointName)); err != nil {
				t.Fatalf("after kill %d the checkpoint is unreadable: %v", kills, err)
			}
		}
	}
	if kills < 5 {
		t.Fatalf("only %d kills landed in kill windows of %v", kills, window)
	}
	if !finished { // run to the end
		// On a loaded machine every kill may have landed before the first checkpoint: then start over.
		last := "--force"
		if _, err := os.Stat(filepath.Join(killed, train.CheckpointName)); err == nil {
			last = "--resume"
		}
		out, err := exec.Command(bin, append(append([]string{}, args...), "--out", killed, last)...).CombinedOutput()
		if err != nil && !strings.Contains(string(out), "beyond --steps") {
			t.Fatalf("final resume: %v\n%s", err, out)
		}
	}
	want := trainLossesFile(t, filepath.Join(full, "metrics.jsonl"))
	got := trainLossesFile(t, filepath.Join(killed, "metrics.jsonl"))
	for s := 1; s <= steps; s++ {
		if got[s] != want[s] {
			t.Fatalf("step %d: loss %v after %d kills, %v uninterrupted", s, got[s], kills, want[s])
		}
	}
	left, _ := filepath.Glob(filepath.Join(killed, ".*tern-tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	t.Logf("%d kills, resumed each time: all %d losses bit-identical, no temporary file left", kills, steps)
}
