package model

// Cross-layer parameter sharing: applying a share.Plan to built layers, and describing the result.
//
// A model is first built with every weight unique, then each slot named by the plan is re-pointed at
// its owner's *nn.Param (pointer identity, see package nn). Layer objects are never shared: each slot
// keeps its own forward caches (BitLinear's quantized copies, attention probabilities, norm
// statistics), so a block used at depths 0 and 2 runs its two forward passes independently and its
// one gradient receives the sum of both backward passes. The names of the slots before re-pointing are
// kept (SlotNames), which turns the pointer graph back into a readable, checkable sharing map.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"tern/format"
	"tern/nn"
	"tern/share"
	"tern/tensor"
)

// MetaSharing is the model-file metadata key holding the sharing map (JSON {slot: param}).
const MetaSharing = "tern.sharing_map"

// pointParams re-points dst's params at src's, after checking that they match one to one in shape.
// set receives each dst slot index and the src param.
func checkSame(what string, dst, src []*nn.Param) error {
	if len(dst) != len(src) {
		return fmt.Errorf("model: cannot share %s: %d tensors vs %d", what, len(dst), len(src))
	}
	for i := range dst {
		if !tensor.SameShape(dst[i].Shape, src[i].Shape) {
			return fmt.Errorf("model: cannot share %s with %s: shapes %v and %v differ", dst[i].Name, src[i].Name, dst[i].Shape, src[i].Shape)
		}
	}
	return nil
}

// ShareProjection points dst's weight (and bias) at src's. Both must be the same kind of projection
// with the same shapes.
func ShareProjection(dst, src nn.Projection) error {
	if err := checkSame(fmt.Sprintf("%T", dst), dst.Params(), src.Params()); err != nil {
		return err
	}
	switch d := dst.(type) {
	case *nn.Linear:
		s, ok := src.(*nn.Linear)
		if !ok {
			return fmt.Errorf("model: cannot share Linear %s with %T", d.W.Name, src)
		}
		d.W, d.B = s.W, s.B
	case *nn.BitLinear:
		s, ok := src.(*nn.BitLinear)
		if !ok {
			return fmt.Errorf("model: cannot share BitLinear %s with %T", d.W.Name, src)
		}
		d.W, d.B = s.W, s.B
	default:
		return fmt.Errorf("model: cannot share projection type %T", dst)
	}
	return nil
}

// ShareAttention points dst's projections at src's (self- or cross-attention alike).
func ShareAttention(dst, src *nn.Attention) error {
	if dst.C != src.C || dst.NH != src.NH {
		return fmt.Errorf("model: cannot share attention (C=%d, NH=%d) with (C=%d, NH=%d)", dst.C, dst.NH, src.C, src.NH)
	}
	pairs := [][2]nn.Projection{{dst.QKV, src.QKV}, {dst.Q, src.Q}, {dst.KV, src.KV}, {dst.O, src.O}}
	for _, p := range pairs {
		if (p[0] == nil) != (p[1] == nil) {
			return fmt.Errorf("model: cannot share self-attention with cross-attention")
		}
		if p[0] != nil {
			if err := ShareProjection(p[0], p[1]); err != nil {
				return err
			}
		}
	}
	return nil
}

// ShareFFN points dst's projections at src's.
func ShareFFN(dst, src *nn.FFN) error {
	if err := ShareProjection(dst.Fc, src.Fc); err != nil {
		return err
	}
	return ShareProjection(dst.Fc2, src.Fc2)
}

// shareNorm points dst's gain (and bias) at src's.
func shareNorm(dst, src layer) error {
	if err := checkSame("norm", dst.Params(), src.Params()); err != nil {
		return err
	}
	switch d := dst.(type) {
	case *nn.LayerNorm:
		s, ok := src.(*nn.LayerNorm)
		if !ok {
			return fmt.Errorf("model: cannot share LayerNorm %s with %T", d.G.Name, src)
		}
		d.G, d.B = s.G, s.B
	case *nn.RMSNorm:
		s, ok := src.(*nn.RMSNorm)
		if !ok {
			return fmt.Errorf("model: cannot share RMSNorm %s with %T", d.G.Name, src)
		}
		d.G = s.G
	default:
		return fmt.Errorf("model: cannot share norm type %T", dst)
	}
	return nil
}

// applyPlan re-points the blocks' sublayers at their owners (owners first: Owner[i] <= i).
func applyPlan(blocks []*Block, p share.Plan) error {
	for i, b := range blocks {
		if o := p.Attn[i]; o != i {
			if err := ShareAttention(b.Attn, blocks[o].Attn); err != nil {
				return err
			}
		}
		if o := p.FFN[i]; o != i {
			if err := ShareFFN(b.FFN, blocks[o].FFN); err != nil {
				return err
			}
		}
		if o := p.Ln1[i]; o != i {
			if err := shareNorm(b.Ln1, blocks[o].Ln1); err != nil {
				return err
			}
		}
		if o := p.Ln2[i]; o != i {
			if err := shareNorm(b.Ln2, blocks[o].Ln2); err != nil {
				return err
			}
		}
	}
	return nil
}

func paramNames(ps []*nn.Param) []string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Name
	}
	return s
}

// SlotNames lists, in Params() order, the name each slot's tensor had before sharing was applied.
func (m *Transformer) SlotNames() []string { return m.slots }

// SharingMap returns {slot name: tensor it uses} for every slot whose tensor belongs to another slot,
// plus "lm_head.weight" -> the token embedding when embeddings are tied. Empty means nothing is shared.
func SharingMap(lm LM) map[string]string {
	out := map[string]string{}
	ps := lm.Params()
	names := paramNames(ps)
	if sn, ok := lm.(interface{ SlotNames() []string }); ok && len(sn.SlotNames()) == len(ps) {
		names = sn.SlotNames()
	}
	for i, p := range ps {
		if names[i] != p.Name {
			out[names[i]] = p.Name
		}
	}
	cfg := lm.Config()
	if cfg.TieEmbeddings && cfg.Type != TypeRNN {
		out[Weight(NameLMHead)] = Weight(NameTokEmb)
	}
	return out
}

// sharingMapJSON is SharingMap as canonical JSON (sorted keys), the form stored in files.
func sharingMapJSON(lm LM) string {
	b, _ := json.Marshal(SharingMap(lm)) // encoding/json sorts map keys
	return string(b)
}

// CheckSharing rejects loading a file whose sharing map differs from lm's: its tensors would land in
// the wrong slots (or some would be silently dropped). Files without the key (written before
// sharing existed) are accepted only when lm shares nothing but tied embeddings.
func CheckSharing(f *format.File, lm LM, path string) error {
	want := SharingMap(lm)
	raw, ok := f.Meta[MetaSharing]
	got := map[string]string{}
	if ok {
		if err := json.Unmarshal([]byte(raw), &got); err != nil {
			return fmt.Errorf("model: %s: metadata %s: %v", path, MetaSharing, err)
		}
	} else {
		for k, v := range want {
			got[k] = v // no map stored: only tying can be assumed
			if k != Weight(NameLMHead) {
				delete(got, k)
			}
		}
	}
	var diff []string
	for k, v := range want {
		if got[k] != v {
			diff = append(diff, fmt.Sprintf("%s: file %q, model %q", k, orUnique(got[k]), v))
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			diff = append(diff, fmt.Sprintf("%s: file %q, model %q", k, v, "unique"))
		}
	}
	if len(diff) > 0 {
		sort.Strings(diff)
		if len(diff) > 4 {
			diff = append(diff[:4], fmt.Sprintf("... %d more", len(diff)-4))
		}
		return fmt.Errorf("model: %s was saved with a different sharing map than the model being loaded (%s):\n  %s",
			path, lm.Config().Sharing, strings.Join(diff, "\n  "))
	}
	return nil
}

func orUnique(s string) string {
	if s == "" {
		return "unique"
	}
	return s
}

// ParamStats summarizes a model's parameters under sharing.
type ParamStats struct {
	Total     int     // as if nothing were shared: every slot, plus an untied LM head when tied
	Unique    int     // stored and trained
	Reduction float64 // Total / Unique
	Ternary   int     // unique parameters in BitLinear weights (packed to 1.6 bits)
}

// Stats counts lm's parameters.
func Stats(lm LM) ParamStats {
	total, unique := CountParams(lm.Params())
	cfg := lm.Config()
	if cfg.TieEmbeddings && cfg.Type != TypeRNN {
		total += cfg.Vocab * cfg.Hidden
	}
	s := ParamStats{Total: total, Unique: unique}
	if unique > 0 {
		s.Reduction = float64(total) / float64(unique)
	}
	for _, p := range nn.Unique(lm.Params()) {
		if ternaryParam(lm, p) {
			s.Ternary += p.Size()
		}
	}
	return s
}

// DescribeSharing renders the sharing map one owner per line, e.g.
// "blocks.0.attn.qkv.weight <- blocks.2, blocks.4" grouped by owning sublayer.
func DescribeSharing(lm LM) string {
	m := SharingMap(lm)
	if len(m) == 0 {
		return "sharing: none (every tensor unique)"
	}
	// group slots by owner prefix: "blocks.2.attn" uses "blocks.0.attn"
	users := map[string][]string{}
	for slot, owner := range m {
		so, oo := sublayer(slot), sublayer(owner)
		users[oo] = appendUnique(users[oo], so)
	}
	var owners []string
	for o := range users {
		owners = append(owners, o)
	}
	sort.Slice(owners, func(i, j int) bool { return naturalLess(owners[i], owners[j]) })
	var b strings.Builder
	fmt.Fprintf(&b, "sharing: %s%s\n", lm.Config().Sharing, tiedNote(lm.Config()))
	for _, o := range owners {
		us := users[o]
		sort.Slice(us, func(i, j int) bool { return naturalLess(us[i], us[j]) })
		fmt.Fprintf(&b, "  %s <- %s\n", o, strings.Join(us, ", "))
	}
	return strings.TrimRight(b.String(), "\n")
}

func tiedNote(c Config) string {
	if c.TieEmbeddings {
		return " (+ tied embeddings)"
	}
	return ""
}

// sublayer strips the tensor part of a param name: "blocks.2.attn.qkv.weight" -> "blocks.2.attn".
func sublayer(name string) string {
	parts := strings.Split(name, ".")
	if len(parts) >= 4 {
		return strings.Join(parts[:3], ".")
	}
	return strings.TrimSuffix(name, ".weight")
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// SharingReport is the block `tern info` and the training log print: the sharing map, parameter
// counts as if unshared and unique, the reduction, and the sizes (packed measured from a file).
func SharingReport(lm LM, dir string) string {
	st := Stats(lm)
	var b strings.Builder
	b.WriteString(DescribeSharing(lm))
	fmt.Fprintf(&b, "\nparams: %d as if unshared, %d unique (%.2fx fewer); %d ternary", st.Total, st.Unique, st.Reduction, st.Ternary)
	sz, err := MeasureSizes(lm, dir)
	if err != nil {
		fmt.Fprintf(&b, "\nsize: fp32 %s, fp16 %s, packed: %v", MiB(sz.FP32), MiB(sz.FP16), err)
		return b.String()
	}
	fmt.Fprintf(&b, "\nsize: fp32 %s, fp16 %s, packed 1.58-bit %s (%.2f bits/param, measured from a packed file)",
		MiB(sz.FP32), MiB(sz.FP16), MiB(sz.Packed), 8*float64(sz.Packed)/float64(max(st.Unique, 1)))
	return b.String()
}

// MiB formats a byte count.
func MiB(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
}

// naturalLess orders names with embedded numbers numerically: blocks.2 before blocks.10.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, _ := strconv.Atoi(a[:da])
			nb, _ := strconv.Atoi(b[:db])
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
