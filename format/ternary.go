package format

import (
	"encoding/json"
	"fmt"

	"tern/internal/strictjson"
	"tern/quant"
)

// Packed ternary matrices in a file. A matrix called name is stored as
//
//	name          U8  (N, ceil(K/5))   5 trits per byte, quant/pack.go's layout, read as is by the GEMV
//	name.scale    F32 ()               w ≈ scale·t
//	metadata "tern.ternary.<name>" = {"layout":"trit5","rows":N,"cols":K}
//
// The metadata carries K, which the byte shape alone cannot (ceil(K/5) is the same for five K).

// MetaTernaryPref prefixes the metadata key describing a packed ternary matrix.
const MetaTernaryPref = "tern.ternary."

// TernaryLayout names the 5-trits-per-byte layout in the metadata.
const TernaryLayout = "trit5"

type ternaryMeta struct {
	Layout string `json:"layout"`
	Rows   int    `json:"rows"`
	Cols   int    `json:"cols"`
}

// TernaryTensors returns the tensors and the metadata entry that store p under name; add both to
// what is passed to Write. The tensors alias p.Data.
func TernaryTensors(name string, p *quant.PackedTernary) ([]Tensor, map[string]string) {
	js, _ := json.Marshal(ternaryMeta{TernaryLayout, p.N, p.K}) // cannot fail: plain struct
	return []Tensor{
			mustShape(Tensor{Name: name, DType: U8, Shape: []int{p.N, quant.RowBytes(p.K)}, Data: p.Data}),
			F32Tensor(name+".scale", []int{}, []float32{p.Scale}),
		},
		map[string]string{MetaTernaryPref + name: string(js)}
}

// Ternary returns the packed ternary matrix stored under name, checked with Validate. Its Data
// aliases the file's bytes (read-only and valid until Close for a file from Open).
func (f *File) Ternary(name string) (*quant.PackedTernary, error) {
	raw, ok := f.Meta[MetaTernaryPref+name]
	if !ok {
		return nil, fmt.Errorf("format: %w: no packed ternary matrix %q (metadata %q missing)", ErrNoTensor, name, MetaTernaryPref+name)
	}
	var m ternaryMeta
	if err := strictjson.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("format: ternary %q: bad metadata %q: %v", name, raw, err)
	}
	if m.Layout != TernaryLayout {
		return nil, fmt.Errorf("format: ternary %q: layout %q, this tern reads %q", name, m.Layout, TernaryLayout)
	}
	if m.Rows < 0 || m.Cols < 0 || m.Rows > maxElements || m.Cols > maxElements {
		return nil, fmt.Errorf("format: ternary %q: bad size (%d, %d)", name, m.Rows, m.Cols)
	}
	w, err := f.Get(name)
	if err != nil {
		return nil, fmt.Errorf("format: ternary: %w", err)
	}
	if w.DType != U8 || len(w.Shape) != 2 || w.Shape[0] != m.Rows || w.Shape[1] != quant.RowBytes(m.Cols) {
		return nil, fmt.Errorf("format: ternary %q: tensor is %s%v, want U8[%d %d] for (%d, %d)", name, w.DType, w.Shape, m.Rows, quant.RowBytes(m.Cols), m.Rows, m.Cols)
	}
	s, err := f.Get(name + ".scale")
	if err != nil {
		return nil, fmt.Errorf("format: ternary: %w", err)
	}
	sv, err := s.Float32()
	if err != nil || len(sv) != 1 {
		return nil, fmt.Errorf("format: ternary %q: scale must be one F32, got %s%v", name, s.DType, s.Shape)
	}
	p := &quant.PackedTernary{N: m.Rows, K: m.Cols, Scale: sv[0], Data: w.Data}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("format: ternary %q: %w", name, err)
	}
	return p, nil
}
