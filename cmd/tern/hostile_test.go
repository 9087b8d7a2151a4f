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
}
