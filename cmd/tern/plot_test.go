package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tern plot --pareto draws a PNG from the points file and refuses malformed lines with their line number.
func TestPlotPareto(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "p.jsonl"), filepath.Join(dir, "p.png")
	good := `{"name":"fp32","seed":1,"ppl":11.5}
{"name":"uniform-2","seed":1,"bits":2.0007,"ppl":12.2}
{"name":"uniform-2","seed":2,"bits":2.0007,"ppl":12.0}
{"name":"uniform-4","seed":1,"bits":4.0007,"ppl":11.7}
{"name":"knapsack-2.0","seed":1,"bits":1.998,"ppl":11.8}
`
	if err := os.WriteFile(in, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runPlot(context.Background(), []string{"--pareto", in, "--out", out}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(out); err != nil || !strings.HasPrefix(string(b), "\x89PNG") {
		t.Fatalf("no PNG written: %v", err)
	}
	for _, c := range []struct{ body, want string }{
		{`{"name":"uniform-2","seed":1,"ppl":12.2}`, "p.jsonl:1: want name, seed, bits"},
		{"\n" + `{"name":"uniform-2","seed":1,"bits":2,"ppl":-1}`, "p.jsonl:2: bits and ppl must be positive"},
		{`{"name":"uniform-2","seed":1,"bits":2,"ppl":12,"x":1}`, `unknown field "x"`},
		{"", "no points"},
	} {
		if err := os.WriteFile(in, []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		err := runPlot(context.Background(), []string{"--pareto", in, "--out", out})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.body, err, c.want)
		}
	}
	if err := runPlot(context.Background(), []string{"--pareto", in, "runs/x"}); err == nil || !strings.Contains(err.Error(), "no run directories") {
		t.Errorf("--pareto with a run directory: %v", err)
	}
}
