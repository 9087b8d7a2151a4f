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
	"tern/tokenizer"
)

func init() {
	register("serve", "serve a model over HTTP: OpenAI-style chat and completions, batched, with streaming", runServe)
}

func runServe(ctx context.Context, args []string) error {
	fs := newFlags("serve", "serve --model M [--addr 127.0.0.1:8080] [--parallel N] [--api-key-file F] [flags]")
	path := fs.String("model", "", "model file: packed (.tern, KV cache), model.safetensors, or a GGUF (llama, bitnet, gpt2)")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (host:port; :PORT listens on every interface; :0 picks a free port)")
	maxTokens := fs.Int("max-tokens", 0, "largest max_tokens a request may ask (0 = the model's context)")
	parallel := fs.Int("parallel", 4, "sequences decoded together (slots, each with its own KV cache)")
	queue := fs.Int("queue", 64, "requests waiting for a slot; more are answered 503")
	timeout := fs.Duration("timeout", 5*time.Minute, "per-request time limit, queueing included (0 = none)")
	apiKey := fs.String("api-key", "", "require \"Authorization: Bearer KEY\" (visible in ps: prefer --api-key-file)")
	apiKeyFile := fs.String("api-key-file", "", "file with the API keys, one per line")
	maxBody := fs.Int64("max-body", 1<<20, "largest request body in bytes")
	threads := fs.Int("threads", 0, "kernel threads (0 = all cores)")
	quiet := fs.Bool("quiet", false, "no request log on stderr")
	kv := fs.String("kv", "", kvUsage)
	tmplFlag := fs.String("chat-template", "", "chat template: empty = the model's own (a GGUF's tokenizer.chat_template) or else tern's plain one; \"builtin\" = tern's; or a Jinja template file")
	ctxLen := fs.Int("ctx", 2048, "GGUF llama/bitnet models: KV cache positions per slot (at most the file's context length)")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	switch {
	case *path == "":
		return fmt.Errorf("--model is required")
	case *maxTokens < 0:
		return fmt.Errorf("--max-tokens %d: want 0 or more", *maxTokens)
	case *parallel < 1 || *parallel > 1024:
		return fmt.Errorf("--parallel %d: want 1 to 1024", *parallel)
	case *queue < 1:
		return fmt.Errorf("--queue %d: want 1 or more", *queue)
	case *timeout < 0:
		return fmt.Errorf("--timeout %v: want 0 or more", *timeout)
	case *ctxLen < 2:
		return fmt.Errorf("--ctx %d: want at least 2", *ctxLen)
	case *maxBody < 1024:
		return fmt.Errorf("--max-body %d: want at least 1024", *maxBody)
	}
	keys, err := apiKeys(*apiKey, *apiKeyFile)
	if err != nil {
		return err
	}
	setThreads(*threads)
	var m serve.Model
	var closeModel func()
	if isGGUF(*path) {
		m, closeModel, err = serveGGUF(*path, *parallel, *ctxLen, *tmplFlag)
	} else if m, closeModel, err = serveModel(*path, *kv, *parallel); err == nil && *tmplFlag != "" {
		if m.Template, err = chatTemplate(*tmplFlag, tokenizer.Chat{BOS: -1, EOS: -1, EOT: -1}, nil); err != nil {
			closeModel()
		}
	}
	if err != nil {
		return err
	}
	defer closeModel()
	opt := serve.Options{MaxTokens: *maxTokens, Queue: *queue, Timeout: *timeout, MaxBody: *maxBody, APIKeys: keys}
	if !*quiet {
		opt.Log = os.Stderr
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if host, _, _ := net.SplitHostPort(*addr); host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
		fmt.Fprintf(os.Stderr, "warning: listening on every network interface (%s)%s\n", *addr,
			map[bool]string{true: "; anyone who can reach this machine can use the model without a key (--api-key-file)", false: ""}[len(keys) == 0])
	}
	h := serve.New(m, opt)
	defer h.Close()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 1 << 20}
	fmt.Fprintf(os.Stderr, "serving %s (context %d tokens, %d slots) on http://%s\n  curl http://%s/v1/chat/completions -H 'Content-Type: application/json'%s -d '{\"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}], \"max_tokens\": 32}'\n",
		m.Name, m.MaxPos, *parallel, ln.Addr(), ln.Addr(), map[bool]string{true: " -H 'Authorization: Bearer KEY'", false: ""}[len(keys) > 0])
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done(): // Ctrl-C or SIGTERM: stop accepting, finish the requests in flight, briefly
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return nil
	}
}

// apiKeys reads --api-key and --api-key-file (one key per line; blank lines and # comments skipped).
func apiKeys(key, file string) ([]string, error) {
	var keys []string
	if key != "" {
		keys = append(keys, key)
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--api-key-file: %w", err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				keys = append(keys, l)
			}
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("--api-key-file %s: no keys in it", file)
		}
	}
	for _, k := range keys {
		if len(k) < 8 || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("API keys must be at least 8 characters without spaces")
		}
	}
	return keys, nil
}

// serveModel loads a packed model (batched KV-cache decoding over parallel slots; llama/bitnet packed
// models on infer.LlamaBatch) or a training-path model as a serve.Model (infer.NewDecoder: RNNs keep
// their state per slot, llama/bitnet models are packed in memory onto infer.LlamaBatch, other
// transformers and encoder-decoders keep KV caches; all step the slots as one batch).
func serveModel(path, kv string, parallel int) (serve.Model, func(), error) {
	if packedLlama(path) {
		return servePackedLlama(path, parallel) // llama_packed.go
	}
	if h, err := format.ReadFileHeader(path, true); err == nil && h.Meta[model.MetaKind] == "packed" {
		pm, err := loadPacked(path, kv)
		if err != nil {
			return serve.Model{}, nil, err
		}
		tok, err := tokenizer.AdapterFromSpec(pm.TokSpec)
		if err != nil {
			pm.Close()
			return serve.Model{}, nil, fmt.Errorf("%s: %w", path, err)
		}
		// From four slots the batch keeps resident batch matrices (2-bit panels with AVX-512 VNNI, else
		// one byte per weight; an fp32 copy of an int8 head): memory for speed once requests share a step.
		b, err := infer.NewBatch(pm, parallel, parallel >= 4)
		if err != nil {
			pm.Close()
			return serve.Model{}, nil, err
		}
		return serve.Model{Name: servedName(path), MaxPos: pm.Cfg.MaxPos, Config: pm.Cfg, Encode: tok.EncodeChecked, Decode: tok.Decode, Decoder: b},
			func() { b.Close() }, nil
	}
	lm, tokSpec, err := model.Load(path)
	if err != nil {
		return serve.Model{}, nil, err
	}
	tok, err := tokenizer.AdapterFromSpec(tokSpec)
	if err != nil {
		return serve.Model{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	return serveLM(lm, path, parallel, tok, nil)
}

// serveLM serves a training-path model lm read from path (a tern checkpoint, or a gpt2 GGUF read
// back) on infer.NewDecoder's decoder for it, with tokenizer tok and chat template tmpl (nil: serve's
// built-in one). Nothing is left to close.
func serveLM(lm model.LM, path string, parallel int, tok tokenizer.Adapter, tmpl serve.Template) (serve.Model, func(), error) {
	d, err := infer.NewDecoder(lm, parallel)
	if err != nil {
		return serve.Model{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg := lm.Config()
	return serve.Model{Name: servedName(path), MaxPos: cfg.MaxPos, Config: cfg, Encode: tok.EncodeChecked, Decode: tok.Decode, Decoder: d, Template: tmpl},
		func() {}, nil
}

// servedName is the model name the API reports for a file: its base name without the extension.
func servedName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}
