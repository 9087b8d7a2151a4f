package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildTern compiles the CLI once per test binary.
func buildTern(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tern")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func trainLossesFile(t *testing.T, path string) map[int]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[int]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m struct {
			Step  int     `json:"step"`
			Split string  `json:"split"`
			Loss  float64 `json:"loss"`
		}
		if json.Unmarshal(sc.Bytes(), &m) == nil && m.Split == "train" {
			out[m.Step] = m.Loss
		}
	}
	return out
}

// TestKill9Resume kills a training process with SIGKILL mid-run, resumes it, and checks that every
// loss after the resume equals the uninterrupted run's, bit for bit (JSON round-trips float64 exactly),
// in fp32 and in bf16 (--precision bf16).
func TestKill9Resume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	bin := buildTern(t)
	for _, precision := range []string{"fp32", "bf16"} {
		t.Run(precision, func(t *testing.T) { testKill9Resume(t, bin, precision) })
	}
}

func testKill9Resume(t *testing.T, bin, precision string) {
	args := []string{"train", "--precision", precision, "--preset", "tiny", "--hidden", "64", "--layers", "2", "--heads", "2", "--ffn", "128",
		"--steps", "120", "--batch", "8", "--seq", "64", "--ckpt-every", "10", "--eval-every", "40", "--eval-batches", "2", "--threads", "2"}
	full, killed := t.TempDir(), t.TempDir()
	if out, err := exec.Command(bin, append(args, "--out", full)...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, append(args, "--out", killed)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if len(trainLossesFileQuiet(filepath.Join(killed, "metrics.jsonl"))) >= 25 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	n := len(trainLossesFileQuiet(filepath.Join(killed, "metrics.jsonl")))
	if n >= 120 {
		t.Log("the run finished before the kill; resume is still checked")
	}
	out, err := exec.Command(bin, append(args, "--out", killed, "--resume")...).CombinedOutput()
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	if n < 120 && !strings.Contains(string(out), "resuming") {
		t.Errorf("resume output does not say it resumed:\n%s", out)
	}
	want := trainLossesFile(t, filepath.Join(full, "metrics.jsonl"))
	got := trainLossesFile(t, filepath.Join(killed, "metrics.jsonl"))
	for s := 1; s <= 120; s++ {
		if got[s] != want[s] {
			t.Fatalf("step %d: loss %v after kill+resume, %v uninterrupted", s, got[s], want[s])
		}
	}
}

func trainLossesFileQuiet(path string) map[int]float64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	out := map[int]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		var m struct {
			Step  int    `json:"step"`
			Split string `json:"split"`
		}
		if json.Unmarshal([]byte(line), &m) == nil && m.Split == "train" {
			out[m.Step] = 0
		}
	}
	return out
}

// TestCLIErrors: bad input gets one clear line and a non-zero exit, never a stack trace.
func TestCLIErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	bin := buildTern(t)
	dir := t.TempDir()
	bitsMap := filepath.Join(dir, "bits.json")
	if err := os.WriteFile(bitsMap, []byte(`{"blocks.0.ffn.fc.weight": 4, "blocks.9.ffn.fc.weight": 2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	precisionCfg := filepath.Join(dir, "fp16.json")
	if err := os.WriteFile(precisionCfg, []byte(`{"train": {"precision": "fp16"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"train", "--precision", "fp16", "--out", dir}, "accepted values are fp32 and bf16"},
		{[]string{"train", "--config", precisionCfg, "--out", dir}, `precision (--precision): unknown precision "fp16"`},
		{[]string{"bench", "train", "--precision", "half"}, "accepted values are fp32 and bf16"},
		{[]string{"bench", "gemm", "--dtype", "fp16"}, "want f32 or bf16"},
		{[]string{"train", "--bogus"}, "flag provided but not defined"},
		{[]string{"train", "--data", filepath.Join(dir, "missing.txt"), "--out", dir}, "missing.txt"},
		{[]string{"train", "--heads", "3", "--out", dir}, "heads (3) must divide hidden"},
		{[]string{"train", "--seq", "512", "--out", dir}, "longer than the model's max_pos"},
		{[]string{"train", "--type", "mamba", "--out", dir}, "unknown model type"},
		{[]string{"train", "--arch", "gpt", "--out", dir}, `--arch "gpt": want llama or bitnet`},
		{[]string{"train", "--arch", "bitnet", "--kv-heads", "3", "--out", dir}, "kv_heads 3 must divide heads 4"},
		{[]string{"train", "--arch", "llama", "--ffn-act", "gelu", "--out", dir}, `unknown ffn_act "gelu"`},
		{[]string{"train", "--kv-heads", "2", "--out", dir}, "are for llama and bitnet models"},
		{[]string{"train", "--resume", "--out", dir}, "resume"},
		{[]string{"generate", "--model", filepath.Join(dir, "none.safetensors")}, "none.safetensors"},
		{[]string{"bench", "nosuch"}, "unknown benchmark"},
		{[]string{"serve"}, "--model is required"},
		{[]string{"serve", "--model", filepath.Join(dir, "none.tern")}, "none.tern"},
		{[]string{"pack", "--model", filepath.Join(dir, "none.safetensors"), "--out", filepath.Join(dir, "x.tern"), "--table", "int4"}, "--table must be"},
		{[]string{"train", "--bits", "5", "--out", dir}, "allowed: 1, 1.58, 2, 3, 4, 8"},
		{[]string{"train", "--bits", "auto", "--out", dir}, "--bits auto needs --bits-budget"},
		{[]string{"train", "--bits-budget", "2", "--out", dir}, "--bits-budget 2 is for --bits auto"},
		{[]string{"train", "--bits", "4", "--linear", "fp32", "--out", dir}, "need linear bitnet"},
		{[]string{"train", "--bits", "auto", "--bits-budget", "2", "--bits-method", "greedy", "--out", dir}, "unknown bits_method"},
		{[]string{"train", "--bits-map", bitsMap, "--out", dir}, `"blocks.9.ffn.fc.weight" is not a quantized matrix`},
		{[]string{"train", "--bits", "auto", "--bits-budget", "0.5", "--steps", "3", "--bits-warmup", "1", "--out", filepath.Join(dir, "lowbudget")}, "below the smallest width"},
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
	// BitNet b1.58 2B4T's shapes on a 24 GiB machine: a clear memory error before anything is allocated
	// (TERN_MEMORY pins the machine's size, so a larger machine does not start training 2.4e9 weights)
	cmd := exec.Command(bin, "train", "--preset", "bitnet-2b", "--out", filepath.Join(dir, "2b"))
	cmd.Env = append(os.Environ(), "TERN_MEMORY=25769803776")
	out, err := cmd.CombinedOutput()
	if want := "more than the 25.8 GB of memory this machine has"; err == nil || !strings.Contains(string(out), want) {
		t.Errorf("train --preset bitnet-2b: %v, output %q, want %q", err, out, want)
	}
}
