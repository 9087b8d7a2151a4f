package main

import (
	"context"
	"path/filepath"
	"testing"

	"tern/format"
	"tern/gguf"
	"tern/infer"
	"tern/model"
	"tern/tensor"
	"tern/tokenizer"
)

// TestExportGGUFChat: a model imported from Hugging Face keeps its tokenizer_config.json and
// generation_config.json; `tern export gguf` writes their chat description (template, BOS, EOS,
// add_bos_token) as GGUF metadata, and reading the GGUF back gives the same tokenizer.Chat as the
// files do. A model without them keeps the tokenizer-only metadata (no chat template).
func TestExportGGUFChat(t *testing.T) {
	spec, V := smallBPE(t)
	cfg := model.ArchDefaults(model.Config{Vocab: V, Hidden: 256, Layers: 1, Heads: 4, KVHeads: 2, FFN: 256, MaxPos: 32, TieEmbeddings: true}, model.TypeBitNet)
	lm, err := model.New(cfg, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := model.ParamTensors(lm)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"tokenizer_config.json":  []byte(`{"chat_template": "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}<|endoftext|>{% endfor %}", "bos_token": "<|endoftext|>", "eos_token": {"content": "<|endoftext|>"}, "add_bos_token": true}`),
		"generation_config.json": []byte(`{"eos_token_id": 0}`),
	}
	tok, err := tokenizer.Unmarshal([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	want, err := tokenizer.ChatFromFiles(tok.(*tokenizer.BPE), files)
	if err != nil {
		t.Fatal(err)
	}
	if want.Template == "" || want.BOS < 0 || !want.AddBOS {
		t.Fatalf("the files' chat: %+v", want)
	}
	for _, withChat := range []bool{true, false} {
		dir := t.TempDir()
		src, out := filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "m.gguf")
		meta := model.FileMeta(lm, "model", spec)
		if withChat {
			for key, name := range model.HFSideFiles {
				if data, ok := files[name]; ok {
					meta[key] = string(data)
				}
			}
		}
		if err := format.Write(src, meta, ts); err != nil {
			t.Fatal(err)
		}
		if err := runExport(context.Background(), []string{"gguf", "--model", src, "--out", out, "--type", "i2_s"}); err != nil {
			t.Fatal(err)
		}
		m, err := infer.LoadGGUF(out, 0)
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.Tokenizer()
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Chat(b)
		_, hasTemplate := m.File.Lookup("tokenizer.chat_template")
		arch, _ := m.File.String(gguf.KeyArchitecture)
		m.Close()
		if err != nil {
			t.Fatal(err)
		}
		if arch != gguf.ArchBitnetB158 || hasTemplate != withChat {
			t.Fatalf("with chat %v: architecture %s, chat template present %v", withChat, arch, hasTemplate)
		}
		if withChat && (got.Template != want.Template || got.BOS != want.BOS || got.EOS != want.EOS || got.EOT != want.EOT || got.AddBOS != want.AddBOS) {
			t.Errorf("GGUF chat %+v, the files' %+v", got, want)
		}
	}
}
