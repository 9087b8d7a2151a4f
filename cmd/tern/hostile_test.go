package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileCLI reproduces the bad inputs at the command line: each fails with one line
// naming the flag, key or file, a non-zero exit, and no stack trace.
func TestHostileCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	bin := buildTern(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	upper := write("upper.json", `{"model": {"hidden": 64, "HIDDEN": 4096}}`)
	second := write("second.json", `{"model": {"hidden": 64}} {"model": {"hidden": 4096}}`)
	trainUpper := write("train-upper.json", `{"train": {"Steps": 5}}`)
	empty := write("empty.txt", "")
	out := filepath.Join(dir, "run")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"train", "--dropout", "NaN", "--out", out}, "dropout"},
		{[]string{"train", "--mask-prob", "NaN", "--out", out}, "mask_prob"},
		{[]string{"train", "--jitter", "2", "--out", out}, "jitter must be in [0, 1)"},
		{[]string{"train", "--min-lr", "-0.001", "--out", out}, "min_lr"},
		{[]string{"train", "--min-lr", "0.1", "--lr", "0.01", "--out", out}, "min_lr 0.1 is above lr 0.01"},
		{[]string{"train", "--batch", "268435456", "--out", out}, "more than the"},
		{[]string{"train", "--config", upper, "--out", out}, `"HIDDEN": keys are case-sensitive`},
		{[]string{"train", "--config", second, "--out", out}, "data after the JSON value"},
		{[]string{"train", "--config", trainUpper, "--out", out}, `"Steps"`},
		{[]string{"train", "--data", "/dev/zero", "--out", out}, "/dev/zero"},
		{[]string{"generate", "--model", "m", "--temperature", "-1"}, "--temperature -1"},
		{[]string{"generate", "--model", "m", "--temperature", "NaN"}, "--temperature NaN"},
		{[]string{"generate", "--model", "m", "--top-p", "2"}, "--top-p 2"},
		{[]string{"generate", "--model", "m", "--top-k", "-1"}, "--top-k -1"},
		{[]string{"generate", "--model", "m", "--max-tokens", "0"}, "--max-tokens 0"},
		{[]string{"info", "/dev/zero"}, "not a regular file"},
		{[]string{"info", dir}, "not a regular file"},
		{[]string{"eval", "lm", "--preset", "tiny", "--data", empty}, "no tokens to score"},
		{[]string{"eval", "lm", "--preset", "tiny", "--data", "/dev/zero", "--max-tokens", "100000000"}, "line longer"},
	}
	for _, c := range cases {
		out, err := exec.Command(bin, c.args...).CombinedOutput()
		if err == nil {
			t.Errorf("%v: exit 0, want failure", c.args)
		}
		s := string(out)
		if !strings.Contains(s, c.want) || strings.Contains(s, "goroutine") || strings.Contains(s, "panic") {
			t.Errorf("%v: output %q, want it to mention %q without a panic", c.args, s, c.want)
		}
	}
	t.Run("data loss", func(t *testing.T) { testDataLoss(t, bin) })
}

// testDataLoss reproduces the lost work: `pack --out` onto its input replaced the fp32 model,
// `train --out` into an earlier run's folder replaced its model and metrics, stale temporary files of
// killed saves stayed forever, and --resume failed unless --out was spelled as the first time.
func testDataLoss(t *testing.T, bin string) {
	run := func(args ...string) (string, error) {
		out, err := exec.Command(bin, args...).CombinedOutput()
		return string(out), err
	}
	base := t.TempDir()
	dir := filepath.Join(base, "rr")
	args := []string{"train", "--preset", "tiny", "--hidden", "32", "--layers", "1", "--heads", "2", "--ffn", "64",
		"--steps", "4", "--batch", "2", "--seq", "16", "--eval-every", "0", "--ckpt-every", "2", "--threads", "1"}
	if out, err := run(append(args, "--out", dir)...); err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	modelPath := filepath.Join(dir, "model.safetensors")
	before, _ := os.ReadFile(modelPath)
	for _, spelled := range []string{modelPath, filepath.Join(dir, ".", "model.safetensors")} {
		if out, err := run("pack", "--model", modelPath, "--out", spelled); err == nil || !strings.Contains(out, "is the input model") {
			t.Errorf("pack onto its input (%s): %v %s", spelled, err, out)
		}
	}
	if after, _ := os.ReadFile(modelPath); string(after) != string(before) {
		t.Fatalf("pack changed its input")
	}
	// A new run into the folder: refused (checkpoint), and refused for a folder with only a model
	// or only metrics, unless --force.
	if out, err := run(append(args, "--out", dir)...); err == nil || !strings.Contains(out, "--force") {
		t.Errorf("second run into %s: %v %s", dir, err, out)
	}
	other := filepath.Join(base, "other")
	os.MkdirAll(other, 0o755)
	os.WriteFile(filepath.Join(other, "metrics.jsonl"), []byte(`{"step":1,"split":"train","loss":1}`+"\n"), 0o644)
	if out, err := run(append(args, "--out", other)...); err == nil || !strings.Contains(out, "metrics.jsonl") {
		t.Errorf("run into a folder with metrics.jsonl: %v %s", err, out)
	}
	if out, err := run(append(args, "--out", other, "--force")...); err != nil {
		t.Errorf("--force: %v %s", err, out)
	}
	// A killed save's temporary file is removed when the run resumes, from a moved folder named
	// another way.
	stale := filepath.Join(dir, ".checkpoint.safetensors.tern-tmp-123")
	os.WriteFile(stale, make([]byte, 1000), 0o600)
	moved := filepath.Join(base, "moved")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	rel, _ := filepath.Rel(wd, moved)
	resume := append(append([]string{}, args...), "--steps", "6", "--resume")
	for _, spelled := range []string{moved + "/", "./" + rel} {
		resume = append(resume[:len(resume):len(resume)], "--out", spelled)
		if out, err := run(resume...); err != nil {
			t.Errorf("resume with --out %s: %v\n%s", spelled, err, out)
		}
		resume = resume[:len(resume)-2]
		resume[len(resume)-2] = "8" // a further resume needs more steps
	}
	if _, err := os.Stat(filepath.Join(moved, ".checkpoint.safetensors.tern-tmp-123")); !os.IsNotExist(err) {
		t.Errorf("stale temporary file still there: %v", err)
	}
}
