package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"tern/format"
	"tern/gguf"
	"tern/infer"
	"tern/model"
	"tern/tokenizer"
)

func init() {
	register("generate", "generate text from a trained model, streamed as it is produced", runGenerate)
}

func runGenerate(ctx context.Context, args []string) error {
	fs := newFlags("generate", "generate --model M [flags]")
	path := fs.String("model", "", "model file (model.safetensors from tern train, or a checkpoint)")
	prompt := fs.String("prompt", "\n", "prompt text")
	n := fs.Int("max-tokens", 200, "tokens to generate")
	temp := fs.Float64("temperature", 0.8, "sampling temperature (0 = greedy)")
	topK := fs.Int("top-k", 0, "sample among the k most likely tokens (0 = all)")
	topP := fs.Float64("top-p", 0, "nucleus sampling: smallest set with probability >= p (0 = off)")
	seed := fs.Uint64("seed", 1, "sampling seed")
	threads := fs.Int("threads", 0, "kernel threads (0 = all cores)")
	kv := fs.String("kv", "", kvUsage)
	ctxLen := fs.Int("ctx", 4096, "GGUF models: KV cache positions (at most the file's context length)")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("--model is required")
	}
	sampling := infer.Sampling{Temperature: *temp, TopK: *topK, TopP: *topP}
	if err := sampling.Validate(); err != nil {
		return fmt.Errorf("--%w", err) // the same ranges serve holds requests to
	}
	if *n < 1 {
		return fmt.Errorf("--max-tokens %d: want 1 or more", *n)
	}
	setThreads(*threads)
	if isGGUF(*path) {
		return generateGGUF(ctx, *path, *prompt, *n, sampling, *seed, *ctxLen)
	}
	if h, err := format.ReadFileHeader(*path, true); err == nil && h.Meta[model.MetaKind] == "packed" {
		return generatePacked(ctx, *path, *kv, *prompt, *n, sampling, *seed)
	}
	lm, tokSpec, err := model.Load(*path)
	if err != nil {
		return err
	}
	tok, err := tokenizer.AdapterFromSpec(tokSpec)
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	if _, ok := lm.(*model.EncDec); ok {
		return generateSeq2Seq(ctx, lm, tok, *prompt, *n, sampling, *seed)
	}
	// Incremental state (an RNN's, a transformer's KV cache) instead of rerunning the sequence per token.
	if d, err := infer.NewDecoder(lm, 1); err == nil {
		if _, ok := d.(*infer.Recompute); !ok {
			generated, err := stream(tok, *prompt, func(ids []int, emit func(int) bool) ([]int, error) {
				return infer.DecodeOne(ctx, d, ids, *n, infer.NewSampler(sampling, *seed), emit)
			})
			if err == nil && generated < *n && d.Room(0) <= 1 {
				fmt.Fprintf(os.Stderr, "[stopped: the model's context of %d positions is full]\n", lm.Config().MaxPos)
			}
			return err
		}
	}
	return streamSample(ctx, lm, tok, *prompt, *n, sampling, *seed)
}

// generatePacked decodes with a packed model (weights mapped, KV cache).
func generatePacked(ctx context.Context, path, kv, prompt string, n int, s infer.Sampling, seed uint64) error {
	if packedLlama(path) {
		return generatePackedLlama(ctx, path, prompt, n, s, seed)
	}
	pm, err := loadPacked(path, kv)
	if err != nil {
		return err
	}
	defer pm.Close()
	tok, err := tokenizer.AdapterFromSpec(pm.TokSpec)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	generated, err := stream(tok, prompt, func(ids []int, emit func(int) bool) ([]int, error) {
		return infer.GeneratePacked(ctx, pm, ids, n, infer.NewSampler(s, seed), emit)
	})
	if err == nil && generated < n && pm.Pos == pm.Cfg.MaxPos {
		fmt.Fprintf(os.Stderr, "[stopped: the model's context of %d positions is full]\n", pm.Cfg.MaxPos)
	}
	return err
}

// generateGGUF decodes with a llama or bitnet GGUF model and the tokenizer in its metadata.
func generateGGUF(ctx context.Context, path, prompt string, n int, s infer.Sampling, seed uint64, ctxLen int) error {
	if f, err := gguf.Open(path); err == nil {
		arch, _ := f.String(gguf.KeyArchitecture)
		f.Close()
		if arch == gguf.ArchGPT2 { // tern's own export: read back into a tern transformer
			lm, tok, err := loadGPT2GGUF(path)
			if err != nil {
				return err
			}
			return streamSample(ctx, lm, tok, prompt, n, s, seed)
		}
	}
	m, err := infer.LoadGGUF(path, ctxLen)
	if err != nil {
		return err
	}
	defer m.Close()
	bpe, err := m.Tokenizer()
	if err != nil {
		return err
	}
	tok, err := tokenizer.AdapterOf(bpe)
	if err != nil {
		return err
	}
	_, err = stream(tok, prompt, func(ids []int, emit func(int) bool) ([]int, error) {
		return infer.GenerateLlama(ctx, m, ids, n, infer.NewSampler(s, seed), emit)
	})
	return err
}

// streamSample prints the prompt, then each generated piece as soon as it is decoded.
func streamSample(ctx context.Context, lm model.LM, tok tokenizer.Adapter, prompt string, n int, s infer.Sampling, seed uint64) error {
	_, err := stream(tok, prompt, func(ids []int, emit func(int) bool) ([]int, error) {
		return infer.Generate(ctx, lm, ids, n, infer.NewSampler(s, seed), emit)
	})
	return err
}

// stream encodes and prints the prompt, runs gen with an emitter that prints whole characters as they
// are decoded, and reports llama.cpp-style timing on stderr (out of piped text). It returns the number
// of tokens generated.
func stream(tok tokenizer.Adapter, prompt string, gen func(ids []int, emit func(int) bool) ([]int, error)) (int, error) {
	ids, err := tok.EncodeChecked(prompt)
	if err != nil {
		return 0, fmt.Errorf("prompt: %w", err)
	}
	fmt.Print(prompt)
	emit, flush := printer(tok)
	start := time.Now()
	out, err := gen(ids, emit)
	flush()
	generated := len(out) - len(ids)
	if d := time.Since(start); generated > 0 {
		fmt.Fprintf(os.Stderr, "[%d prompt tokens, %d generated in %.2f s: %.1f tokens/s]\n", len(ids), generated, d.Seconds(), float64(generated)/d.Seconds())
	}
	return max(generated, 0), err
}

// printer streams decoded tokens to stdout in whole characters (infer.TextStream: a BPE token can end
// inside one); flush prints what is left and ends the line.
func printer(tok tokenizer.Adapter) (emit func(int) bool, flush func()) {
	ts := infer.NewTextStream(tok.Decode, nil)
	emit = func(id int) bool {
		piece, _ := ts.Push(id)
		os.Stdout.WriteString(piece)
		return true
	}
	flush = func() {
		os.Stdout.WriteString(ts.Finish())
		fmt.Println()
	}
	return emit, flush
}

// generateSeq2Seq treats the prompt as the encoder's source (e.g. corrupted text to reconstruct) and
// streams the decoder's output.
func generateSeq2Seq(ctx context.Context, lm model.LM, tok tokenizer.Adapter, prompt string, n int, s infer.Sampling, seed uint64) error {
	ids, err := tok.EncodeChecked(prompt)
	if err != nil {
		return fmt.Errorf("prompt: %w", err)
	}
	d, err := infer.NewKVDecoder(lm, 1) // the source encoded once, a KV cache for the decoder
	if err != nil {
		return err
	}
	emit, flush := printer(tok)
	_, err = infer.DecodeOne(ctx, d, ids, n, infer.NewSampler(s, seed), emit)
	flush()
	return err
}

// kvUsage documents the --kv flag of generate, serve and bench decode.
const kvUsage = "packed models: KV cache f16 or f32 (default f16 where the CPU has the F16 kernels)"

// loadPacked maps a packed model and sets its KV cache type from a --kv flag.
func loadPacked(path, kv string) (*infer.Packed, error) {
	pm, err := infer.LoadPacked(path)
	if err != nil {
		return nil, err
	}
	if err := setKV(pm, kv); err != nil {
		pm.Close()
		return nil, err
	}
	return pm, nil
}

// setKV applies a --kv flag: "f16" or "f32", or "" to keep the model's default.
func setKV(pm *infer.Packed, kv string) error {
	dt, ok := map[string]format.DType{"": "", "f16": format.F16, "f32": format.F32}[kv]
	switch {
	case !ok:
		return fmt.Errorf("--kv must be f16 or f32, not %q", kv)
	case dt == "":
		return nil
	}
	return pm.SetKV(dt)
}
