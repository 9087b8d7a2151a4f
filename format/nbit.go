package format

import (
	"encoding/json"
	"fmt"

	"tern/internal/strictjson"
	"tern/quant"
)

// Packed n-bit matrices (widths 1, 2, 3, 4, 8 of adaptive bit widths) in a file. A matrix called name is
//
//	name          U8  (N, ceil(K·bits/8))   quant/packbits.go's row layout, read as is by kernels.NBitGemv
//	name.scale    F32 (1) or (N)            steps: w ≈ (u - (2^bits-1)/2)·step
//	metadata "tern.nbit.<name>" = {"layout":"bits-rows","bits":b,"rows":N,"cols":K}
//
// Ternary matrices keep their own entry (ternary.go); a file may mix both.

// MetaNBitPref prefixes the metadata key describing a packed n-bit matrix.
const MetaNBitPref = "tern.nbit."

// NBitLayout names quant/packbits.go's layout in the metadata.
const NBitLayout = "bits-rows"

type nbitMeta struct {
	Layout string `json:"layout"`
	Bits   int    `json:"bits"`
	Rows   int    `json:"rows"`
	Cols   int    `json:"cols"`
}

// NBitTensors returns the tensors and the metadata entry that store p under name. The tensors alias
// p's slices.
func NBitTensors(name string, p *quant.PackedNBit) ([]Tensor, map[string]string) {
	js, _ := json.Marshal(nbitMeta{NBitLayout, p.Bits, p.N, p.K})
	return []Tensor{
			mustShape(Tensor{Name: name, DType: U8, Shape: []int{p.N, quant.BitRowBytes(p.K, p.Bits)}, Data: p.Data}),
			F32Tensor(name+".scale", []int{len(p.Steps)}, p.Steps),
		},
		map[string]string{MetaNBitPref + name: string(js)}
}

// IsNBit reports whether the file describes name as a packed n-bit matrix.
func (f *File) IsNBit(name string) bool {
	_, ok := f.Meta[MetaNBitPref+name]
	return ok
}

// NBit returns the packed n-bit matrix stored under name, checked with Validate. Its Data aliases the
// file's bytes.
func (f *File) NBit(name string) (*quant.PackedNBit, error) {
	raw, ok := f.Meta[MetaNBitPref+name]
	if !ok {
		return nil, fmt.Errorf("format: %w: no packed n-bit matrix %q (metadata %q missing)", ErrNoTensor, name, MetaNBitPref+name)
	}
	var m nbitMeta
	if err := strictjson.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("format: n-bit %q: bad metadata %q: %v", name, raw, err)
	}
	if m.Layout != NBitLayout {
		return nil, fmt.Errorf("format: n-bit %q: layout %q, this tern reads %q", name, m.Layout, NBitLayout)
	}
	if m.Rows < 0 || m.Cols < 0 || m.Rows > maxElements || m.Cols > maxElements || m.Bits < 1 || m.Bits > 8 {
		return nil, fmt.Errorf("format: n-bit %q: bad size (%d, %d) or bits %d", name, m.Rows, m.Cols, m.Bits)
	}
	w, err := f.Get(name)
	if err != nil {
		return nil, fmt.Errorf("format: n-bit: %w", err)
	}
	rb := quant.BitRowBytes(m.Cols, m.Bits)
	if w.DType != U8 || len(w.Shape) != 2 || w.Shape[0] != m.Rows || w.Shape[1] != rb {
		return nil, fmt.Errorf("format: n-bit %q: tensor is %s%v, want U8[%d %d] for (%d, %d) at %d bits", name, w.DType, w.Shape, m.Rows, rb, m.Rows, m.Cols, m.Bits)
	}
	s, err := f.Get(name + ".scale")
	if err != nil {
		return nil, fmt.Errorf("format: n-bit: %w", err)
	}
	sv, err := s.Float32()
	if err != nil {
		return nil, fmt.Errorf("format: n-bit %q: steps: %v", name, err)
	}
	p := &quant.PackedNBit{N: m.Rows, K: m.Cols, Bits: m.Bits, Steps: sv, Data: w.Data}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("format: n-bit %q: %w", name, err)
	}
	return p, nil
}
