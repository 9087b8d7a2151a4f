package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"tern/format"
	"tern/gguf"
	"tern/half"
	"tern/infer"
	"tern/internal/testenv"
	"tern/model"
	"tern/tensor"
	"tern/tokenizer"
)

// TestBitnetCppConverter checks tern's bitnet-b1.58 reader and writer against bitnet.cpp's own
// converter (microsoft/BitNet utils/convert-hf-to-gguf-bitnet.py, class BitnetModel, run unmodified by
// scripts/bitnet-cpp-convert.py with llama.cpp v0.4.0's gguf-py; skips without $TERN_BITNET_CPP, the
// llama.cpp reference or torch). A ReLU² BitNet model (2B4T's layout: sub-norms, GQA, tied head) is
// trained briefly by tern, its token table rounded to F16 (the type both writers store it in), and
// exported with `tern export hf --dtype f32`; bitnet.cpp's converter turns that folder into an I2_S GGUF.
//   - Reading: tern decodes bitnet.cpp's file (infer.LoadGGUF) with the logits of its own training
//     forward, teacher-forced over 40 positions, within 1e-3 of the logit range, and the same greedy
//     continuation of 40 tokens on three prompts; `tern info` and `tern generate` run the file, and
//     eval lm's loss over a line equals the training forward's (1e-4), for this file and tern's own.
//   - Writing: `tern export gguf --type i2_s` writes the same tensors (names, types, dims), the same
//     bytes for every norm and the token table, the same trits in every I2_S matrix, and each I2_S
//     scale within 4 ulps of the converter's (which recomputes it from the latent weights as
//     1/(1/mean|W|) in float32 with torch's summation; tern stores its own absmean); every metadata
//     key and value the same ("bitnet-b1.58.*", file type, tokens, token types, merges, BOS/EOS,
//     add_bos_token, the chat template of the model's tokenizer_config.json) but general.name (the
//     converter writes the folder's name) and general.quantization_version (tern writes 2, as
//     llama-quantize does; the converter none).
//   - The same from a BF16 folder (2B4T's published dtype): bitnet.cpp's converter on it, against
//     `tern import hf` of it exported by tern: the same checks.
//   - --outtype f16 against `tern export gguf --type f16`: every value equal (tern's scale and the
//     converter's agree once rounded to F16; the converter's torch.round writes -0 for rounded-away
//     negatives, tern +0), the token table F32 in bitnet.cpp's f16 file (it keeps TOKEN_EMBD F32 unless
//     --quant-embd) and F16 in tern's.
func TestBitnetCppConverter(t *testing.T) {
	conv := testenv.BitnetConverter(t)
	py := testenv.GGUFPython(t, "-c", "import torch")
	if out, err := py.CombinedOutput(); err != nil {
		t.Skipf("python3 with torch: %v\n%s", err, out)
	}
	bin := buildTern(t)
	spec, V := smallBPE(t)
	tok, err := tokenizer.AdapterFromSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("It was the best of times, it was the worst of times, it was the age of wisdom. ", 20)
	enc, err := tok.EncodeChecked(text)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int32, len(enc))
	for i, id := range enc {
		ids[i] = int32(id)
	}
	cfg := model.ArchDefaults(model.Config{Vocab: V, Hidden: 256, Layers: 2, Heads: 4, KVHeads: 2, FFN: 512, MaxPos: 128, TieEmbeddings: true}, model.TypeBitNet)
	cfg.RopeTheta = 500000 // 2B4T's
	lm, err := model.New(cfg, tensor.NewRNG(3))
	if err != nil {
		t.Fatal(err)
	}
	loss := trainBriefly(t, lm, ids, 60)
	for _, p := range lm.Params() {
		if p.Name == model.LlamaTokEmb.Tern {
			for i, v := range p.W {
				p.W[i] = half.F16ToFloat32(half.Float32ToF16(v))
			}
		}
	}
	dir := t.TempDir()
	src, hf := filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "bitnet-hf")
	ref, own := filepath.Join(dir, "bitnet-cpp.gguf"), filepath.Join(dir, "tern.gguf")
	ts, err := model.ParamTensors(lm)
	if err != nil {
		t.Fatal(err)
	}
	meta := model.FileMeta(lm, "model", spec) // as tern import hf keeps a folder's tokenizer_config.json
	meta["tern.hf.tokenizer_config"] = `{"chat_template": "{% for m in messages %}{{ m['role'] | capitalize }}: {{ m['content'] }}<|endoftext|>{% endfor %}", "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "add_bos_token": true}`
	if err := format.Write(src, meta, ts); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) string {
		t.Helper()
		b, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, b)
		}
		return string(b)
	}
	run(bin, "export", "hf", "--model", src, "--out", hf, "--dtype", "f32")
	cmd := testenv.GGUFPython(t, filepath.Join(testenv.ModuleRoot(t), "scripts", "bitnet-cpp-convert.py"), conv, hf, ref, "--outtype", "i2_s", "--pre", "gpt-2")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bitnet.cpp's converter: %v\n%s", err, b)
	}
	if out := run(bin, "export", "gguf", "--model", src, "--out", own, "--type", "i2_s", "--arch", "bitnet-b1.58"); !strings.Contains(out, "bitnet-b1.58") {
		t.Fatalf("export: %s", out)
	}
	t.Logf("trained 60 steps (loss %.3f); bitnet.cpp's file %s", loss, ref)

	// reading bitnet.cpp's file
	m, err := infer.LoadGGUF(ref, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Cfg.Arch != gguf.ArchBitnetB158 || m.Cfg.Act != "relu2" || !m.Cfg.SubNorms || !m.Cfg.RopeNeox || m.Cfg.KVHeads != 2 || m.Cfg.RopeBase != 500000 {
		t.Fatalf("config read from bitnet.cpp's file: %+v", m.Cfg)
	}
	const T = 40
	lo, hi, maxd := math.Inf(1), math.Inf(-1), 0.0
	want, err := lm.Forward(ids[:T], 1, T)
	if err != nil {
		t.Fatal(err)
	}
	for p, id := range ids[:T] {
		got, err := m.Step(int(id))
		if err != nil {
			t.Fatal(err)
		}
		for j, g := range got {
			w := float64(want[p*V+j])
			lo, hi = math.Min(lo, w), math.Max(hi, w)
			maxd = math.Max(maxd, math.Abs(float64(g)-w))
		}
	}
	t.Logf("tern decoding bitnet.cpp's file vs tern's training forward: max |Δlogit| %.3g over a logit range of %.3g", maxd, hi-lo)
	if maxd > 1e-3*(hi-lo) {
		t.Errorf("max |Δlogit| %.3g exceeds 1e-3 of the logit range %.3g", maxd, hi-lo)
	}
	for _, prompt := range []string{"It was the", "the worst of", "wisdom. It"} {
		pe, _ := tok.EncodeChecked(prompt)
		m.Reset()
		got, err := infer.GenerateLlama(t.Context(), m, pe, T, infer.NewSampler(infer.Sampling{}, 1), func(int) bool { return true })
		if err != nil {
			t.Fatal(err)
		}
		seq := make([]int32, len(pe))
		for i, id := range pe {
			seq[i] = int32(id)
		}
		for len(seq) < len(pe)+T {
			lg, err := lm.Forward(seq, 1, len(seq))
			if err != nil {
				t.Fatal(err)
			}
			row := lg[(len(seq)-1)*V : len(seq)*V]
			seq = append(seq, int32(argmax(row)))
		}
		for i := range seq {
			if int(seq[i]) != got[i] {
				t.Fatalf("prompt %q: greedy token %d: bitnet.cpp's file %d, tern's model %d", prompt, i, got[i], seq[i])
			}
		}
		t.Logf("prompt %q: the same %d greedy tokens: %q", prompt, T, tok.Decode(got[len(pe):]))
	}
	if out := run(bin, "info", ref); !strings.Contains(out, gguf.ArchBitnetB158) || !strings.Contains(out, "I2_S") {
		t.Errorf("tern info: %s", out)
	}
	pe, _ := tok.EncodeChecked("It was the")
	m.Reset()
	g, _ := infer.GenerateLlama(t.Context(), m, pe, 12, infer.NewSampler(infer.Sampling{}, 1), func(int) bool { return true })
	if out := run(bin, "generate", "--model", ref, "--prompt", "It was the", "--temperature", "0", "--max-tokens", "12"); !strings.Contains(out, tok.Decode(g[len(pe):])) {
		t.Errorf("tern generate printed %q, want the continuation %q", out, tok.Decode(g[len(pe):]))
	}

	// eval lm over one window: bitnet.cpp's file, tern's file and the training forward
	line := "It was the best of times, it was the worst of times, it was the age of wisdom.\n"
	le, _ := tok.EncodeChecked(line)
	l32 := make([]int32, len(le))
	for i, id := range le {
		l32[i] = int32(id)
	}
	lg, err := lm.Forward(l32, 1, len(l32))
	if err != nil {
		t.Fatal(err)
	}
	nats := 0.0
	for i := 0; i+1 < len(le); i++ {
		row := lg[i*V : (i+1)*V]
		mx := float64(row[argmax(row)])
		sum := 0.0
		for _, v := range row {
			sum += math.Exp(float64(v) - mx)
		}
		nats += mx + math.Log(sum) - float64(row[le[i+1]])
	}
	wantLoss := nats / float64(len(le)-1)
	for _, path := range []string{ref, own} {
		ev, done, err := ggufEvaluator(t.Context(), path, 96, 95, 0)
		if err != nil {
			t.Fatal(err)
		}
		res, err := ev(strings.NewReader(line))
		done()
		if err != nil {
			t.Fatal(err)
		}
		if res.Tokens != int64(len(le)-1) || math.Abs(res.Loss-wantLoss) > 1e-4 {
			t.Errorf("eval lm %s: %d tokens, loss %.6f; the training forward %d tokens, %.6f", filepath.Base(path), res.Tokens, res.Loss, len(le)-1, wantLoss)
		}
	}

	// writing: tern's file against bitnet.cpp's
	compareI2S(t, "f32 folder", ref, own)

	// the same from a BF16 folder (2B4T's published dtype): bitnet.cpp converts it; tern imports it
	// (tern import hf) and exports the imported model
	hf16, ref2, imp, own2 := filepath.Join(dir, "bitnet-hf-bf16"), filepath.Join(dir, "bitnet-cpp-bf16.gguf"), filepath.Join(dir, "imported.safetensors"), filepath.Join(dir, "tern-bf16.gguf")
	run(bin, "export", "hf", "--model", src, "--out", hf16, "--dtype", "bf16")
	cmd = testenv.GGUFPython(t, filepath.Join(testenv.ModuleRoot(t), "scripts", "bitnet-cpp-convert.py"), conv, hf16, ref2, "--outtype", "i2_s", "--pre", "gpt-2")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bitnet.cpp's converter (bf16): %v\n%s", err, b)
	}
	run(bin, "import", "hf", hf16, "--out", imp)
	run(bin, "export", "gguf", "--model", imp, "--out", own2, "--type", "i2_s")
	compareI2S(t, "bf16 folder", ref2, own2)

	// --outtype f16 / --type f16: each projection as its values t·s in F16
	ref16, own16 := filepath.Join(dir, "bitnet-cpp-f16.gguf"), filepath.Join(dir, "tern-f16.gguf")
	cmd = testenv.GGUFPython(t, filepath.Join(testenv.ModuleRoot(t), "scripts", "bitnet-cpp-convert.py"), conv, hf, ref16, "--outtype", "f16", "--pre", "gpt-2")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bitnet.cpp's converter (f16): %v\n%s", err, b)
	}
	run(bin, "export", "gguf", "--model", src, "--out", own16, "--type", "f16")
	a16, err := gguf.Open(ref16)
	if err != nil {
		t.Fatal(err)
	}
	defer a16.Close()
	b16, err := gguf.Open(own16)
	if err != nil {
		t.Fatal(err)
	}
	defer b16.Close()
	values, differing, negZero := 0, 0, 0
	for _, ta := range a16.Tensors {
		tb, ok := b16.Tensor(ta.Name)
		if !ok || !slices.Equal(ta.Dims, tb.Dims) {
			t.Errorf("f16 %s: bitnet.cpp %s %v, tern %v", ta.Name, ta.Type, ta.Dims, ok)
			continue
		}
		if ta.Type != tb.Type {
			t.Logf("f16 %s: bitnet.cpp stores it as %s, tern as %s (values compared)", ta.Name, ta.Type, tb.Type)
		}
		va, err1 := ta.Float32()
		vb, err2 := tb.Float32()
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		for j := range va {
			values++
			if va[j] != vb[j] {
				differing++
			} else if math.Signbit(float64(va[j])) != math.Signbit(float64(vb[j])) {
				negZero++
			}
		}
	}
	t.Logf("f16: %d tensors, %d of %d values differ (%d zeros differ in sign: torch's round gives -0)", len(a16.Tensors), differing, values, negZero)
	if len(a16.Tensors) != len(b16.Tensors) || differing != 0 {
		t.Errorf("f16 files: %d vs %d tensors, %d values differ", len(a16.Tensors), len(b16.Tensors), differing)
	}
}

// compareI2S checks tern's I2_S file own against bitnet.cpp's ref: the same tensors (names, types,
// dims), byte-identical non-ternary tensors, identical trits, scales within 4 ulps (tern's mean is
// summed in float64 and rounded once, torch's in float32, and the converter's 1/(1/m) rounds twice
// more), every metadata key and value the same but general.name and general.quantization_version.
func compareI2S(t *testing.T, what, ref, own string) {
	t.Helper()
	a, err := gguf.Open(ref)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := gguf.Open(own)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	names := func(f *gguf.File) []string {
		var s []string
		for _, ti := range f.Tensors {
			s = append(s, ti.Name)
		}
		slices.Sort(s)
		return s
	}
	if na, nb := names(a), names(b); !slices.Equal(na, nb) {
		t.Fatalf("tensors: bitnet.cpp %v\ntern %v", na, nb)
	}
	var i2s, sameScale int
	worstULP := 0
	for _, ta := range a.Tensors {
		tb, _ := b.Tensor(ta.Name)
		if ta.Type != tb.Type || !slices.Equal(ta.Dims, tb.Dims) {
			t.Errorf("%s: bitnet.cpp %s %v, tern %s %v", ta.Name, ta.Type, ta.Dims, tb.Type, tb.Dims)
			continue
		}
		if ta.Type != gguf.I2_S {
			if !bytes.Equal(ta.Data, tb.Data) {
				t.Errorf("%s (%s): bytes differ", ta.Name, ta.Type)
			}
			continue
		}
		i2s++
		n := len(ta.Data) - 32
		if !bytes.Equal(ta.Data[:n], tb.Data[:n]) {
			ra, _, _ := gguf.DecodeTernary(&ta)
			rb, _, _ := gguf.DecodeTernary(tb)
			diff := 0
			for j := range ra {
				if ra[j] != rb[j] {
					diff++
				}
			}
			t.Errorf("%s: %d of %d trits differ", ta.Name, diff, len(ra))
		}
		sa, sb := binary.LittleEndian.Uint32(ta.Data[n:]), binary.LittleEndian.Uint32(tb.Data[n:])
		u := int(int64(sa) - int64(sb))
		if u < 0 {
			u = -u
		}
		worstULP = max(worstULP, u)
		if u == 0 {
			sameScale++
		}
		if u > 4 || !bytes.Equal(ta.Data[n+4:], tb.Data[n+4:]) {
			t.Errorf("%s: scale %v (bitnet.cpp) vs %v (tern), %d ulps; padding equal %v", ta.Name, math.Float32frombits(sa), math.Float32frombits(sb), u, bytes.Equal(ta.Data[n+4:], tb.Data[n+4:]))
		}
	}
	t.Logf("%s: %d I2_S matrices: trits identical; scale bits identical in %d, at most %d ulps apart", what, i2s, sameScale, worstULP)
	var differ []string
	for _, kv := range a.KV {
		o, ok := b.Lookup(kv.Key)
		switch {
		case ok && reflect.DeepEqual(kv.Value, o.Value) && kv.Type == o.Type:
		case kv.Key == gguf.KeyName:
			differ = append(differ, fmt.Sprintf("%s (bitnet.cpp %v, tern %v)", kv.Key, short(kv.Value), short(o.Value)))
		default:
			t.Errorf("metadata %s: bitnet.cpp %v, tern %v", kv.Key, short(kv.Value), short(o.Value))
		}
	}
	for _, kv := range b.KV {
		if _, ok := a.Lookup(kv.Key); !ok && kv.Key != gguf.KeyQuantVersion {
			t.Errorf("metadata %s only in tern's file (%v)", kv.Key, short(kv.Value))
		} else if !ok {
			differ = append(differ, fmt.Sprintf("%s only in tern's (%v)", kv.Key, short(kv.Value)))
		}
	}
	t.Logf("%s: metadata that differs (not part of the model): %s", what, strings.Join(differ, "; "))
}

func argmax(v []float32) int {
	best := 0
	for j, x := range v {
		if x > v[best] {
			best = j
		}
	}
	return best
}

func short(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return s
}
