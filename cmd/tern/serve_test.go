package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tern/infer"
	"tern/model"
	"tern/serve"
	"tern/tensor"
	"tern/tokenizer"
)

// TestServeModels: the HTTP API over a packed file and over model files (a transformer, an LSTM) gives,
// greedily, the text that decoding the same model directly gives.
func TestServeModels(t *testing.T) {
	text := "It was the best of times, it was the worst of times.\n"
	tok, err := tokenizer.NewAdapter("char", text)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := model.Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Hidden, cfg.FFN, cfg.Heads, cfg.Layers, cfg.MaxPos, cfg.Vocab = 32, 64, 2, 2, 48, tok.VocabSize()
	lm, err := model.New(cfg, tensor.NewRNG(7))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plain, packed := filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "m.tern")
	if err := model.Save(plain, lm, tok.Spec()); err != nil {
		t.Fatal(err)
	}
	if _, err := model.WritePacked(packed, lm, tok.Spec()); err != nil {
		t.Fatal(err)
	}
	// an LSTM LM serves with its state kept per slot (infer.RNNDecoder)
	rcfg, _ := model.Preset("lstm")
	rcfg.Hidden, rcfg.Layers, rcfg.MaxPos, rcfg.Vocab = 32, 2, 48, tok.VocabSize()
	rnn, err := model.New(rcfg, tensor.NewRNG(8))
	if err != nil {
		t.Fatal(err)
	}
	rnnPath := filepath.Join(dir, "rnn.safetensors")
	if err := model.Save(rnnPath, rnn, tok.Spec()); err != nil {
		t.Fatal(err)
	}
	// a packed bitnet model (the Llama family, ReLU², GQA) serves on infer.LlamaBatch (KV cache per
	// slot); its greedy text must be tern generate's (infer.GenerateLlama)
	bcfg := model.ArchDefaults(model.Config{Vocab: tok.VocabSize(), Hidden: 32, Layers: 2, Heads: 4, KVHeads: 2, FFN: 64, MaxPos: 48, TieEmbeddings: true}, model.TypeBitNet)
	bn, err := model.New(bcfg, tensor.NewRNG(9))
	if err != nil {
		t.Fatal(err)
	}
	bnPath := filepath.Join(dir, "bitnet.tern")
	if _, err := model.WritePacked(bnPath, bn, tok.Spec()); err != nil {
		t.Fatal(err)
	}
	prompt := "It was"
	ids, _ := tok.EncodeChecked(prompt)
	for _, path := range []string{plain, packed, rnnPath, bnPath} {
		m, closeModel, err := serveModel(path, "", 4)
		if err != nil {
			t.Fatal(err)
		}
		var want []int
		if path == bnPath {
			pm, err := infer.LoadPackedLlama(path, 0)
			if err != nil {
				t.Fatal(err)
			}
			want, err = infer.GenerateLlama(context.Background(), pm, ids, 20, infer.NewSampler(infer.Sampling{}, 1), nil)
			pm.Close()
			if err != nil {
				t.Fatal(err)
			}
		} else if path == packed {
			pm, err := infer.LoadPacked(path)
			if err != nil {
				t.Fatal(err)
			}
			want, err = infer.GeneratePacked(context.Background(), pm, ids, 20, infer.NewSampler(infer.Sampling{}, 1), nil)
			pm.Close()
			if err != nil {
				t.Fatal(err)
			}
		} else {
			ref := lm
			if path == rnnPath {
				ref = rnn
			}
			if want, err = infer.Generate(context.Background(), ref, ids, 20, infer.NewSampler(infer.Sampling{}, 1), nil); err != nil {
				t.Fatal(err)
			}
		}
		h := serve.New(m, serve.Options{})
		defer h.Close()
		for range 2 { // twice: the second request must start from an empty KV cache
			w := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/v1/completions", strings.NewReader(`{"prompt": "It was", "max_tokens": 20, "temperature": 0}`))
			req.Header.Set("Content-Type", "application/json")
			h.ServeHTTP(w, req)
			var c struct {
				Choices []struct{ Text string }
			}
			if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil || w.Code != 200 {
				t.Fatalf("%s: %d %s", path, w.Code, w.Body)
			}
			if got, want := c.Choices[0].Text, tok.Decode(want[len(ids):]); got != want {
				t.Errorf("%s: served %q, decoding directly gives %q", filepath.Base(path), got, want)
			}
		}
		closeModel()
	}
}

// TestServeProcess starts `tern serve` as a user would, on a free port, completes one request over
// TCP and stops it with SIGTERM: it must exit 0.
func TestServeProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	bin := buildTern(t)
	tok, _ := tokenizer.NewAdapter("char", "abcdefgh \n")
	cfg, _ := model.Preset("tiny")
	cfg.Hidden, cfg.FFN, cfg.Heads, cfg.Layers, cfg.MaxPos, cfg.Vocab = 16, 32, 2, 1, 32, tok.VocabSize()
	lm, err := model.New(cfg, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.tern")
	if _, err := model.WritePacked(path, lm, tok.Spec()); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--model", path, "--addr", "127.0.0.1:0", "--threads", "1")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stderr)
	var url string
	for sc.Scan() && url == "" {
		if _, rest, ok := strings.Cut(sc.Text(), " on http://"); ok {
			url = "http://" + rest
		}
	}
	if url == "" {
		t.Fatal("no listening line")
	}
	go io.Copy(io.Discard, stderr)
	resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(`{"prompt": "abc", "max_tokens": 5}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"completion_tokens": 5`) {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("still running 15 s after SIGTERM")
	}
}
