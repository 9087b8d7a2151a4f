package model

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tern/format"
	"tern/tensor"
)

// hfCheckpoint is a synthetic Hugging Face checkpoint following a real layout exactly: the names
// and shapes transformers' LlamaForCausalLM / BitNetForCausalLM save (spelled out here by hand, not
// taken from names.go), random values exact in their dtype.
type hfCheckpoint struct {
	config map[string]any
	ts     []format.Tensor
	vals   map[string][]float64 // by HF name
}

// bitnetConfig is microsoft/bitnet-b1.58-2B-4T-bf16's config.json with small shapes.
func bitnetConfig() map[string]any {
	return map[string]any{
		"architectures": []string{"BitNetForCausalLM"}, "attention_bias": false, "attention_dropout": 0.0,
		"bos_token_id": 128000, "eos_token_id": 128001, "hidden_act": "relu2", "hidden_size": 64,
		"initializer_range": 0.02, "intermediate_size": 96, "max_position_embeddings": 4096,
		"model_type": "bitnet", "num_attention_heads": 4, "num_hidden_layers": 2, "num_key_value_heads": 2,
		"rms_norm_eps": 1e-05, "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
		"use_cache": true, "vocab_size": 300,
	}
}

// llamaConfig is a LlamaForCausalLM config.json (Llama-3 style keys) with small shapes, untied.
func llamaConfig() map[string]any {
	return map[string]any{
		"architectures": []string{"LlamaForCausalLM"}, "attention_bias": false, "attention_dropout": 0.0,
		"bos_token_id": 128000, "eos_token_id": 128001, "head_dim": 16, "hidden_act": "silu", "hidden_size": 64,
		"initializer_range": 0.02, "intermediate_size": 160, "max_position_embeddings": 8192, "mlp_bias": false,
		"model_type": "llama", "num_attention_heads": 4, "num_hidden_layers": 2, "num_key_value_heads": 1,
		"pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": nil, "rope_theta": 500000.0,
		"tie_word_embeddings": false, "torch_dtype": "float16", "use_cache": true, "vocab_size": 300,
	}
}

func makeHF(t *testing.T, cfg map[string]any, matrix, norm format.DType, seed uint64) hfCheckpoint {
	t.Helper()
	num := func(k string) int { return int(cfg[k].(int)) }
	C, F, L, H, KV, V := num("hidden_size"), num("intermediate_size"), num("num_hidden_layers"), num("num_attention_heads"), num("num_key_value_heads"), num("vocab_size")
	kv := KV * C / H
	bitnet := cfg["model_type"] == "bitnet"
	rng := tensor.NewRNG(seed)
	h := hfCheckpoint{config: cfg, vals: map[string][]float64{}}
	add := func(name string, dt format.DType, mean float32, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		rng.FillNormal(v, 0.08)
		for i := range v {
			v[i] += mean
		}
		var tn format.Tensor
		switch dt {
		case format.BF16:
			tn = format.BF16Tensor(name, shape, v)
		case format.F16:
			tn = format.F16Tensor(name, shape, v)
		default:
			tn = format.F32Tensor(name, shape, v)
		}
		back, err := tn.Float32() // the values as stored
		if err != nil {
			t.Fatal(err)
		}
		f := make([]float64, n)
		for i := range back {
			f[i] = float64(back[i])
		}
		h.vals[name] = f
		h.ts = append(h.ts, tn)
	}
	add("model.embed_tokens.weight", matrix, 0, V, C)
	for l := range L {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", norm, 1, C)
		add(p+"self_attn.q_proj.weight", matrix, 0, C, C)
		add(p+"self_attn.k_proj.weight", matrix, 0, kv, C)
		add(p+"self_attn.v_proj.weight", matrix, 0, kv, C)
		add(p+"self_attn.o_proj.weight", matrix, 0, C, C)
		add(p+"post_attention_layernorm.weight", norm, 1, C)
		add(p+"mlp.gate_proj.weight", matrix, 0, F, C)
		add(p+"mlp.up_proj.weight", matrix, 0, F, C)
		add(p+"mlp.down_proj.weight", matrix, 0, C, F)
		if bitnet {
			add(p+"self_attn.attn_sub_norm.weight", norm, 1, C)
			add(p+"mlp.ffn_sub_norm.weight", norm, 1, F)
		}
	}
	add("model.norm.weight", norm, 1, C)
	if tie, _ := cfg["tie_word_embeddings"].(bool); !tie {
		add("lm_head.weight", matrix, 0, V, C)
	}
	return h
}

// write saves the checkpoint into a folder (sharded when shard > 0) and returns it.
func (h hfCheckpoint) write(t *testing.T, shard int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := format.WriteCheckpoint(dir, map[string]string{"format": "pt"}, h.ts, shard); err != nil {
		t.Fatal(err)
	}
	js, _ := json.MarshalIndent(h.config, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "config.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func importDir(t *testing.T, dir string, linear Linear) (LM, map[string]string, error) {
	t.Helper()
	js, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	ck, err := format.OpenCheckpoint(dir)
	if err != nil {
		return nil, nil, err
	}
	return ImportHF(js, filepath.Join(dir, "config.json"), ck, linear)
}

// refHF is an independent float64 forward of the checkpoint as transformers computes it in full
// precision: RMSNorm (x / sqrt(mean x² + eps) · w), RoPE on (i, i+hs/2) pairs with inv_freq
// theta^(-2i/hs), causal GQA (query head h reads KV head h / (H/KV)), SiLU or ReLU² gated FFN, and for
// BitNet the sub-norms before o_proj and down_proj. ids is one sequence; it returns (T, V) logits.
func (h hfCheckpoint) refHF(ids []int) [][]float64 {
	cfg := h.config
	num := func(k string) int { return int(cfg[k].(int)) }
	C, F, L, H, KV, V := num("hidden_size"), num("intermediate_size"), num("num_hidden_layers"), num("num_attention_heads"), num("num_key_value_heads"), num("vocab_size")
	eps, theta := cfg["rms_norm_eps"].(float64), cfg["rope_theta"].(float64)
	hs, T := C/H, len(ids)
	bitnet := cfg["model_type"] == "bitnet"
	w := h.vals
	rms := func(x, g []float64) []float64 {
		var ss float64
		for _, v := range x {
			ss += v * v
		}
		r := 1 / math.Sqrt(ss/float64(len(x))+eps)
		out := make([]float64, len(x))
		for i := range x {
			out[i] = x[i] * r * g[i]
		}
		return out
	}
	mv := func(m []float64, rows int, x []float64) []float64 { // (rows, len(x)) · x
		out := make([]float64, rows)
		for r := range rows {
			for c, v := range x {
				out[r] += m[r*len(x)+c] * v
			}
		}
		return out
	}
	rope := func(x []float64, pos int) {
		for hd := 0; hd < len(x)/hs; hd++ {
			for i := 0; i < hs/2; i++ {
				f := float64(pos) * math.Pow(theta, -2*float64(i)/float64(hs))
				a, b := x[hd*hs+i], x[hd*hs+i+hs/2]
				x[hd*hs+i], x[hd*hs+i+hs/2] = a*math.Cos(f)-b*math.Sin(f), b*math.Cos(f)+a*math.Sin(f)
			}
		}
	}
	x := make([][]float64, T)
	for t, id := range ids {
		x[t] = append([]float64{}, w["model.embed_tokens.weight"][id*C:(id+1)*C]...)
	}
	for l := range L {
		p := fmt.Sprintf("model.layers.%d.", l)
		q, k, v := make([][]float64, T), make([][]float64, T), make([][]float64, T)
		for t := range T {
			hn := rms(x[t], w[p+"input_layernorm.weight"])
			q[t], k[t], v[t] = mv(w[p+"self_attn.q_proj.weight"], C, hn), mv(w[p+"self_attn.k_proj.weight"], KV*hs, hn), mv(w[p+"self_attn.v_proj.weight"], KV*hs, hn)
			rope(q[t], t)
			rope(k[t], t)
		}
		for t := range T {
			att := make([]float64, C)
			for hd := range H {
				g := hd / (H / KV)
				sc := make([]float64, t+1)
				mx := math.Inf(-1)
				for s := 0; s <= t; s++ {
					for i := range hs {
						sc[s] += q[t][hd*hs+i] * k[s][g*hs+i]
					}
					sc[s] /= math.Sqrt(float64(hs))
					mx = math.Max(mx, sc[s])
				}
				var z float64
				for s := range sc {
					sc[s] = math.Exp(sc[s] - mx)
					z += sc[s]
				}
				for s := range sc {
					for i := range hs {
						att[hd*hs+i] += sc[s] / z * v[s][g*hs+i]
					}
				}
			}
			if bitnet {
				att = rms(att, w[p+"self_attn.attn_sub_norm.weight"])
			}
			o := mv(w[p+"self_attn.o_proj.weight"], C, att)
			for i := range o {
				x[t][i] += o[i]
			}
		}
		for t := range T {
			hn := rms(x[t], w[p+"post_attention_layernorm.weight"])
			gate, up := mv(w[p+"mlp.gate_proj.weight"], F, hn), mv(w[p+"mlp.up_proj.weight"], F, hn)
			act := make([]float64, F)
			for i := range act {
				if bitnet {
					r := math.Max(gate[i], 0)
					act[i] = r * r * up[i]
				} else {
					act[i] = gate[i] / (1 + math.Exp(-gate[i])) * up[i]
				}
			}
			if bitnet {
				act = rms(act, w[p+"mlp.ffn_sub_norm.weight"])
			}
			d := mv(w[p+"mlp.down_proj.weight"], C, act)
			for i := range d {
				x[t][i] += d[i]
			}
		}
	}
	head := w["lm_head.weight"]
	if head == nil {
		head = w["model.embed_tokens.weight"]
	}
	out := make([][]float64, T)
	for t := range T {
		out[t] = mv(head, V, rms(x[t], w["model.norm.weight"]))
	}
	return out
}

// TestImportHF imports a BitNet 2B4T-layout checkpoint (BF16, tied, one file) and a Llama one (F16
// matrices, F32 norms, untied, sharded) with fp32 projections, and compares tern's logits with the
// independent float64 forward of the files: names, shapes, RoPE pairing, GQA grouping, sub-norms and
// the activations all have to match Hugging Face's layout for this to hold.
func TestImportHF(t *testing.T) {
	ids := []int{3, 250, 17, 42, 299, 0, 128, 7}
	for _, c := range []struct {
		name  string
		h     hfCheckpoint
		shard int64
	}{
		{"bitnet-2b4t layout", makeHF(t, bitnetConfig(), format.BF16, format.BF16, 1), 0},
		{"llama layout, sharded", makeHF(t, llamaConfig(), format.F16, format.F32, 2), 40000},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := c.h.write(t, c.shard)
			if c.shard > 0 {
				if _, err := os.Stat(filepath.Join(dir, format.IndexName)); err != nil {
					t.Fatal("not sharded:", err)
				}
			}
			lm, meta, err := importDir(t, dir, LinearFP32)
			if err != nil {
				t.Fatal(err)
			}
			in := make([]int32, len(ids))
			for i, id := range ids {
				in[i] = int32(id)
			}
			logits, err := lm.Forward(in, 1, len(ids))
			if err != nil {
				t.Fatal(err)
			}
			want := c.h.refHF(ids)
			V := lm.Config().Vocab
			var maxd, scale float64
			for tt := range ids {
				for v := range V {
					maxd = math.Max(maxd, math.Abs(float64(logits[tt*V+v])-want[tt][v]))
					scale = math.Max(scale, math.Abs(want[tt][v]))
				}
			}
			t.Logf("max |Δlogit| %.3g (largest logit %.3g)", maxd, scale)
			if maxd > 1e-4*math.Max(1, scale) {
				t.Errorf("logits differ from the float64 Hugging Face forward by %.3g", maxd)
			}
			if meta[MetaHFConfig] == "" || !strings.Contains(meta[MetaHFDTypes], "model.norm.weight") {
				t.Errorf("metadata %v", meta)
			}
			// The architecture's own projections: BitLinear for BitNet, fp32 for Llama.
			lm2, _, err := importDir(t, dir, "")
			if err != nil {
				t.Fatal(err)
			}
			want2 := LinearFP32
			if c.h.config["model_type"] == "bitnet" {
				want2 = LinearBitNet
			}
			if got := lm2.Config().Linear; got != want2 {
				t.Errorf("default linear %q, want %q", got, want2)
			}
		})
	}
}

// TestHFRoundTrip: import -> export gives the same tensor names, dtypes and bytes, and the same
// config.json, for both layouts.
func TestHFRoundTrip(t *testing.T) {
	for _, h := range []hfCheckpoint{makeHF(t, bitnetConfig(), format.BF16, format.BF16, 3), makeHF(t, llamaConfig(), format.F16, format.F32, 4)} {
		dir := h.write(t, 0)
		lm, meta, err := importDir(t, dir, "")
		if err != nil {
			t.Fatal(err)
		}
		var dtypes map[string]string
		json.Unmarshal([]byte(meta[MetaHFDTypes]), &dtypes)
		ts, js, err := ExportHF(lm, meta[MetaHFConfig], dtypes, format.BF16)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != len(h.ts) {
			t.Fatalf("%d tensors exported, %d imported", len(ts), len(h.ts))
		}
		byName := map[string]format.Tensor{}
		for _, tn := range ts {
			byName[tn.Name] = tn
		}
		for _, want := range h.ts {
			got, ok := byName[want.Name]
			if !ok || got.DType != want.DType || fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) || string(got.Data) != string(want.Data) {
				t.Errorf("%s: exported %v %v (found %t), imported %v %v, bytes equal %t", want.Name, got.DType, got.Shape, ok, want.DType, want.Shape, string(got.Data) == string(want.Data))
			}
		}
		var a, b map[string]any
		src, _ := json.Marshal(h.config)
		json.Unmarshal(src, &a)
		json.Unmarshal(js, &b)
		if ja, jb := fmt.Sprint(a), fmt.Sprint(b); ja != jb {
			t.Errorf("config.json changed:\n in %s\nout %s", ja, jb)
		}
	}
}

// TestImportHFErrors: what tern does not model, and checkpoints that do not match their config, are
// refused naming the key or the file and tensor.
func TestImportHFErrors(t *testing.T) {
	edit := func(base func() map[string]any, k string, v any) map[string]any {
		c := base()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	for _, c := range []struct {
		name string
		cfg  map[string]any
		ts   func(ts []format.Tensor) []format.Tensor
		want []string
	}{
		{"rope scaling", edit(llamaConfig, "rope_scaling", map[string]any{"rope_type": "llama3", "factor": 8.0}), nil, []string{"rope_scaling", "llama3"}},
		{"other architecture", edit(llamaConfig, "architectures", []string{"MistralForCausalLM"}), nil, []string{"MistralForCausalLM"}},
		{"activation", edit(llamaConfig, "hidden_act", "gelu"), nil, []string{"hidden_act", "gelu"}},
		{"biases", edit(llamaConfig, "attention_bias", true), nil, []string{"attention_bias"}},
		{"head_dim", edit(llamaConfig, "head_dim", 32), nil, []string{"head_dim 32"}},
		{"missing tensor", bitnetConfig(), func(ts []format.Tensor) []format.Tensor { return ts[1:] }, []string{`"model.embed_tokens.weight"`}},
		{"wrong shape", edit(bitnetConfig, "intermediate_size", 100), nil, []string{"model.safetensors", "mlp.gate_proj.weight", "[96 64]", "[100 64]"}},
		{"head while tied", bitnetConfig(), func(ts []format.Tensor) []format.Tensor {
			return append(ts, format.BF16Tensor("lm_head.weight", []int{300, 64}, make([]float32, 300*64)))
		}, []string{`"lm_head.weight"`, "tie_word_embeddings"}},
		{"int8 tensor", bitnetConfig(), func(ts []format.Tensor) []format.Tensor {
			ts[0] = format.I8Tensor(ts[0].Name, ts[0].Shape, make([]int8, 300*64))
			return ts
		}, []string{`"model.embed_tokens.weight"`, "I8"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := bitnetConfig()
			if c.cfg["model_type"] == "llama" {
				base = llamaConfig()
			}
			h := makeHF(t, base, format.BF16, format.BF16, 5)
			h.config = c.cfg
			if c.ts != nil {
				h.ts = c.ts(h.ts)
			}
			_, _, err := importDir(t, h.write(t, 0), "")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
