// Package share holds tern's parameter-sharing plans: which layer's weights each layer slot uses.
// A plan is pure index arithmetic (no tensors); package model applies it by pointing several layer
// objects at the same *nn.Param, so every slot keeps its own activation buffers while the weights,
// their gradient (the sum over uses) and their optimizer state exist once.
//
// Strategies (https://arxiv.org/abs/1909.11942 ALBERT; https://arxiv.org/abs/2104.06022 Takase &
// Kiyono, "Lessons on Parameter Sharing across Layers in Transformers", whose SEQUENCE and CYCLE we
// call sequential and alternate):
//
//	none        layer i uses its own weights
//	sequential  runs of k consecutive layers share:   owner(i) = k·⌊i/k⌋  (k=2: A A B B C C)
//	alternate   k weight sets in rotation:            owner(i) = i mod k  (k=2: A B A B A B)
//	all         every layer uses layer 0's weights (ALBERT)
//	groups      explicit lists of layers that share; layers in no list stay unique
//
// Scope picks which sublayers follow the plan: "block" (attention and FFN), "attention" (FFNs stay
// unique: ALBERT's attention-only sharing) or "ffn" (attention stays unique). Norms makes each
// sublayer's LayerNorm follow it too (off by default: norms are 2C floats per block, ~0.1%, and
// unique norms let shared weights see differently scaled inputs). Decoder lists encoder-decoder
// decoder layers that reuse the matching encoder layer's self-attention and FFN (cross-attention
// always stays unique).
//
// Spec is comparable (model.Config is compared with ==), so list-valued fields are canonical strings
// that read and write as JSON lists.
package share

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Spec is the sharing part of a model config.
type Spec struct {
	Layers   string    `json:"layers,omitempty"`   // "" or "none", "sequential", "alternate", "all", "groups"
	Scope    string    `json:"scope,omitempty"`    // "" or "block", "attention", "ffn"
	Interval int       `json:"interval,omitempty"` // k of sequential and alternate, e.g. 2
	Groups   Groups    `json:"groups,omitempty"`   // groups: e.g. [[0,2],[1,3]]
	Norms    bool      `json:"norms,omitempty"`    // LayerNorms follow their sublayer's sharing
	Decoder  LayerList `json:"decoder,omitempty"`  // encdec: "all" or e.g. [0,1]: decoder layers reusing encoder weights
}

// Groups is a list of layer lists, canonically "0,2;1,3"; in JSON [[0,2],[1,3]].
type Groups string

// LayerList is "all" or a list of layers, canonically "0,1"; in JSON "all" or [0,1].
type LayerList string

// MarshalJSON writes [[...],...].
func (g Groups) MarshalJSON() ([]byte, error) {
	gs, err := g.Lists()
	if err != nil {
		return nil, err
	}
	return json.Marshal(gs)
}

// UnmarshalJSON reads [[...],...] (or the canonical string).
func (g *Groups) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if _, err := Groups(s).Lists(); err != nil {
			return err
		}
		*g = Groups(s)
		return nil
	}
	var gs [][]int
	if err := json.Unmarshal(b, &gs); err != nil {
		return fmt.Errorf("share: groups must be a list of layer lists, e.g. [[0,2],[1,3]]: %w", err)
	}
	*g = GroupsOf(gs)
	return nil
}

// GroupsOf returns the canonical form of gs.
func GroupsOf(gs [][]int) Groups {
	parts := make([]string, len(gs))
	for i, l := range gs {
		parts[i] = joinInts(l)
	}
	return Groups(strings.Join(parts, ";"))
}

// Lists parses the canonical form.
func (g Groups) Lists() ([][]int, error) {
	if g == "" {
		return nil, nil
	}
	var out [][]int
	for _, part := range strings.Split(string(g), ";") {
		l, err := parseInts(part)
		if err != nil {
			return nil, fmt.Errorf("share: groups %q: %w", g, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// MarshalJSON writes "all" or [...].
func (l LayerList) MarshalJSON() ([]byte, error) {
	if l == "all" {
		return json.Marshal("all")
	}
	is, err := parseInts(string(l))
	if err != nil {
		return nil, err
	}
	return json.Marshal(is)
}

// UnmarshalJSON reads "all", a canonical string, or a list of layers.
func (l *LayerList) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if s != "all" && s != "" {
			if _, err := parseInts(s); err != nil {
				return fmt.Errorf("share: decoder %q: want \"all\" or a list of layers", s)
			}
		}
		*l = LayerList(s)
		return nil
	}
	var is []int
	if err := json.Unmarshal(b, &is); err != nil {
		return fmt.Errorf("share: decoder must be \"all\" or a list of layers, e.g. [0,1]: %w", err)
	}
	*l = LayerList(joinInts(is))
	return nil
}

func joinInts(is []int) string {
	s := make([]string, len(is))
	for i, v := range is {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("bad layer index %q", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// Parse reads the command-line form: parts joined by "+", each "none", "all", "attention" (all layers
// share attention), "ffn" (all layers share the FFN), "sequential=K", "alternate=K",
// "groups=0,2;1,3", "scope=block|attention|ffn", "norms", "decoder=all" or "decoder=0,1".
// E.g. "alternate=2+norms", "attention", "decoder=all+sequential=2".
func Parse(s string) (Spec, error) {
	var sp Spec
	if strings.TrimSpace(s) == "" {
		return sp, nil
	}
	for _, part := range strings.Split(s, "+") {
		key, val, hasVal := strings.Cut(strings.TrimSpace(part), "=")
		num := func() (int, error) {
			k, err := strconv.Atoi(val)
			if err != nil || !hasVal {
				return 0, fmt.Errorf("share: %q needs a layer count, e.g. %s=2", part, key)
			}
			return k, nil
		}
		var err error
		switch key {
		case "none", "tied", "":
		case "all":
			sp.Layers = "all"
		case "attention", "ffn":
			if sp.Layers == "" {
				sp.Layers = "all"
			}
			sp.Scope = key
		case "sequential", "alternate":
			sp.Layers = key
			sp.Interval, err = num()
		case "groups":
			sp.Layers = "groups"
			sp.Groups = Groups(val)
			_, err = sp.Groups.Lists()
		case "scope":
			sp.Scope = val
		case "norms":
			sp.Norms = true
		case "decoder":
			sp.Decoder = LayerList(val)
			if val != "all" {
				_, err = parseInts(val)
			}
		default:
			err = fmt.Errorf("share: unknown sharing %q (want none, all, attention, ffn, sequential=K, alternate=K, groups=..., scope=..., norms, decoder=...)", part)
		}
		if err != nil {
			return Spec{}, err
		}
	}
	return sp, nil
}

// IsZero reports whether no layer sharing is asked for.
func (s Spec) IsZero() bool { return s == Spec{} || (s.Layers == "none" && s.Decoder == "") }

// String is a short human-readable form (Parse's syntax).
func (s Spec) String() string {
	var parts []string
	scope := s.Scope
	switch s.Layers {
	case "all":
		if scope == "attention" || scope == "ffn" {
			parts = append(parts, scope) // Parse's shorthand
			scope = ""
		} else {
			parts = append(parts, "all")
		}
	case "", "none":
	case "sequential", "alternate":
		parts = append(parts, fmt.Sprintf("%s=%d", s.Layers, s.Interval))
	case "groups":
		parts = append(parts, "groups="+string(s.Groups))
	default:
		parts = append(parts, s.Layers)
	}
	if scope != "" && scope != "block" {
		parts = append(parts, "scope="+scope)
	}
	if s.Norms {
		parts = append(parts, "norms")
	}
	if s.Decoder != "" {
		parts = append(parts, "decoder="+string(s.Decoder))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "+")
}

// Plan maps every layer slot of one stack of L layers to the layer whose weights it uses
// (Owner[i] <= i, so applying slots in increasing order always finds the owner final).
type Plan struct {
	Attn, FFN []int // (L) owner of each layer's attention and FFN
	Ln1, Ln2  []int // (L) owner of the norm before attention and before the FFN
}

// Validate checks the spec against a stack of layers (decLayers is 0 for decoder-only/encoder models).
func (s Spec) Validate(layers, decLayers int) error {
	if _, err := s.Plan(layers); err != nil {
		return err
	}
	if decLayers > 0 {
		if _, err := s.Plan(decLayers); err != nil {
			return fmt.Errorf("%w (decoder)", err)
		}
	}
	_, err := s.DecoderShared(layers, decLayers)
	return err
}

// Plan returns the owners for a stack of L layers.
func (s Spec) Plan(L int) (Plan, error) {
	owner := make([]int, L)
	for i := range owner {
		owner[i] = i
	}
	switch s.Layers {
	case "", "none":
	case "sequential", "alternate":
		if s.Interval < 1 {
			return Plan{}, fmt.Errorf("share: %s sharing needs interval >= 1 (got %d)", s.Layers, s.Interval)
		}
		for i := range owner {
			if s.Layers == "sequential" {
				owner[i] = s.Interval * (i / s.Interval)
			} else {
				owner[i] = i % s.Interval
			}
		}
	case "all":
		clear(owner)
	case "groups":
		gs, err := s.Groups.Lists()
		if err != nil {
			return Plan{}, err
		}
		if len(gs) == 0 {
			return Plan{}, fmt.Errorf("share: groups sharing needs at least one group, e.g. [[0,2],[1,3]]")
		}
		seen := map[int]int{}
		for gi, g := range gs {
			if len(g) == 0 {
				return Plan{}, fmt.Errorf("share: group %d is empty", gi)
			}
			for _, l := range g {
				if l < 0 || l >= L {
					return Plan{}, fmt.Errorf("share: group %d names layer %d, but the model has layers 0..%d", gi, l, L-1)
				}
				if prev, dup := seen[l]; dup {
					return Plan{}, fmt.Errorf("share: layer %d is in group %d and group %d", l, prev, gi)
				}
				seen[l] = gi
			}
			g = append([]int(nil), g...)
			sort.Ints(g)
			for _, l := range g {
				owner[l] = g[0]
			}
		}
	default:
		return Plan{}, fmt.Errorf("share: unknown layer sharing %q (want none, sequential, alternate, all or groups)", s.Layers)
	}
	if s.Layers != "groups" && s.Groups != "" {
		return Plan{}, fmt.Errorf("share: groups given but layers is %q (set layers to groups)", s.Layers)
	}
	self := make([]int, L)
	for i := range self {
		self[i] = i
	}
	p := Plan{Attn: self, FFN: self}
	switch s.Scope {
	case "", "block":
		p.Attn, p.FFN = owner, owner
	case "attention":
		p.Attn = owner
	case "ffn":
		p.FFN = owner
	default:
		return Plan{}, fmt.Errorf("share: unknown scope %q (want block, attention or ffn)", s.Scope)
	}
	p.Ln1, p.Ln2 = self, self
	if s.Norms {
		p.Ln1, p.Ln2 = p.Attn, p.FFN
	}
	return p, nil
}

// DecoderShared returns, for each of decLayers decoder layers, whether it reuses the matching
// encoder layer's self-attention and FFN weights.
func (s Spec) DecoderShared(encLayers, decLayers int) ([]bool, error) {
	if s.Decoder == "" {
		return make([]bool, decLayers), nil
	}
	if decLayers == 0 {
		return nil, fmt.Errorf("share: decoder sharing %q needs an encoder-decoder model (type encdec)", s.Decoder)
	}
	out := make([]bool, decLayers)
	if s.Decoder == "all" {
		if decLayers > encLayers {
			return nil, fmt.Errorf("share: decoder sharing \"all\" needs an encoder layer for each of the %d decoder layers, but the encoder has %d", decLayers, encLayers)
		}
		for i := range out {
			out[i] = true
		}
		return out, nil
	}
	ls, err := parseInts(string(s.Decoder))
	if err != nil {
		return nil, fmt.Errorf("share: decoder %q: %w", s.Decoder, err)
	}
	for _, l := range ls {
		if l < 0 || l >= decLayers {
			return nil, fmt.Errorf("share: decoder sharing names layer %d, but the decoder has layers 0..%d", l, decLayers-1)
		}
		if l >= encLayers {
			return nil, fmt.Errorf("share: decoder layer %d would reuse encoder layer %d, but the encoder has layers 0..%d", l, l, encLayers-1)
		}
		out[l] = true
	}
	return out, nil
}
