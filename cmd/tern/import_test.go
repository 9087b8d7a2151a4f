package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"tern/format"
	"tern/model"
	"tern/tensor"
	"tern/tokenizer"
)

// TestImportExportHF runs the CLI on a BitNet-layout Hugging Face folder (BF16, tied head, the
// 2B4T config.json keys, sharded, with tokenizer files): import hf -> export hf gives the same tensor
// names, dtypes and bytes, config.json and tokenizer files; the imported model packs and generates.
func TestImportExportHF(t *testing.T) {
	spec, V := smallBPE(t)
	const C, F, L, KV = 64, 96, 2, 32
	rng := tensor.NewRNG(9)
	var ts []format.Tensor
	add := func(name string, mean float32, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		rng.FillNormal(v, 0.1)
		for i := range v {
			v[i] += mean
		}
		ts = append(ts, format.BF16Tensor(name, shape, v))
	}
	add("model.embed_tokens.weight", 0, V, C)
	for l := range L {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", 1, C)
		add(p+"self_attn.q_proj.weight", 0, C, C)
		add(p+"self_attn.k_proj.weight", 0, KV, C)
		add(p+"self_attn.v_proj.weight", 0, KV, C)
		add(p+"self_attn.attn_sub_norm.weight", 1, C)
		add(p+"self_attn.o_proj.weight", 0, C, C)
		add(p+"post_attention_layernorm.weight", 1, C)
		add(p+"mlp.gate_proj.weight", 0, F, C)
		add(p+"mlp.up_proj.weight", 0, F, C)
		add(p+"mlp.ffn_sub_norm.weight", 1, F)
		add(p+"mlp.down_proj.weight", 0, C, F)
	}
	add("model.norm.weight", 1, C)
	dir := t.TempDir()
	src := filepath.Join(dir, "hf")
	os.Mkdir(src, 0o755)
	if err := format.WriteCheckpoint(src, map[string]string{"format": "pt"}, ts, 20000); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`{"architectures": ["BitNetForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 0, "eos_token_id": 0, "hidden_act": "relu2", "hidden_size": %d, "initializer_range": 0.02,
  "intermediate_size": %d, "max_position_embeddings": 64, "model_type": "bitnet", "num_attention_heads": 4,
  "num_hidden_layers": %d, "num_key_value_heads": 2, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
  "tie_word_embeddings": true, "torch_dtype": "bfloat16", "use_cache": true, "vocab_size": %d}`, C, F, L, V)
	files := map[string]string{"config.json": cfg, "tokenizer.json": spec,
		"tokenizer_config.json":  `{"chat_template": "{{ messages }}", "eos_token": "<|endoftext|>"}`,
		"generation_config.json": `{"eos_token_id": 0}`, "chat_template.jinja": "{{ messages }}"}
	for name, s := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := buildTern(t)
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("tern %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	m := filepath.Join(dir, "m.safetensors")
	t.Log(run("import", "hf", src, "--out", m))
	// The model file keeps the chat description (for serving): template and EOS from its side files.
	h, err := format.ReadFileHeader(m, true)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := tokenizer.Unmarshal([]byte(h.Meta[model.MetaTokenizer]))
	if err != nil {
		t.Fatal(err)
	}
	chat, err := tokenizer.ChatFromFiles(tk.(*tokenizer.BPE), model.HFChatFiles(h.Meta))
	if err != nil || chat.Template != "{{ messages }}" || chat.EOS != 0 || len(chat.Stop) != 1 {
		t.Errorf("chat from the model file: %v %+v", err, chat)
	}
	back := filepath.Join(dir, "back")
	t.Log(run("export", "hf", "--model", m, "--out", back, "--shard-size", "20000"))
	a, err := format.OpenCheckpoint(src)
	if err != nil {
		t.Fatal(err)
	}
	b, err := format.OpenCheckpoint(back)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(a.Names(), ",") != strings.Join(b.Names(), ",") || len(b.Files) < 2 {
		t.Fatalf("names %v\nback %v (%d files)", a.Names(), b.Names(), len(b.Files))
	}
	for _, n := range a.Names() {
		x, _, _ := a.Tensor(n)
		y, _, _ := b.Tensor(n)
		if x.DType != y.DType || fmt.Sprint(x.Shape) != fmt.Sprint(y.Shape) || string(x.Data) != string(y.Data) {
			t.Errorf("%s: %v %v back as %v %v (bytes equal %t)", n, x.DType, x.Shape, y.DType, y.Shape, string(x.Data) == string(y.Data))
		}
	}
	for name, s := range files {
		got, err := os.ReadFile(filepath.Join(back, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "chat_template.jinja" {
			if string(got) != s {
				t.Errorf("%s: %q back as %q", name, s, got)
			}
			continue
		}
		var x, y any
		if json.Unmarshal([]byte(s), &x) != nil || json.Unmarshal(got, &y) != nil {
			t.Fatalf("%s: not JSON", name)
		}
		if name == "tokenizer.json" { // tern writes its own spelling of the same tokenizer
			if !strings.Contains(string(got), `"merges"`) {
				t.Errorf("%s: %s", name, got[:200])
			}
			continue
		}
		if fmt.Sprint(x) != fmt.Sprint(y) {
			t.Errorf("%s: %v back as %v", name, x, y)
		}
	}
	// The imported model is an ordinary tern model: it packs and generates.
	packed := filepath.Join(dir, "m.tern")
	run("pack", "--model", m, "--out", packed)
	run("generate", "--model", m, "--prompt", "It was", "--max-tokens", "4", "--seed", "1")
	// Fine-tuning starts from it (--init), checkpoints, and resumes; the run's model exports too.
	corpus := filepath.Join(dir, "corpus.txt")
	os.WriteFile(corpus, []byte(strings.Repeat("It was the best of times, it was the worst of times, it was the age of wisdom.\n", 60)), 0o644)
	runDir := filepath.Join(dir, "run")
	common := []string{"--data", corpus, "--out", runDir, "--batch", "2", "--seq", "16", "--eval-every", "2", "--eval-batches", "1", "--threads", "1", "--lr", "1e-4", "--min-lr", "1e-5", "--warmup", "1"}
	if out, err := exec.Command(bin, append([]string{"train", "--init", m, "--linear", "fp32"}, common...)...).CombinedOutput(); err == nil || !strings.Contains(string(out), "--init") {
		t.Errorf("--init with a model flag: %v %s", err, out)
	}
	run(append([]string{"train", "--init", m, "--steps", "2"}, common...)...)
	run(append([]string{"train", "--resume", "--steps", "3"}, common[2:4]...)...)
	run("export", "hf", "--model", filepath.Join(runDir, "model.safetensors"), "--out", filepath.Join(dir, "tuned"))
	for _, name := range []string{"config.json", "tokenizer_config.json", "generation_config.json", "chat_template.jinja"} {
		a, _ := os.ReadFile(filepath.Join(back, name)) // the fine-tuned model keeps the source folder's side
		b, err := os.ReadFile(filepath.Join(dir, "tuned", name))
		if err != nil || string(a) != string(b) {
			t.Errorf("fine-tuned export: %s differs from the imported model's (%v)", name, err)
		}
	}
	// Bad input: an index naming a missing shard, and an existing --out without --force.
	os.Remove(filepath.Join(src, a.Files[1]))
	if out, err := exec.Command(bin, "import", "hf", src, "--out", filepath.Join(dir, "x.safetensors")).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), a.Files[1]) || strings.Count(strings.TrimSpace(string(out)), "\n") > 0 {
		t.Errorf("missing shard: %v %s", err, out)
	}
	if out, err := exec.Command(bin, "import", "hf", src, "--out", m).CombinedOutput(); err == nil || !strings.Contains(string(out), "--force") {
		t.Errorf("existing --out: %v %s", err, out)
	}
}
