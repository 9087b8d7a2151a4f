package quant

import (
	"fmt"
	"math"
	"testing"

	"tern/tensor"
)

func randNormal(seed uint64, n int) []float32 {
	w := make([]float32, n)
	tensor.NewRNG(seed).FillNormal(w, 1)
	return w
}

func TestTernaryHandWorked(t *testing.T) {
	// mean|w| = (0.5+1.5+0.1+2+0.525+0.4)/6 = 0.8375; w/s = 0.597, -1.79, 0.119, 2.39, 0.627, -0.478.
	w := []float32{0.5, -1.5, 0.1, 2, 0.525, -0.4}
	q := make([]int8, len(w))
	s := Ternary(q, w)
	if math.Abs(float64(s)-0.8375) > 1e-7 || fmt.Sprint(q) != "[1 -1 0 1 1 0]" {
		t.Fatalf("Ternary = %v %v, want 0.8375 [1 -1 0 1 1 0]", s, q)
	}
	d := make([]float32, len(w))
	DequantizeTernary(d, q, s)
	if d[1] != -s || d[2] != 0 {
		t.Fatalf("DequantizeTernary = %v", d)
	}
}

func TestInt8RowsHandWorked(t *testing.T) {
	// Row 0: max 2, g = 63.5: [64 -127 32 0]. Row 1: max 0.5, g = 254: 0.25 -> 63.5 -> 64.
	x := []float32{1, -2, 0.5, 0, 0.25, -0.5, 0.125, 0}
	q, g := make([]int8, 8), make([]float32, 2)
	Int8Rows(q, g, x, 2, 4)
	if fmt.Sprint(g, q) != "[63.5 254] [64 -127 32 0 64 -127 32 0]" {
		t.Fatalf("Int8Rows = %v %v", g, q)
	}
	d := make([]float32, 8)
	DequantizeInt8Rows(d, q, g, 2, 4)
	if d[1] != -2 || d[5] != -0.5 {
		t.Fatalf("DequantizeInt8Rows = %v", d)
	}
}

func TestUniformHandWorked(t *testing.T) {
	for _, c := range []struct {
		u          Uniform
		rows, cols int
		w          []float32
		q          string
		step       []float32
	}{
		// Sign: mean|w| = 3.5/4; 0 counts as positive.
		{Uniform{1, AbsMax, false}, 1, 4, []float32{0.5, -1.5, 0, 1.5}, "[1 -1 1 1]", []float32{0.875}},
		// 2-bit absmean is ternary absmean: mean|w| = 1, so 0.5 -> 1 (half away), -0.49 -> 0.
		{Uniform{2, AbsMean, false}, 1, 4, []float32{0.5, -0.49, -2, 1.01}, "[1 0 -1 1]", []float32{1}},
		// 3-bit absmax: Q = 3, max 2, inv 1.5: 1.5 -> 2, -3, 0.75 -> 1, 0.375 -> 0, -1.875 -> -2.
		{Uniform{3, AbsMax, false}, 1, 6, []float32{1, -2, 0.5, 0.25, -1.25, 0}, "[2 -3 1 0 -2 0]", []float32{2.0 / 3}},
		// 4-bit absmean per row: Q = 7; row 0 mean 2 -> step 0.5; row 1 mean 0.25 -> step 1/16,
		// and 1 -> 16 clips to 7; row 2 is all zeros (eps step).
		{Uniform{4, AbsMean, true}, 3, 4, []float32{1, -1, 3, -3, 0, 0, 1, 0, 0, 0, 0, 0},
			"[2 -2 6 -6 0 0 7 0 0 0 0 0]", []float32{0.5, 1.0 / 16, 2e-5 / 8}},
		// 8-bit absmax per row: Q = 127, max 2: 1 -> 63.5 -> 64.
		{Uniform{8, AbsMax, true}, 2, 2, []float32{1, -2, 0.5, 0}, "[64 -127 127 0]", []float32{2.0 / 127, 0.5 / 127}},
	} {
		q, step := make([]int8, len(c.w)), make([]float32, c.u.Steps(c.rows))
		c.u.Quantize(q, step, c.w, c.rows, c.cols)
		if fmt.Sprint(q) != c.q {
			t.Errorf("%+v: q = %v, want %s", c.u, q, c.q)
		}
		for i := range step {
			if math.Abs(float64(step[i]-c.step[i])) > 1e-7*math.Abs(float64(c.step[i])) {
				t.Errorf("%+v: step[%d] = %v, want %v", c.u, i, step[i], c.step[i])
			}
		}
		d := make([]float32, len(c.w))
		c.u.Dequantize(d, q, step, c.rows, c.cols)
		for i := range d {
			s := step[0]
			if c.u.PerRow {
				s = step[i/c.cols]
			}
			if d[i] != float32(q[i])*s {
				t.Errorf("%+v: dequantized[%d] = %v, want %v", c.u, i, d[i], float32(q[i])*s)
			}
		}
	}
}

// TestUniformMatchesKernels: the 2-bit absmean and 8-bit absmax cases are the BitNet quantizers.
func TestUniformMatchesKernels(t *testing.T) {
	const rows, cols = 17, 257
	w := randNormal(1, rows*cols)
	q, step := make([]int8, rows*cols), make([]float32, rows)
	Uniform{2, AbsMean, false}.Quantize(q, step, w, rows, cols)
	tq := make([]int8, rows*cols)
	if s := Ternary(tq, w); s != step[0] || fmt.Sprint(tq) != fmt.Sprint(q) {
		t.Fatalf("2-bit absmean differs from Ternary (step %v vs %v)", step[0], s)
	}
	Uniform{8, AbsMax, true}.Quantize(q, step, w, rows, cols)
	g := make([]float32, rows)
	Int8Rows(tq, g, w, rows, cols)
	if fmt.Sprint(tq) != fmt.Sprint(q) {
		t.Fatalf("8-bit absmax per row differs from Int8Rows")
	}
	for i := range g {
		if math.Abs(float64(step[i]*g[i]-1)) > 1e-6 {
			t.Fatalf("row %d: step %v is not 1/g = 1/%v", i, step[i], g[i])
		}
	}
}

// TestUniformProperties: codes stay in [-Q, Q], absmax never clips (error <= step/2), and more bits
// never hurt (MSE falls with bit width for absmax).
func TestUniformProperties(t *testing.T) {
	const rows, cols = 5, 333
	w := randNormal(2, rows*cols)
	prev := math.Inf(1)
	for bits := 1; bits <= 8; bits++ {
		for _, sc := range []Scaling{AbsMax, AbsMean} {
			for _, perRow := range []bool{false, true} {
				u, err := NewUniform(bits, sc, perRow)
				if err != nil {
					t.Fatal(err)
				}
				q, step := make([]int8, rows*cols), make([]float32, u.Steps(rows))
				u.Quantize(q, step, w, rows, cols)
				d := make([]float32, rows*cols)
				u.Dequantize(d, q, step, rows, cols)
				for i, v := range q {
					if int(v) > u.Levels() || int(v) < -u.Levels() || (bits == 1 && v == 0) {
						t.Fatalf("%+v: code %d out of range", u, v)
					}
					s := step[0]
					if perRow {
						s = step[i/cols]
					}
					if sc == AbsMax && bits > 1 && math.Abs(float64(w[i]-d[i])) > float64(s)*0.5000001 {
						t.Fatalf("%+v: |w-d| = %v > step/2 = %v", u, math.Abs(float64(w[i]-d[i])), s/2)
					}
				}
			}
		}
		if bits > 1 {
			mse := Uniform{bits, AbsMax, true}.MSE(w, rows, cols)
			if mse >= prev {
				t.Errorf("absmax MSE at %d bits %v >= %v at %d bits", bits, mse, prev, bits-1)
			}
			prev = mse
		}
	}
}

func TestNewUniformRejects(t *testing.T) {
	for _, c := range []struct {
		bits int
		sc   Scaling
	}{{0, AbsMax}, {9, AbsMean}, {4, Scaling(7)}} {
		if _, err := NewUniform(c.bits, c.sc, false); err == nil {
			t.Errorf("NewUniform(%d, %v) accepted", c.bits, c.sc)
		}
	}
}

func BenchmarkUniform4BitPerRow(b *testing.B) {
	const rows, cols = 768, 768
	w := randNormal(3, rows*cols)
	q, step := make([]int8, rows*cols), make([]float32, rows)
	u := Uniform{4, AbsMean, true}
	b.SetBytes(4 * rows * cols)
	for b.Loop() {
		u.Quantize(q, step, w, rows, cols)
	}
}
