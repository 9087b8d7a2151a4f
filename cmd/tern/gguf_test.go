package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"tern/gguf"
	"tern/internal/testenv"
	"tern/model"
	"tern/tensor"
)

// randomBitnet writes a small random bitnet GGUF with llama.cpp's gguf-py (scripts/gguf-random-bitnet.py),
// or skips when gguf-py or numpy is missing.
func randomBitnet(t *testing.T, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bitnet.gguf")
	root := testenv.ModuleRoot(t)
	cmd := testenv.GGUFPython(t, append([]string{filepath.Join(root, "scripts", "gguf-random-bitnet.py"), path}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gguf-random-bitnet.py: %v\n%s", err, out)
	}
	return path
}

// TestGGUFInfoGenerate: tern info reads a gguf-py file (types, bits from its bytes, the trit5
// conversion) and tern generate decodes it greedily, the same text twice, with the GGUF's tokenizer.
func TestGGUFInfoGenerate(t *testing.T) {
	path := randomBitnet(t, "--type", "tq1_0")
	bin := buildTern(t)
	out, err := exec.Command(bin, "info", "--json", path).Output()
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	var info struct {
		Architecture string      `json:"architecture"`
		Converted    int         `json:"ternary_converted"`
		FileBytes    int64       `json:"ternary_file_bytes"`
		Trit5Bytes   int64       `json:"ternary_trit5_bytes"`
		Formats      []infoGroup `json:"formats"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	// 2 blocks x 7 matrices; TQ1_0 is 54 bytes per 256 weights (1.6875 bits), trit5 ceil(K/5) per row + 4
	const C, F = 256, 512
	wantFile := int64(2 * (C*C + C*C/2*2 + C*C + 3*F*C) / 256 * 54)
	if info.Architecture != "bitnet" || info.Converted != 14 || info.FileBytes != wantFile {
		t.Fatalf("info: %+v (want 14 converted, %d file bytes)", info, wantFile)
	}
	wantTrit5 := int64(2 * ((C+C/2*2+C+2*F)*((C+4)/5) + C*((F+4)/5) + 7*4))
	if info.Trit5Bytes != wantTrit5 {
		t.Errorf("trit5 bytes %d, want %d", info.Trit5Bytes, wantTrit5)
	}
	for _, g := range info.Formats {
		if g.Format == "TQ1_0" && g.Bits != 1.6875 {
			t.Errorf("TQ1_0 at %v bits/value", g.Bits)
		}
	}
	gen := func() string {
		out, err := exec.Command(bin, "generate", "--model", path, "--prompt", "Hello", "--max-tokens", "12", "--temperature", "0", "--threads", "1").Output()
		if err != nil {
			t.Fatalf("generate: %v", err)
		}
		return string(out)
	}
	a, b := gen(), gen()
	if a != b || !strings.HasPrefix(a, "Hello") || len(a) <= len("Hello\n") {
		t.Fatalf("generate gave %q then %q", a, b)
	}
}

// TestExportGGUF: tern export gguf writes a gpt2 GGUF carrying GPT-2's vocabulary (tokens, merges,
// <|endoftext|> as a control token) that reads back into a tern model of the same config.
func TestExportGGUF(t *testing.T) {
	cfg := model.Config{Type: model.TypeTransformer, Objective: model.ObjCausal, Vocab: 50257, Hidden: 256, Layers: 1, Heads: 4,
		FFN: 512, MaxPos: 32, Linear: model.LinearBitNet, Norm: model.NormLayer, TieEmbeddings: true}
	lm, err := model.New(cfg, tensor.NewRNG(2))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src, out := filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "m.gguf")
	if err := model.Save(src, lm, "gpt2"); err != nil {
		t.Fatal(err)
	}
	if err := runExport(context.Background(), []string{"gguf", "--model", src, "--out", out, "--type", "i2_s"}); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	toks, _ := f.Strings("tokenizer.ggml.tokens")
	merges, _ := f.Strings("tokenizer.ggml.merges")
	eos, _ := f.Int("tokenizer.ggml.eos_token_id")
	if len(toks) != 50257 || len(merges) != 50000 || eos != 50256 || toks[50256] != "<|endoftext|>" || toks[262] != "Ġthe" {
		t.Fatalf("tokenizer: %d tokens, %d merges, eos %d, %q %q", len(toks), len(merges), eos, toks[50256], toks[262])
	}
	back, err := model.LoadGGUF(out)
	if err != nil {
		t.Fatal(err)
	}
	if back.Config().JSON() != cfg.JSON() {
		t.Fatalf("config %s", back.Config().JSON())
	}
}
