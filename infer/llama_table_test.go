package infer

import (
	"math"
	"testing"

	"tern/gguf"
	"tern/half"
	"tern/tensor"
)

// TestGGUFTableInt8: a Q6_K or Q8_0 token table becomes int8 rows with one step per row, each value
// within half a step of the file's own (dequantized by gguf.Dequantize, checked bit for bit against
// gguf-py in package gguf).
func TestGGUFTableInt8(t *testing.T) {
	const rows, cols = 100, 512
	rng := tensor.NewRNG(9)
	for _, typ := range []gguf.Type{gguf.Q6_K, gguf.Q8_0} {
		var data []byte
		if typ == gguf.Q8_0 {
			v := make([]float32, rows*cols)
			rng.FillNormal(v, 0.05)
			var err error
			if data, err = gguf.EncodeFloat(gguf.Q8_0, v); err != nil {
				t.Fatal(err)
			}
		} else { // any bytes are a Q6_K block: ql, qh, int8 sub-block scales, then an F16 d
			data = make([]byte, rows*cols/256*210)
			for i := range data {
				data[i] = byte(rng.Intn(256))
			}
			for b := 0; b < len(data)/210; b++ {
				d := half.Float32ToF16(float32(1e-4 * (1 + rng.Float64())))
				data[210*b+208], data[210*b+209] = byte(d), byte(d>>8)
			}
		}
		ti := &gguf.TensorInfo{Name: "token_embd.weight", Dims: gguf.Matrix(rows, cols), Type: typ, Data: data}
		want := make([]float32, rows*cols)
		if err := gguf.Dequantize(typ, data, want); err != nil {
			t.Fatal(err)
		}
		tb, err := int8Table(ti, rows, cols)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, cols)
		worst := 0.0
		for r := range rows {
			tb.row(got, r)
			for j, v := range got {
				d := math.Abs(float64(v-want[r*cols+j])) / float64(tb.step[r])
				worst = math.Max(worst, d)
			}
		}
		t.Logf("%s: max |int8 - file| = %.4f steps", typ, worst)
		if worst > 0.5+1e-4 {
			t.Errorf("%s: a value is %.4f steps from the file's", typ, worst)
		}
		ti.Data = data[:len(data)-1]
		if _, err := int8Table(ti, rows, cols); err == nil {
			t.Errorf("%s: a short table loaded", typ)
		}
	}
}
