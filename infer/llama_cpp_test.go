package infer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"tern/internal/testenv"
)

// TestLlamaCppParity: a random bitnet GGUF written by llama.cpp's gguf-py (TQ1_0 and TQ2_0 projections,
// F16 token table) decodes in tern to the same 32 greedy tokens as in llama.cpp (llama-server, built
// by scripts/setup-refs.sh), and the log-probabilities of llama.cpp's top 5 candidates at every step
// agree within llamaCppLogprobBound. The two differ in activation rounding: tern quantizes each
// projection's input to int8 per vector (absmax), llama.cpp per 256-value block (Q8_K) for ternary
// matrices and to F16 for the F16 head. Skips without gguf-py or llama-server.
func TestLlamaCppParity(t *testing.T) {
	server := testenv.LlamaBin(t, "llama-server")
	prompt := []int{72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100} // "Hello world" in byte tokens
	for _, typ := range []string{"tq2_0", "tq1_0"} {
		t.Run(typ, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bitnet.gguf")
			gen := testenv.GGUFPython(t, filepath.Join(testenv.ModuleRoot(t), "scripts", "gguf-random-bitnet.py"), path,
				"--type", typ, "--hidden", "512", "--ffn", "1536", "--layers", "3", "--heads", "8", "--kv-heads", "2", "--vocab", "1024", "--seed", "5")
			if out, err := gen.CombinedOutput(); err != nil {
				t.Fatalf("gguf-py: %v\n%s", err, out)
			}
			ref := llamaCppGreedy(t, server, path, prompt, 32)
			m, err := LoadGGUF(path, 256)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			var logits []float32
			for _, id := range prompt {
				if logits, err = m.Step(id); err != nil {
					t.Fatal(err)
				}
			}
			worst := 0.0
			for i, step := range ref {
				lp := logSoftmax(logits)
				got := argmax(logits)
				for _, c := range step.Top {
					worst = math.Max(worst, math.Abs(lp[c.ID]-c.Logprob))
				}
				if got != step.ID {
					t.Fatalf("step %d: tern chose %d, llama.cpp %d (max |Δlogprob| so far %.4f)", i, got, step.ID, worst)
				}
				if logits, err = m.Step(got); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("%s: 32 greedy tokens equal; max |Δlogprob| over llama.cpp's top 5 = %.4f", typ, worst)
			if worst > llamaCppLogprobBound {
				t.Errorf("max |Δlogprob| %.4f > %.2f", worst, llamaCppLogprobBound)
			}
		})
	}
}

// llamaCppLogprobBound bounds |Δ log p| between tern and llama.cpp for llama.cpp's top candidates.
const llamaCppLogprobBound = 0.05

type cppCandidate struct {
	ID      int     `json:"id"`
	Logprob float64 `json:"logprob"`
}

type cppStep struct {
	cppCandidate
	Top []cppCandidate `json:"top_logprobs"`
}

// llamaCppGreedy runs llama-server on path and returns n greedy steps after prompt (token ids).
func llamaCppGreedy(t *testing.T, server, path string, prompt []int, n int) []cppStep {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, server, "-m", path, "--host", "127.0.0.1", "--port", fmt.Sprint(port),
		"-c", "256", "-t", "2", "-np", "1", "--no-webui")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for {
		if r, err := http.Get(base + "/health"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("llama-server did not become ready:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	req, _ := json.Marshal(map[string]any{"prompt": prompt, "n_predict": n, "temperature": -1, "n_probs": 5,
		"ignore_eos": true, "cache_prompt": false, "repeat_penalty": 1, "return_tokens": true})
	r, err := http.Post(base+"/completion", "application/json", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var resp struct {
		Probs []cppStep `json:"completion_probabilities"`
	}
	if err := json.NewDecoder(r.Body).Decode(&resp); err != nil || len(resp.Probs) != n {
		t.Fatalf("llama-server reply: %v, %d steps\n%s", err, len(resp.Probs), log.String())
	}
	return resp.Probs
}

func logSoftmax(x []float32) []float64 {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, float64(v))
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(float64(v) - mx)
	}
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v) - mx - math.Log(s)
	}
	return out
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
