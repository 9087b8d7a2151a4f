package infer

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tern/format"
	"tern/model"
	"tern/share"
	"tern/tensor"
	"tern/train"
)

// trainedTiny trains a tiny BitLinear model for a few steps on embedded Tiny Shakespeare.
func trainedTiny(t *testing.T, mutate func(*model.Config)) (*train.Run, string) {
	t.Helper()
	dir := t.TempDir()
	mc, _ := model.Preset("tiny")
	mc.Hidden, mc.Layers, mc.Heads, mc.FFN, mc.MaxPos = 32, 2, 2, 64, 48
	if mutate != nil {
		mutate(&mc)
	}
	tc := train.Defaults()
	tc.Out, tc.Steps, tc.Batch, tc.Seq, tc.Warmup, tc.EvalEvery, tc.EvalBatches = dir, 30, 4, 32, 2, 0, 1
	r, err := train.NewRun(tc, mc, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r, dir
}

// TestPackedParity: the packed decoder (trit5 weights, KV cache, GEMV) reproduces the training forward's
// logits at every position and the same greedy tokens. With an int8 token table the reference is the
// training forward of the model read back from the packed file (model.LoadPacked), whose table holds
// the same int8·scale values the decoder multiplies.
func TestPackedParity(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pf     model.PackFormat
		tol    float64
		mutate func(*model.Config)
	}{
		{"f32", model.PackFormat{Float: format.F32}, 2e-3, nil},
		{"f32-rmsnorm-bias-untied", model.PackFormat{Float: format.F32}, 2e-3, func(c *model.Config) { c.Norm, c.Bias, c.TieEmbeddings = "rmsnorm", true, false }},
		{"f16", model.PackFormat{Float: format.F16}, 5e-2, nil},
		{"f32-table-int8", model.PackFormat{Float: format.F32, Table: format.I8}, 2e-3, nil},
		{"f32-table-int8-untied", model.PackFormat{Float: format.F32, Table: format.I8}, 2e-3, func(c *model.Config) { c.TieEmbeddings = false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, dir := trainedTiny(t, tc.mutate)
			path := filepath.Join(dir, "m.tern")
			st, err := Pack(path, r.Model, r.Tok.Spec(), tc.pf)
			if err != nil {
				t.Fatal(err)
			}
			ref := r.Model
			if tc.pf.Table == format.I8 {
				if ref, _, err = model.LoadPacked(path); err != nil {
					t.Fatal(err)
				}
			}
			// each row of K trits takes ceil(K/5) bytes, plus one fp32 scale per matrix: derive it by hand
			C, F, L := 32, 64, 2
			wantBytes := L * (3*C*((C+4)/5) + C*((C+4)/5) + F*((C+4)/5) + C*((F+4)/5) + 4*4)
			if st.TernaryBytes != wantBytes || st.TernaryWeights != L*(3*C*C+C*C+2*C*F) {
				t.Errorf("ternary part: %d weights in %d bytes, want %d in %d", st.TernaryWeights, st.TernaryBytes, L*(3*C*C+C*C+2*C*F), wantBytes)
			}
			pm, err := LoadPacked(path)
			if err != nil {
				t.Fatal(err)
			}
			defer pm.Close()
			for _, kv := range []format.DType{format.F32, format.F16} {
				if err := pm.SetKV(kv); err != nil {
					t.Fatal(err)
				}
				// Keys and values rounded to F16 stay within the same tolerance (measured: 1.5e-4 to
				// 3.4e-4 with fp32 weights, against 2.4e-7 with an fp32 cache).
				packedParity(t, r, ref, pm, tc.tol, tc.pf.Float == format.F32 && kv == format.F32)
			}
		})
	}
}

// packedParity compares pm's logits at every position of a text with ref's training forward, and
// (when exact) the greedy continuations.
func packedParity(t *testing.T, r *train.Run, ref model.LM, pm *Packed, tol float64, exact bool) {
	t.Helper()
	pm.Reset()
	V := r.Model.Config().Vocab
	ids := r.Tok.Encode32("ROMEO:\nWhat light through yonder window breaks?")[:40]
	full, err := ref.Forward(ids, 1, len(ids))
	if err != nil {
		t.Fatal(err)
	}
	full = append([]float32(nil), full...)
	worst := 0.0
	for p, id := range ids {
		got, err := pm.Step(int(id))
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < V; j++ {
			worst = math.Max(worst, math.Abs(float64(got[j]-full[p*V+j])))
		}
	}
	t.Logf("KV %s: max |logit difference| %.3g", pm.KV(), worst)
	if worst > tol {
		t.Errorf("KV %s: max |logit difference| %.3g > %.3g", pm.KV(), worst, tol)
	}
	// greedy continuation, both paths
	prompt := make([]int, 8)
	for i := range prompt {
		prompt[i] = int(ids[i])
	}
	want, err := Generate(context.Background(), ref, prompt, 30, NewSampler(Sampling{}, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	pm.Reset()
	got, err := GeneratePacked(context.Background(), pm, prompt, 30, NewSampler(Sampling{}, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if exact && !slices.Equal(got, want) {
		t.Errorf("greedy tokens differ:\npacked   %v\ntraining %v", got, want)
	}
}

func TestPackedBadFiles(t *testing.T) {
	r, dir := trainedTiny(t, nil)
	path := filepath.Join(dir, "m.tern")
	if _, err := Pack(path, r.Model, r.Tok.Spec(), model.PackFormat{}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	cases := map[string][]byte{
		"truncated":    b[:len(b)-100],
		"flipped byte": func() []byte { c := append([]byte(nil), b...); c[len(c)-50] ^= 1; return c }(),
		"empty":        {},
	}
	for name, data := range cases {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		os.WriteFile(p, data, 0o644)
		if _, err := LoadPacked(p); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	// a training model file is not a packed file
	if _, err := LoadPacked(filepath.Join(dir, train.ModelName)); err == nil || !strings.Contains(err.Error(), "tern pack") {
		t.Errorf("model file as packed: err = %v", err)
	}
}

func TestSetKV(t *testing.T) {
	cfg, _ := model.Preset("tiny")
	cfg.Hidden, cfg.FFN, cfg.Heads, cfg.Layers, cfg.MaxPos = 32, 64, 2, 1, 8
	m, err := RandomPacked(cfg, 1, format.F16)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetKV(format.BF16); err == nil {
		t.Error("BF16 KV cache accepted")
	}
	for _, kv := range []format.DType{format.F32, format.F16} {
		if err := m.SetKV(kv); err != nil || m.KV() != kv {
			t.Fatalf("SetKV(%s): %v, KV() = %s", kv, err, m.KV())
		}
		for i := 0; i < cfg.MaxPos; i++ {
			if _, err := m.Step(i % cfg.Vocab); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := m.Step(0); err == nil || !strings.Contains(err.Error(), "context full") {
			t.Errorf("KV %s: step past the context: %v", kv, err)
		}
	}
}

// TestPrefill: prefilling a prompt gives the logits of stepping through it token by token, bit for bit
// with an fp32 or an F16 cache, and decoding on from either cache gives the same greedy tokens; a
// non-empty cache or a bad token is refused.
func TestPrefill(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*model.Config)
	}{
		{"layernorm-tied", nil},
		{"rmsnorm-bias-untied", func(c *model.Config) { c.Norm, c.Bias, c.TieEmbeddings = "rmsnorm", true, false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, dir := trainedTiny(t, tc.mutate)
			path := filepath.Join(dir, "m.tern")
			if _, err := Pack(path, r.Model, r.Tok.Spec(), model.PackFormat{Float: format.F32}); err != nil {
				t.Fatal(err)
			}
			pm, err := LoadPacked(path)
			if err != nil {
				t.Fatal(err)
			}
			defer pm.Close()
			ids32 := r.Tok.Encode32("ROMEO:\nWhat light through yonder window breaks? It is the east, and Juliet is the sun.")[:40] // >= prefillMin; the context is 48
			ids := make([]int, len(ids32))
			for i, v := range ids32 {
				ids[i] = int(v)
			}
			for _, kv := range []format.DType{format.F32, format.F16} {
				if err := pm.SetKV(kv); err != nil {
					t.Fatal(err)
				}
				var stepped []float32
				for _, id := range ids {
					l, err := pm.Step(id)
					if err != nil {
						t.Fatal(err)
					}
					stepped = l
				}
				stepped = append([]float32(nil), stepped...)
				pm.Reset()
				pre, err := pm.Prefill(ids)
				if err != nil {
					t.Fatal(err)
				}
				worst := 0.0
				for j, v := range pre {
					worst = math.Max(worst, math.Abs(float64(v-stepped[j])))
				}
				t.Logf("KV %s: prefill vs steps, max |logit difference| %.3g", kv, worst)
				// the same linear products; attention sums each dot over the head's columns in the same
				// order in the GEMM as in the GEMV (fp32) or is Step's kernel (F16): bit for bit.
				if tol := 0.0; worst > tol {
					t.Errorf("KV %s: prefill logits differ from stepping by %.3g > %.3g", kv, worst, tol)
				}
				if _, err := pm.Prefill(ids); err == nil || !strings.Contains(err.Error(), "empty KV cache") {
					t.Errorf("prefill into a full cache: %v", err)
				}
				// decoding on: the same greedy tokens from a prefilled and a stepped cache (F32)
				if kv == format.F32 {
					pm.Reset()
					a, err := GeneratePacked(context.Background(), pm, ids, 7, NewSampler(Sampling{}, 1), nil) // prefills
					if err != nil {
						t.Fatal(err)
					}
					pm.Reset()
					for _, id := range ids[:len(ids)-1] {
						pm.Step(id)
					}
					b, err := GeneratePacked(context.Background(), pm, ids[len(ids)-1:], 7, NewSampler(Sampling{}, 1), nil) // steps
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(a[len(ids):], b[1:]) {
						t.Errorf("greedy continuations differ:\nprefilled %v\nstepped   %v", a[len(ids):], b[1:])
					}
				}
				pm.Reset()
			}
			if _, err := pm.Prefill([]int{0, 1 << 20}); err == nil || !strings.Contains(err.Error(), "outside vocabulary") {
				t.Errorf("bad token: %v", err)
			}
		})
	}
}

// TestPackedSharing: packed files of models trained with every cross-layer sharing strategy load and
// decode like the training forward (each shared tensor is stored once, under its owner's name), and a
// file whose stored sharing map disagrees with its config is refused.
func TestPackedSharing(t *testing.T) {
	for _, tc := range []struct {
		spec   string
		untied bool
		norm   model.Norm
	}{
		{"sequential=2", false, ""},
		{"alternate=2", false, ""},
		{"all", false, ""},
		{"attention", false, ""},
		{"ffn", false, ""},
		{"groups=0,2;1,3", false, ""},
		{"alternate=2+norms", false, ""},
		{"all+norms", true, "rmsnorm"},
		{"sequential=2+norms", true, ""},
		{"scope=ffn+groups=0,3", true, ""},
	} {
		name := strings.NewReplacer("=", "", ";", "_", ",", "", "+", "_").Replace(tc.spec)
		if tc.untied {
			name += "-untied"
		}
		t.Run(name, func(t *testing.T) {
			cfg, _ := model.Preset("tiny")
			cfg.Vocab, cfg.Hidden, cfg.Layers, cfg.Heads, cfg.FFN, cfg.MaxPos = 97, 32, 4, 2, 64, 24
			cfg.TieEmbeddings = !tc.untied
			cfg.Bias = tc.untied // biases follow the sharing too
			if tc.norm != "" {
				cfg.Norm = tc.norm
			}
			sp, err := share.Parse(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Sharing = sp
			lm, err := model.New(cfg, tensor.NewRNG(3))
			if err != nil {
				t.Fatal(err)
			}
			if len(model.SharingMap(lm)) <= map[bool]int{true: 0, false: 1}[tc.untied] {
				t.Fatalf("%s shares nothing", tc.spec)
			}
			path := filepath.Join(t.TempDir(), "m.tern")
			if _, err := Pack(path, lm, "", model.PackFormat{Float: format.F32}); err != nil {
				t.Fatal(err)
			}
			pm, err := LoadPacked(path)
			if err != nil {
				t.Fatal(err)
			}
			defer pm.Close()
			if err := pm.SetKV(format.F32); err != nil {
				t.Fatal(err)
			}
			ids := []int32{5, 17, 3, 90, 42, 42, 7, 0, 64, 11, 23, 8}
			full, err := lm.Forward(ids, 1, len(ids))
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for p, id := range ids {
				got, err := pm.Step(int(id))
				if err != nil {
					t.Fatal(err)
				}
				for j, v := range got {
					worst = math.Max(worst, math.Abs(float64(v-full[p*cfg.Vocab+j])))
				}
			}
			if worst > 2e-3 {
				t.Errorf("max |logit difference| from the training forward %.3g > 2e-3", worst)
			}
		})
	}
	// a stored map that is not the config's plan
	cfg, _ := model.Preset("tiny")
	cfg.Vocab, cfg.Hidden, cfg.Layers, cfg.Heads, cfg.FFN, cfg.MaxPos = 97, 32, 2, 2, 64, 24
	plan, _ := share.Spec{}.Plan(2)
	if err := checkSharingMap(`{"blocks.1.ffn.fc.weight":"blocks.0.ffn.fc.weight"}`, plan, cfg); err == nil {
		t.Error("a sharing map the config does not make was accepted")
	}
	cfg.Sharing, _ = share.Parse("all")
	plan, _ = cfg.Sharing.Plan(2)
	if err := checkSharingMap("", plan, cfg); err == nil || !strings.Contains(err.Error(), "no tern.sharing_map") {
		t.Errorf("sharing config without a stored map: %v", err)
	}
	if err := checkSharingMap("{", plan, cfg); err == nil {
		t.Error("a malformed sharing map was accepted")
	}
}
