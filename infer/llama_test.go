package infer

import (
	"math"
	"testing"

	"tern/gguf"
	"tern/internal/gguftest"
)

// tinyBitnet writes the shared tiny GGUF (gguftest.Tiny: vocab 300, context 64, tied head) of
// architecture arch with ternary matrices of type typ; it returns the path.
func tinyBitnet(t testing.TB, typ gguf.Type, arch string) string {
	t.Helper()
	return tinyBitnetCtx(t, typ, arch, 64)
}

// tinyBitnetCtx is tinyBitnet with a context of ctx positions.
func tinyBitnetCtx(t testing.TB, typ gguf.Type, arch string, ctx int) string {
	t.Helper()
	return gguftest.Tiny{Arch: arch, Type: typ, Vocab: 300, Ctx: ctx}.Write(t)
}

// refLlama is an independent float64 forward of the whole sequence at once (no KV cache), from the
// file's dequantized values. Inputs of the ternary projections are rounded to int8 per vector (absmax,
// 127 levels) as tern's BitLinear semantics say, so what remains is float rounding.
func refLlama(t *testing.T, path string, ids []int) [][]float64 {
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := LlamaConfigOf(f)
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string) []float64 {
		ti, ok := f.Tensor(name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		v, err := ti.Float32()
		if err != nil {
			t.Fatal(err)
		}
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	C, hs := cfg.Hidden, cfg.Hidden/cfg.Heads
	rms := func(x, g []float64) []float64 {
		s := 0.0
		for _, v := range x {
			s += v * v
		}
		r := 1 / math.Sqrt(s/float64(len(x))+float64(cfg.Eps))
		out := make([]float64, len(x))
		for i := range x {
			out[i] = x[i] * r * g[i]
		}
		return out
	}
	mv := func(w, x []float64, n int) []float64 {
		k := len(x)
		amax := 0.0
		for _, v := range x {
			amax = math.Max(amax, math.Abs(v))
		}
		g := 127 / amax
		x = append([]float64(nil), x...)
		for i, v := range x {
			if refNoQuant {
				break
			}
			x[i] = math.RoundToEven(v*g) / g
		}
		out := make([]float64, n)
		for i := range n {
			for j := range k {
				out[i] += w[i*k+j] * x[j]
			}
		}
		return out
	}
	rope := func(v []float64, p int) {
		for h := 0; h < len(v)/hs; h++ {
			for i := range hs / 2 {
				a, b := h*hs+2*i, h*hs+2*i+1
				if cfg.RopeNeox {
					a, b = h*hs+i, h*hs+i+hs/2
				}
				th := float64(p) * math.Pow(cfg.RopeBase, -2*float64(i)/float64(hs))
				x0, x1 := v[a], v[b]
				v[a], v[b] = x0*math.Cos(th)-x1*math.Sin(th), x0*math.Sin(th)+x1*math.Cos(th)
			}
		}
	}
	emb := get(gguf.NameTokenEmbd)
	T := len(ids)
	xs := make([][]float64, T)
	for p, id := range ids {
		xs[p] = append([]float64(nil), emb[id*C:(id+1)*C]...)
	}
	for l := range cfg.Layers {
		n := gguf.LlamaBlockNames(l)
		ks, vs, qs := make([][]float64, T), make([][]float64, T), make([][]float64, T)
		for p := range T {
			h := rms(xs[p], get(n.AttnNorm))
			qs[p], ks[p], vs[p] = mv(get(n.Q), h, C), mv(get(n.K), h, cfg.KVHeads*hs), mv(get(n.V), h, cfg.KVHeads*hs)
			rope(qs[p], p)
			rope(ks[p], p)
		}
		for p := range T {
			att := make([]float64, C)
			for h := range cfg.Heads {
				kv := h / (cfg.Heads / cfg.KVHeads)
				sc := make([]float64, p+1)
				mx := math.Inf(-1)
				for j := 0; j <= p; j++ {
					for i := range hs {
						sc[j] += qs[p][h*hs+i] * ks[j][kv*hs+i]
					}
					sc[j] /= math.Sqrt(float64(hs))
					mx = math.Max(mx, sc[j])
				}
				sum := 0.0
				for j := range sc {
					sc[j] = math.Exp(sc[j] - mx)
					sum += sc[j]
				}
				for j := range sc {
					for i := range hs {
						att[h*hs+i] += sc[j] / sum * vs[j][kv*hs+i]
					}
				}
			}
			if cfg.SubNorms {
				att = rms(att, get(n.AttnSubNorm))
			}
			o := mv(get(n.O), att, C)
			for i := range o {
				xs[p][i] += o[i]
			}
			h := rms(xs[p], get(n.FFNNorm))
			g, u := mv(get(n.Gate), h, cfg.FFN), mv(get(n.Up), h, cfg.FFN)
			for i := range g {
				g[i] = g[i] / (1 + math.Exp(-g[i])) * u[i]
			}
			if cfg.SubNorms {
				g = rms(g, get(n.FFNSubNorm))
			}
			d := mv(get(n.Down), g, C)
			for i := range d {
				xs[p][i] += d[i]
			}
		}
	}
	out := make([][]float64, T)
	for p := range T {
		out[p] = make([]float64, cfg.Vocab)
		h := rms(xs[p], get(gguf.NameOutputNorm))
		for i := range cfg.Vocab {
			for j := range C {
				out[p][i] += emb[i*C+j] * h[j]
			}
		}
	}
	return out
}

// refNoQuant turns refLlama's int8 activation rounding off (exact float64 arithmetic).
var refNoQuant bool

// TestLlamaMatchesReference: the GGUF decoder (trit5 GEMVs with int8 activations, KV cache, RoPE, GQA,
// sub-norms) against a plain float64 forward of the same file with the same int8 activation rounding;
// max |Δlogit| stays under 1e-5 of the logits' range (measured: at most 1.4e-7, float rounding; wrong
// RoPE pairs move logits by 1-6% of it).
func TestLlamaMatchesReference(t *testing.T) {
	ids := []int{5, 17, 299, 0, 42, 42, 7, 150}
	for _, arch := range []string{"bitnet", "llama"} {
		for _, typ := range []gguf.Type{gguf.TQ2_0, gguf.TQ1_0, gguf.I2_S} {
			t.Run(arch+"-"+typ.String(), func(t *testing.T) {
				path := tinyBitnet(t, typ, arch)
				m, err := LoadGGUF(path, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				if m.Converted != 14 {
					t.Fatalf("%d matrices converted to trit5, want 14", m.Converted)
				}
				ref := refLlama(t, path, ids)
				for p, id := range ids {
					lg, err := m.Step(id)
					if err != nil {
						t.Fatal(err)
					}
					lo, hi, worst := math.Inf(1), math.Inf(-1), 0.0
					for i, r := range ref[p] {
						lo, hi = math.Min(lo, r), math.Max(hi, r)
						worst = math.Max(worst, math.Abs(float64(lg[i])-r))
					}
					if worst > 1e-5*(hi-lo) {
						t.Fatalf("position %d: max |Δlogit| %.4g, logits span %.4g", p, worst, hi-lo)
					}
				}
			})
		}
	}
}
