package model_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"tern/format"
	"tern/infer"
	"tern/model"
	"tern/nn"
	"tern/share"
	"tern/tensor"
)

// Tiny sizes: C=8, NH=2, F=16, L=4, V=11, MaxPos=16 (bitnet, no bias, layernorm).
const (
	tC, tF, tL, tV, tP = 8, 16, 4, 11, 16
	attnN              = 4 * tC * tC   // QKV (3C, C) + O (C, C)
	ffnN               = 2 * tC * tF   // fc (F, C) + fc2 (C, F)
	normN              = 2 * tC        // gain + bias
	embN               = tV*tC + tP*tC // token + position tables
)

func tinyCfg(sp share.Spec, tied bool) model.Config {
	return model.Config{Type: "transformer", Objective: "causal", Vocab: tV, Hidden: tC, Layers: tL, Heads: 2,
		FFN: tF, MaxPos: tP, Linear: "bitnet", TieEmbeddings: tied, Norm: "layernorm", Sharing: sp}
}

func tinyEncDec(sp share.Spec, dec int) model.Config {
	return model.Config{Type: "encdec", Objective: "seq2seq", Vocab: tV, Hidden: tC, Layers: tL, DecoderLayers: dec,
		Heads: 2, FFN: tF, MaxPos: tP, Linear: "bitnet", TieEmbeddings: true, Norm: "layernorm", Sharing: sp}
}

type strategy struct {
	name   string
	cfg    model.Config
	unique int // derived by hand below
	total  int // as if unshared (head counted even when tied)
}

func strategies() []strategy {
	block := attnN + ffnN + 2*normN
	base := embN + normN                     // embeddings + ln_f
	full := base + tL*block + tV*tC          // unshared, untied
	encV := (tV + 3) * tC                    // seq2seq table: +[MASK], [BOS], [PAD]
	dblock := attnN + attnN + ffnN + 3*normN // self + cross (Q C², KV 2C², O C²) + FFN + 3 norms
	ed := func(dec int) int { return encV + 2*tP*tC + tL*block + normN + dec*dblock + normN }
	edTotal := func(dec int) int { return ed(dec) + encV + tV*tC } // + decoder's copy of the table + head
	return []strategy{
		{"none", tinyCfg(share.Spec{}, false), full, full},
		{"tied", tinyCfg(share.Spec{}, true), full - tV*tC, full},
		// owners 0,0,2,2: two attention+FFN sets, four norm pairs
		{"sequential2", tinyCfg(share.Spec{Layers: "sequential", Interval: 2}, true), base + 2*(attnN+ffnN) + tL*2*normN, full},
		// owners 0,1,0,1
		{"alternate2", tinyCfg(share.Spec{Layers: "alternate", Interval: 2}, true), base + 2*(attnN+ffnN) + tL*2*normN, full},
		{"alternate3", tinyCfg(share.Spec{Layers: "alternate", Interval: 3}, true), base + 3*(attnN+ffnN) + tL*2*normN, full},
		{"all+norms", tinyCfg(share.Spec{Layers: "all", Norms: true}, true), base + block, full},
		{"attention", tinyCfg(share.Spec{Layers: "all", Scope: "attention"}, true), base + attnN + tL*ffnN + tL*2*normN, full},
		{"ffn", tinyCfg(share.Spec{Layers: "all", Scope: "ffn"}, true), base + tL*attnN + ffnN + tL*2*normN, full},
		// {0,3} share with their norms, 1 and 2 unique: three blocks
		{"groups+norms", tinyCfg(share.Spec{Layers: "groups", Groups: share.GroupsOf([][]int{{0, 3}}), Norms: true}, true), base + 3*block, full},
		{"groups-attn", tinyCfg(share.Spec{Layers: "groups", Groups: share.GroupsOf([][]int{{0, 1}, {2, 3}}), Scope: "attention"}, true), base + 2*attnN + tL*ffnN + tL*2*normN, full},
		{"encdec", tinyEncDec(share.Spec{}, 3), ed(3), edTotal(3)},
		// decoder layers 0..2 reuse encoder self-attention and FFN: each saves attnN + ffnN
		{"encdec+decoder", tinyEncDec(share.Spec{Decoder: "all"}, 3), ed(3) - 3*(attnN+ffnN), edTotal(3)},
		{"encdec+decoder[1]+alt2", tinyEncDec(share.Spec{Decoder: "1", Layers: "alternate", Interval: 2}, 3),
			// encoder: 2 sets; decoder: layer 1 -> enc 1, layer 2 -> dec 0, layer 0 own: 1 set of self+ffn
			encV + 2*tP*tC + 2*(attnN+ffnN) + tL*2*normN + normN + 3*(attnN+3*normN) + 1*(attnN+ffnN) + normN, edTotal(3)},
	}
}

func build(t *testing.T, cfg model.Config) model.LM {
	t.Helper()
	lm, err := model.New(cfg, tensor.NewRNG(7))
	if err != nil {
		t.Fatal(err)
	}
	return lm
}

func TestSharingUniqueCounts(t *testing.T) {
	for _, s := range strategies() {
		lm := build(t, s.cfg)
		st := model.Stats(lm)
		if st.Unique != s.unique || st.Total != s.total {
			t.Errorf("%s: unique %d total %d, want %d and %d by hand", s.name, st.Unique, st.Total, s.unique, s.total)
		}
		// the optimizer's list holds each tensor once: its sizes add up to Unique
		n := 0
		for _, p := range nn.Unique(lm.Params()) {
			n += p.Size()
		}
		if n != s.unique {
			t.Errorf("%s: nn.Unique sums to %d, want %d", s.name, n, s.unique)
		}
	}
}

func TestSharingMapOwners(t *testing.T) {
	m := model.SharingMap(build(t, tinyCfg(share.Spec{Layers: "sequential", Interval: 2}, false)))
	if m["blocks.1.attn.qkv.weight"] != "blocks.0.attn.qkv.weight" || m["blocks.3.ffn.fc2.weight"] != "blocks.2.ffn.fc2.weight" {
		t.Errorf("sequential=2 map: %v", m)
	}
	if _, ok := m["blocks.2.attn.qkv.weight"]; ok {
		t.Errorf("sequential=2: layer 2 must own its weights: %v", m)
	}
	m = model.SharingMap(build(t, tinyCfg(share.Spec{Layers: "alternate", Interval: 2}, false)))
	if m["blocks.2.attn.qkv.weight"] != "blocks.0.attn.qkv.weight" || m["blocks.3.ffn.fc.weight"] != "blocks.1.ffn.fc.weight" {
		t.Errorf("alternate=2 map: %v", m)
	}
	if _, ok := m["blocks.1.attn.o.weight"]; ok || m["blocks.2.ln1.weight"] != "" {
		t.Errorf("alternate=2: layer 1 and the norms must stay unique: %v", m)
	}
	m = model.SharingMap(build(t, tinyEncDec(share.Spec{Decoder: "0"}, 2)))
	if m["dec.0.attn.qkv.weight"] != "enc.0.attn.qkv.weight" || m["dec.0.ffn.fc.weight"] != "enc.0.ffn.fc.weight" || m["dec_tok_emb.weight"] != "tok_emb.weight" {
		t.Errorf("decoder=[0] map: %v", m)
	}
	for k := range m {
		if strings.Contains(k, "cross") || strings.HasPrefix(k, "dec.1.") {
			t.Errorf("decoder=[0]: %s must stay unique", k)
		}
	}
}

// TestSavedFileHoldsSharedOnce reads the saved file back and checks that its tensors are exactly the
// unique parameters, each once, and nothing of the slots that borrow weights.
func TestSavedFileHoldsSharedOnce(t *testing.T) {
	dir := t.TempDir()
	for _, s := range strategies() {
		lm := build(t, s.cfg)
		path := filepath.Join(dir, s.name+".safetensors")
		if err := model.Save(path, lm, "char"); err != nil {
			t.Fatal(err)
		}
		f, err := format.Read(path)
		if err != nil {
			t.Fatal(err)
		}
		var elems int
		names := map[string]bool{}
		for _, ts := range f.Tensors {
			if names[ts.Name] {
				t.Errorf("%s: %s stored twice", s.name, ts.Name)
			}
			names[ts.Name] = true
			elems += ts.NumElements()
		}
		if elems != s.unique {
			t.Errorf("%s: file holds %d values, want %d unique", s.name, elems, s.unique)
		}
		for slot := range model.SharingMap(lm) {
			if names[slot] {
				t.Errorf("%s: borrowed slot %s is stored", s.name, slot)
			}
		}
	}
}

// TestSharedGradientIsSumOfUses: with alternate=2 (fp32 projections), layer 2 uses layer 0's weights.
// An unshared model whose layer 2 holds a copy of layer 0's weights computes the same function, so
// the shared gradient must equal its layer-0 plus layer-2 gradients; finite differences confirm the
// shared gradient itself.
func TestSharedGradientIsSumOfUses(t *testing.T) {
	for _, tc := range []struct {
		name             string
		shared, unshared model.Config
		owner, user      string // a tensor name in the unshared model: owner and the slot that borrows it
	}{
		{"alternate", tinyCfg(share.Spec{Layers: "alternate", Interval: 2, Norms: true}, true), tinyCfg(share.Spec{}, true), "blocks.0.attn.qkv.weight", "blocks.2.attn.qkv.weight"},
		{"alternate-ln", tinyCfg(share.Spec{Layers: "alternate", Interval: 2, Norms: true}, true), tinyCfg(share.Spec{}, true), "blocks.0.ln2.weight", "blocks.2.ln2.weight"},
		{"decoder", tinyEncDec(share.Spec{Decoder: "all"}, 2), tinyEncDec(share.Spec{}, 2), "enc.1.ffn.fc.weight", "dec.1.ffn.fc.weight"},
	} {
		tc.shared.Linear, tc.unshared.Linear = "fp32", "fp32"
		tc.shared.Layers, tc.unshared.Layers = 3, 3
		sh, un := build(t, tc.shared), build(t, tc.unshared)
		// copy every unique tensor of the shared model into the slots of the unshared one
		byName := map[string]*nn.Param{}
		unSlots := un.(interface{ SlotNames() []string }).SlotNames()
		for i, p := range un.Params() {
			byName[unSlots[i]] = p
		}
		slots := sh.(interface{ SlotNames() []string }).SlotNames()
		for i, p := range sh.Params() {
			copy(byName[slots[i]].W, p.W)
		}
		var ids []int32
		b, T := 2, 7
		if tc.shared.Type == "encdec" {
			for r := 0; r < b; r++ {
				ids = append(ids, int32(r+1), 3, 4, int32(tc.shared.PadID()), int32(tc.shared.BOSID()), 5, int32(r+6))
			}
		} else {
			for i := 0; i < b*T; i++ {
				ids = append(ids, int32((i*7+3)%tV))
			}
		}
		R := make([]float32, b*T*tV)
		tensor.NewRNG(3).FillNormal(R, 1)
		loss := func(lm model.LM) float64 { // sum(logits · R)
			lg, err := lm.Forward(ids, b, T)
			if err != nil {
				t.Fatal(err)
			}
			var s float64
			for i, v := range lg {
				s += float64(v) * float64(R[i])
			}
			return s
		}
		grads := func(lm model.LM) {
			for _, p := range nn.Unique(lm.Params()) {
				p.ZeroGrad()
			}
			loss(lm)
			lm.Backward(append([]float32(nil), R...))
		}
		grads(sh)
		grads(un)
		var shared *nn.Param
		for _, p := range sh.Params() {
			if p.Name == tc.owner {
				shared = p
			}
		}
		o, u := byName[tc.owner], byName[tc.user]
		for i := range shared.G {
			want := o.G[i] + u.G[i]
			if d := math.Abs(float64(shared.G[i] - want)); d > 1e-4*(1+math.Abs(float64(want))) {
				t.Fatalf("%s: grad[%d] = %g, owner+user = %g + %g", tc.name, i, shared.G[i], o.G[i], u.G[i])
			}
		}
		if nonzero(u.G) == 0 || nonzero(o.G) == 0 {
			t.Fatalf("%s: a use has zero gradient: the test would prove nothing", tc.name)
		}
		for _, i := range []int{0, 5, len(shared.W) / 2, len(shared.W) - 1} {
			const h = 1e-2
			w := shared.W[i]
			shared.W[i] = w + h
			lp := loss(sh)
			shared.W[i] = w - h
			lm := loss(sh)
			shared.W[i] = w
			fd := (lp - lm) / (2 * h)
			if math.Abs(fd-float64(shared.G[i])) > 2e-2*(1+math.Abs(fd)) {
				t.Errorf("%s: grad[%d] = %g, finite difference %g", tc.name, i, shared.G[i], fd)
			}
		}
	}
}

func nonzero(x []float32) int {
	n := 0
	for _, v := range x {
		if v != 0 {
			n++
		}
	}
	return n
}

// TestRoundTrip: save/load gives identical logits and generations, pack/load-packed gives the same
// ternary weights (re-packing is byte-identical) and close logits, for every strategy.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, s := range strategies() {
		lm := build(t, s.cfg)
		path := filepath.Join(dir, s.name+".safetensors")
		if err := model.Save(path, lm, "char"); err != nil {
			t.Fatal(err)
		}
		back, tok, err := model.Load(path)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if tok != "char" || model.Stats(back) != model.Stats(lm) {
			t.Errorf("%s: reloaded stats %+v, want %+v", s.name, model.Stats(back), model.Stats(lm))
		}
		a, b := gen(t, lm), gen(t, back)
		if a != b {
			t.Errorf("%s: generation after load %q, before %q", s.name, b, a)
		}
		ppath := filepath.Join(dir, s.name+".packed.safetensors")
		size, err := model.WritePacked(ppath, lm, "char")
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(ppath)
		if fi.Size() != size {
			t.Errorf("%s: WritePacked reports %d bytes, file has %d", s.name, size, fi.Size())
		}
		pk, _, err := model.LoadPacked(ppath)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		ppath2 := filepath.Join(dir, s.name+".packed2.safetensors")
		if _, err := model.WritePacked(ppath2, pk, "char"); err != nil {
			t.Fatal(err)
		}
		samePacked(t, s.name, ppath, ppath2)
		l1, l2 := logits(t, lm), logits(t, pk)
		for i := range l1 {
			if math.Abs(float64(l1[i]-l2[i])) > 2e-2 {
				t.Fatalf("%s: packed logit %d = %g, fp32 %g", s.name, i, l2[i], l1[i])
			}
		}
		if gen(t, pk) == "" {
			t.Errorf("%s: packed model generated nothing", s.name)
		}
		// the packed file stores each ternary weight once at 5 trits per byte
		if _, err := model.PackedSize(dir, lm); err != nil {
			t.Fatal(err)
		}
	}
}

// samePacked checks two packed files hold the same tensors: identical packed trits and F16 values,
// scales equal to float rounding (the latent weights rebuilt from trits re-derive the absmean).
func samePacked(t *testing.T, name, p1, p2 string) {
	t.Helper()
	f1, err := format.Read(p1)
	if err != nil {
		t.Fatal(err)
	}
	f2, err := format.Read(p2)
	if err != nil {
		t.Fatal(err)
	}
	if len(f1.Tensors) != len(f2.Tensors) {
		t.Fatalf("%s: %d vs %d tensors", name, len(f1.Tensors), len(f2.Tensors))
	}
	packed := 0
	for _, a := range f1.Tensors {
		b, err := f2.Get(a.Name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.HasSuffix(a.Name, ".scale") {
			x, _ := a.Float32()
			y, _ := b.Float32()
			if math.Abs(float64(x[0]-y[0])) > 1e-6*math.Abs(float64(x[0])) {
				t.Errorf("%s: %s %g vs %g", name, a.Name, x[0], y[0])
			}
			continue
		}
		if a.DType == format.U8 {
			packed++
		}
		if a.DType != b.DType || string(a.Data) != string(b.Data) {
			t.Errorf("%s: tensor %s changed after a packed round trip", name, a.Name)
		}
	}
	if packed == 0 {
		t.Errorf("%s: no packed ternary tensor in %s", name, p1)
	}
}

func inputs(cfg model.Config) ([]int32, int) {
	if cfg.Type == "encdec" {
		return []int32{1, 2, 3, int32(cfg.BOSID()), 4, 5}, 6
	}
	return []int32{1, 2, 3, 4, 5, 6}, 6
}

func logits(t *testing.T, lm model.LM) []float32 {
	ids, T := inputs(lm.Config())
	lg, err := lm.Forward(ids, 1, T)
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), lg...)
}

func gen(t *testing.T, lm model.LM) string {
	greedy := infer.NewSampler(infer.Sampling{}, 1)
	var out []int
	if ed, ok := lm.(*model.EncDec); ok {
		ids, err := ed.Generate(context.Background(), []int32{1, 2, 3}, 6, greedy.Next)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			out = append(out, int(id))
		}
	} else {
		ids, err := infer.Generate(context.Background(), lm, []int{1, 2}, 6, greedy, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = ids
	}
	var s []string
	for _, id := range out {
		s = append(s, string(rune('a'+id)))
	}
	return strings.Join(s, "")
}

func TestSharingErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  model.Config
		want string
	}{
		{"group names missing layer", tinyCfg(share.Spec{Layers: "groups", Groups: share.GroupsOf([][]int{{0, 7}})}, true), "names layer 7"},
		{"layer in two groups", tinyCfg(share.Spec{Layers: "groups", Groups: share.GroupsOf([][]int{{0, 1}, {1, 2}})}, true), "layer 1 is in group 0 and group 1"},
		{"decoder list beyond decoder", tinyEncDec(share.Spec{Decoder: "0,2"}, 2), "decoder has layers 0..1"},
		{"decoder deeper than encoder", func() model.Config { c := tinyEncDec(share.Spec{Decoder: "all"}, 6); return c }(), "encoder has 4"},
		{"decoder layer beyond encoder", tinyEncDec(share.Spec{Decoder: "5"}, 6), "encoder has layers 0..3"},
		{"decoder sharing on decoder-only", tinyCfg(share.Spec{Decoder: "all"}, true), "needs an encoder-decoder"},
		{"interval 0", tinyCfg(share.Spec{Layers: "alternate"}, true), "interval >= 1"},
		{"unknown scope", tinyCfg(share.Spec{Layers: "all", Scope: "heads"}, true), "unknown scope"},
	}
	for _, c := range cases {
		_, err := model.New(c.cfg, tensor.NewRNG(1))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
	// shapes that differ cannot share (the guard under every plan)
	a := nn.NewBitLinear("a", 8, 16, false, nil)
	b := nn.NewBitLinear("b", 8, 24, false, nil)
	if err := model.ShareProjection(a, b); err == nil || !strings.Contains(err.Error(), "shapes") {
		t.Errorf("sharing (16, 8) with (24, 8): err = %v", err)
	}
	if err := model.ShareProjection(a, nn.NewLinear("c", 8, 16, false, nil)); err == nil {
		t.Errorf("sharing a BitLinear with a Linear: no error")
	}
	// a file saved with one sharing map cannot load into a model with another
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if err := model.Save(path, build(t, tinyCfg(share.Spec{}, true)), ""); err != nil {
		t.Fatal(err)
	}
	f, err := format.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	other := build(t, tinyCfg(share.Spec{Layers: "alternate", Interval: 2}, true))
	if err := model.LoadParams(other, f, path); err == nil || !strings.Contains(err.Error(), "different sharing map") {
		t.Errorf("loading an unshared file into alternate=2: err = %v", err)
	}
	path2 := filepath.Join(dir, "s.safetensors")
	if err := model.Save(path2, other, ""); err != nil {
		t.Fatal(err)
	}
	f2, _ := format.Read(path2)
	if err := model.LoadParams(build(t, tinyCfg(share.Spec{Layers: "sequential", Interval: 2}, true)), f2, path2); err == nil || !strings.Contains(err.Error(), "different sharing map") {
		t.Errorf("loading alternate=2 into sequential=2: err = %v", err)
	}
}

func TestSharingJSONAndFlags(t *testing.T) {
	cfg, err := model.ParseConfig([]byte(`{"sharing": {"layers": "groups", "groups": [[0,3],[1,2]], "norms": true, "scope": "attention"}}`), tinyCfg(share.Spec{}, true), "test")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sharing.Groups != "0,3;1,2" || !cfg.Sharing.Norms {
		t.Errorf("parsed %+v", cfg.Sharing)
	}
	back, err := model.ParseConfig([]byte(cfg.JSON()), model.Config{}, "json")
	if err != nil || back.JSON() != cfg.JSON() {
		t.Errorf("JSON round trip: %v\n%s", err, cfg.JSON())
	}
	if !strings.Contains(cfg.JSON(), `[`) {
		t.Errorf("groups should be written as JSON lists: %s", cfg.JSON())
	}
	for flag, want := range map[string]share.Spec{
		"alternate=2+norms":        {Layers: "alternate", Interval: 2, Norms: true},
		"attention":                {Layers: "all", Scope: "attention"},
		"ffn":                      {Layers: "all", Scope: "ffn"},
		"groups=0,2;1,3":           {Layers: "groups", Groups: "0,2;1,3"},
		"decoder=all+sequential=2": {Layers: "sequential", Interval: 2, Decoder: "all"},
		"":                         {},
	} {
		got, err := share.Parse(flag)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", flag, got, err, want)
		}
		if flag != "" {
			again, err := share.Parse(got.String())
			if err != nil || again != got {
				t.Errorf("Parse(String(%q)) = %+v, %v", flag, again, err)
			}
		}
	}
	if _, err := share.Parse("cycle=2"); err == nil {
		t.Errorf("unknown sharing accepted")
	}
	_ = sort.Strings
}

func TestSharingReport(t *testing.T) {
	lm := build(t, tinyCfg(share.Spec{Layers: "all", Scope: "attention"}, true))
	dir := t.TempDir()
	sz, err := model.MeasureSizes(lm, dir)
	if err != nil {
		t.Fatal(err)
	}
	n, err := model.WritePacked(filepath.Join(dir, "p.safetensors"), lm, "")
	if err != nil || n != sz.Packed {
		t.Errorf("MeasureSizes packed %d, a written file has %d (%v)", sz.Packed, n, err)
	}
	st := model.Stats(lm)
	if sz.FP32 != 4*int64(st.Unique) || sz.FP16 != 2*int64(st.Unique) {
		t.Errorf("sizes %+v for %d unique", sz, st.Unique)
	}
	rep := model.SharingReport(lm, dir)
	for _, want := range []string{"blocks.0.attn <- blocks.1.attn, blocks.2.attn, blocks.3.attn", "tok_emb <- lm_head",
		"unique", "packed 1.58-bit"} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
	if strings.Contains(rep, "ffn <-") {
		t.Errorf("attention-only sharing reports shared FFNs:\n%s", rep)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary packed files left behind: %d entries", len(entries))
	}
}
