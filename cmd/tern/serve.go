package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tern/format"
	"tern/infer"
	"tern/model"
	"tern/serve"
	"tern/train"
)

func init() {
	register("serve", "serve a model over HTTP: OpenAI-style /v1/completions with streaming", runServe)
}

func runServe(ctx context.Context, args []string) error {
	fs := newFlags("serve", "serve --model M [--addr 127.0.0.1:8080] [flags]")
	path := fs.String("model", "", "model file: packed (.tern, KV cache) or model.safetensors")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (host:port; :0 picks a free port)")
	maxTokens := fs.Int("max-tokens", 0, "largest max_tokens a request may ask (0 = the model's context)")
	threads := fs.Int("threads", 0, "kernel threads (0 = all cores)")
	quiet := fs.Bool("quiet", false, "no request log on stderr")
	kv := fs.String("kv", "", kvUsage)
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("--model is required")
	}
	if *maxTokens < 0 {
		return fmt.Errorf("--max-tokens %d: want 0 or more", *maxTokens)
	}
	setThreads(*threads)
	m, closeModel, err := serveModel(*path, *kv)
	if err != nil {
		return err
	}
	defer closeModel()
	opt := serve.Options{MaxTokens: *maxTokens}
	if !*quiet {
		opt.Log = os.Stderr
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: serve.New(m, opt), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(os.Stderr, "serving %s (context %d tokens) on http://%s\n  curl http://%s/v1/completions -d '{\"prompt\": \"Hello\", \"max_tokens\": 32}'\n",
		m.Name, m.MaxPos, ln.Addr(), ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done(): // Ctrl-C or SIGTERM: finish the requests in flight, briefly
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return nil
	}
}

// serveModel loads a packed model (KV-cache decoding) or a training-path causal LM as a serve.Model.
func serveModel(path, kv string) (serve.Model, func(), error) {
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if h, err := format.ReadFileHeader(path, true); err == nil && h.Meta[model.MetaKind] == "packed" {
		pm, err := loadPacked(path, kv)
		if err != nil {
			return serve.Model{}, nil, err
		}
		tok, err := train.TokenizerFromSpec(pm.TokSpec)
		if err != nil {
			pm.Close()
			return serve.Model{}, nil, fmt.Errorf("%s: %w", path, err)
		}
		return serve.Model{
			Name: name, MaxPos: pm.Cfg.MaxPos, Config: pm.Cfg, Encode: tok.EncodeChecked, Decode: tok.Decode,
			Generate: func(ctx context.Context, prompt []int, n int, s *infer.Sampler, emit func(int) bool) ([]int, error) {
				pm.Reset()
				return infer.GeneratePacked(ctx, pm, prompt, n, s, emit)
			},
		}, func() { pm.Close() }, nil
	}
	lm, tokSpec, err := model.Load(path)
	if err != nil {
		return serve.Model{}, nil, err
	}
	cfg := lm.Config()
	if cfg.Objective != model.ObjCausal || cfg.Type == model.TypeEncDec {
		return serve.Model{}, nil, fmt.Errorf("%s: a %s %s model; serve needs a causal LM", path, cfg.Type, cfg.Objective)
	}
	tok, err := train.TokenizerFromSpec(tokSpec)
	if err != nil {
		return serve.Model{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	return serve.Model{
		Name: name, MaxPos: cfg.MaxPos, Config: cfg, Encode: tok.EncodeChecked, Decode: tok.Decode,
		Generate: func(ctx context.Context, prompt []int, n int, s *infer.Sampler, emit func(int) bool) ([]int, error) {
			return infer.Generate(ctx, lm, prompt, n, s, emit)
		},
	}, func() {}, nil
}
