package model

// widths.go: per-matrix weight precisions (adaptive bit widths). Config.Bits maps a quantized matrix's
// parameter name to its quant.Width and Config.BitsDefault covers the rest (zero value: ternary, the
// BitNet b1.58 default), so the map is part of every model file and checkpoint. Choosing widths is the
// trainer's job (train/bits.go) and the allocator's (quant/alloc.go), not this file's.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"tern/nn"
	"tern/quant"
)

// WidthMap maps a quantized matrix's parameter name (e.g. "blocks.0.attn.qkv.weight") to its width.
type WidthMap map[string]quant.Width

// UnmarshalJSON reads {"name": width, ...}, naming the matrix of a bad width.
func (m *WidthMap) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(WidthMap, len(raw))
	for name, v := range raw {
		var w quant.Width
		if err := w.UnmarshalJSON(bytes.TrimSpace(v)); err != nil {
			return fmt.Errorf("bits: matrix %q: %w", name, err)
		}
		out[name] = w
	}
	*m = out
	return nil
}

// ParseWidthMap reads a --bits-map file: a JSON object of matrix name -> width.
func ParseWidthMap(b []byte, name string) (WidthMap, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var m WidthMap
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("bits map %s: %w", name, err)
	}
	return m, nil
}

// QuantMatrix is one quantized weight matrix of a model: its name and every layer slot using it.
type QuantMatrix struct {
	Name       string
	Param      *nn.Param
	Rows, Cols int
	Slots      []nn.QuantSlot
}

// Width is the matrix's current width (all slots agree).
func (q QuantMatrix) Width() quant.Width { return *q.Slots[0].Width }

// QuantMatrices lists lm's quantized weight matrices (BitLinear weights, quantized RNN gate
// projections), each unique parameter once, in model order. An fp32 model has none.
func QuantMatrices(lm LM) []QuantMatrix {
	var slots []nn.QuantSlot
	for _, p := range projections(lm) {
		if q, ok := p.(nn.Quantized); ok {
			slots = append(slots, q.QuantSlots()...)
		}
	}
	if r, ok := lm.(*RNN); ok && r.Cfg.Linear == LinearBitNet {
		if r.LSTM != nil {
			slots = append(slots, r.LSTM.QuantSlots()...)
		} else {
			slots = append(slots, r.GRU.QuantSlots()...)
		}
	}
	var out []QuantMatrix
	at := map[*nn.Param]int{}
	for _, s := range slots {
		i, ok := at[s.W]
		if !ok {
			i = len(out)
			at[s.W] = i
			out = append(out, QuantMatrix{Name: s.W.Name, Param: s.W, Rows: s.Rows, Cols: s.Cols})
		}
		out[i].Slots = append(out[i].Slots, s)
	}
	return out
}

// applyWidths sets every quantized matrix of lm from bits (others: def). A name that is not a
// quantized matrix of lm is an error naming it and the allowed names.
func applyWidths(lm LM, bits WidthMap, def quant.Width) error {
	ms := QuantMatrices(lm)
	if len(ms) == 0 && (len(bits) > 0 || def != quant.WidthTernary) {
		return fmt.Errorf("model config: bits: this model has no quantized matrices (linear %q): widths need linear bitnet", lm.Config().Linear)
	}
	known := map[string]bool{}
	for _, m := range ms {
		known[m.Name] = true
	}
	var unknown []string
	for name := range bits {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		var names []string
		for _, m := range ms {
			names = append(names, m.Name)
		}
		list := strings.Join(names, ", ")
		if len(names) > 8 {
			list = strings.Join(names[:8], ", ") + fmt.Sprintf(", ... (%d in all)", len(names))
		}
		return fmt.Errorf("model config: bits: %q is not a quantized matrix of this %s model (a map for another architecture?); quantized matrices: %s; widths: %s",
			unknown[0], lm.Config().Type, list, quant.WidthNames)
	}
	for _, m := range ms {
		w, ok := bits[m.Name]
		if !ok {
			w = def
		}
		for _, s := range m.Slots {
			*s.Width = w
		}
	}
	return nil
}

// SetWidths gives lm's matrices the widths of bits (others: ternary) and records them in the model's
// config, so model files and checkpoints carry them.
func SetWidths(lm LM, bits WidthMap) error {
	if err := applyWidths(lm, bits, quant.WidthTernary); err != nil {
		return err
	}
	bits = maps2(bits)
	switch m := lm.(type) {
	case transformerLM:
		m.Cfg.Bits, m.Cfg.BitsDefault = bits, quant.WidthTernary
	case *RNN:
		m.Cfg.Bits, m.Cfg.BitsDefault = bits, quant.WidthTernary
	case *EncDec:
		m.Cfg.Bits, m.Cfg.BitsDefault = bits, quant.WidthTernary
	default:
		return fmt.Errorf("model: SetWidths: unsupported model %T", lm)
	}
	return nil
}

func maps2(m WidthMap) WidthMap {
	out := make(WidthMap, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Widths returns each quantized matrix's current width.
func Widths(lm LM) WidthMap {
	out := WidthMap{}
	for _, m := range QuantMatrices(lm) {
		out[m.Name] = m.Width()
	}
	return out
}

// StoredBitsPerWeight is the parameter-weighted average bits per weight of lm's quantized matrices as
// a packed file stores them (codes, row padding and fp32 steps), from their current widths.
func StoredBitsPerWeight(lm LM) float64 {
	var bits, n int64
	for _, m := range QuantMatrices(lm) {
		bits += m.Width().StoredBits(m.Rows, m.Cols, *m.Slots[0].PerRow)
		n += int64(m.Rows) * int64(m.Cols)
	}
	if n == 0 {
		return 0
	}
	return float64(bits) / float64(n)
}
