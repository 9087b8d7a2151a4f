package testenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// LlamaCandidate is one candidate token of a llama-server step.
type LlamaCandidate struct {
	ID      int     `json:"id"`
	Logprob float64 `json:"logprob"`
}

// LlamaStep is one generated token of llama-server with its top candidates.
type LlamaStep struct {
	LlamaCandidate
	Top []LlamaCandidate `json:"top_logprobs"`
}

// LlamaGreedy runs llama-server on path and returns n greedy steps after prompt (token ids), each with
// the log-probabilities of its top 5 candidates.
func LlamaGreedy(t testing.TB, server, path string, prompt []int, n int) []LlamaStep {
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
	// Streamed, because the non-streamed reply is refused when random tokens are not valid UTF-8.
	req, _ := json.Marshal(map[string]any{"prompt": prompt, "n_predict": n, "temperature": -1, "n_probs": 5,
		"ignore_eos": true, "cache_prompt": false, "repeat_penalty": 1, "stream": true})
	r, err := http.Post(base+"/completion", "application/json", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var steps []LlamaStep
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Probs []LlamaStep `json:"completion_probabilities"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("llama-server event %q: %v", line, err)
		}
		steps = append(steps, ev.Probs...)
	}
	if len(steps) != n {
		t.Fatalf("llama-server gave %d steps, want %d\n%s", len(steps), n, log.String())
	}
	return steps
}
