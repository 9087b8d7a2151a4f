// uniform.go is the symmetric uniform n-bit quantizer (1..8 bits) behind adaptive bit widths: one
// rule, parametrized by bits, scaling and granularity, whose 2-bit absmean per-tensor case is
// exactly Ternary and whose 8-bit absmax per-row case is exactly Int8Rows' codes.
package quant

import (
	"fmt"
	"math"

	"tern/kernels"
)

// Scaling says how a group's step is derived from its values.
type Scaling int

const (
	// AbsMax maps max|w| to the largest level: nothing clips (the int8 activation rule).
	AbsMax Scaling = iota
	// AbsMean derives the step from mean|w| (BitNet's weight rule): outliers clip, the bulk keeps
	// resolution.
	AbsMean
)

func (s Scaling) String() string {
	switch s {
	case AbsMax:
		return "absmax"
	case AbsMean:
		return "absmean"
	}
	return fmt.Sprintf("Scaling(%d)", int(s))
}

// eps keeps steps finite for all-zero groups (as kernels' quantizers).
const eps = 1e-5

// Uniform is a symmetric uniform quantizer: codes are integers in [-Q, Q] with Q = 2^(Bits-1)-1
// (1 for 2 bits, 7 for 4, 127 for 8; the code -2^(Bits-1) is unused so zero is exact and the grid
// symmetric), and w ≈ step·q with one step per tensor or per row. For a group:
//
//	AbsMax:  inv = Q / max(max|w|, 1e-5)
//	AbsMean: inv = (Q+1) / (2·max(mean|w|, 1e-5))   (Q = 1: inv = 1/mean|w|, BitNet b1.58)
//	q = clamp(round(w·inv), -Q, Q),  step = max|w|/Q or 2·mean|w|/(Q+1)
//
// (step is computed directly, not as 1/inv, so the 2-bit absmean step equals Ternary's scale bit for
// bit)
// with round half away from zero on the float32 product w·inv. Bits = 1 is the sign quantizer:
// q = +1 for w >= 0 and -1 otherwise, step = max(mean|w|, 1e-5) (the L2-optimal scale for signs),
// whatever Scaling says.
type Uniform struct {
	Bits    int     // 1..8
	Scaling Scaling // AbsMax or AbsMean
	PerRow  bool    // one step per row instead of one per tensor
}

// NewUniform validates a configuration (e.g. from a config file or flag).
func NewUniform(bits int, scaling Scaling, perRow bool) (Uniform, error) {
	u := Uniform{Bits: bits, Scaling: scaling, PerRow: perRow}
	if err := u.validate(); err != nil {
		return Uniform{}, err
	}
	return u, nil
}

func (u Uniform) validate() error {
	if u.Bits < 1 || u.Bits > 8 {
		return fmt.Errorf("quant: %d bits out of range 1..8", u.Bits)
	}
	if u.Scaling != AbsMax && u.Scaling != AbsMean {
		return fmt.Errorf("quant: unknown scaling %v", u.Scaling)
	}
	return nil
}

// Levels returns Q, the largest code magnitude.
func (u Uniform) Levels() int { return 1<<(u.Bits-1) - 1 + b2i(u.Bits == 1) }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Steps returns how many steps Quantize writes for rows groups: rows (PerRow) or 1.
func (u Uniform) Steps(rows int) int {
	if u.PerRow {
		return rows
	}
	return 1
}

func (u Uniform) check(op string, nq, nw, nstep, rows, cols int) {
	if err := u.validate(); err != nil {
		panic(err.Error())
	}
	if rows < 0 || cols < 0 || nq < rows*cols || nw < rows*cols || nstep < u.Steps(rows) {
		panic(fmt.Sprintf("quant: Uniform.%s: rows=%d cols=%d but len(q)=%d len(w)=%d len(step)=%d", op, rows, cols, nq, nw, nstep))
	}
}

// Quantize writes codes q (rows, cols) and steps (Steps(rows) of them) for w (rows, cols).
func (u Uniform) Quantize(q []int8, step []float32, w []float32, rows, cols int) {
	u.check("Quantize", len(q), len(w), len(step), rows, cols)
	if !u.PerRow {
		step[0] = u.quantizeGroup(q[:rows*cols], w[:rows*cols])
		return
	}
	kernels.ParallelFor(rows, max(1, 4096/max(cols, 1)), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			step[i] = u.quantizeGroup(q[i*cols:i*cols+cols], w[i*cols:i*cols+cols])
		}
	})
}

// quantizeGroup quantizes one group and returns its step.
func (u Uniform) quantizeGroup(q []int8, w []float32) float32 {
	n := float64(max(len(w), 1))
	if u.Bits == 1 {
		for i, v := range w {
			q[i] = int8(1 - 2*b2i(v < 0))
		}
		return float32(max(kernels.SumAbs(w)/n, eps))
	}
	qmax := float32(u.Levels())
	var inv, step float32
	if u.Scaling == AbsMax {
		a := max(kernels.MaxAbs(w), eps)
		inv, step = qmax/a, a/qmax
	} else {
		m2 := 2 * float32(max(kernels.SumAbs(w)/n, eps))
		inv, step = (qmax+1)/m2, m2/(qmax+1)
	}
	for i, v := range w {
		r := math.Round(float64(v * inv))
		q[i] = int8(max(-float64(qmax), min(float64(qmax), r)))
	}
	return step
}

// Dequantize writes w (rows, cols) = step·q.
func (u Uniform) Dequantize(w []float32, q []int8, step []float32, rows, cols int) {
	u.check("Dequantize", len(q), len(w), len(step), rows, cols)
	for i := 0; i < rows; i++ {
		s := step[0]
		if u.PerRow {
			s = step[i]
		}
		for j, v := range q[i*cols : i*cols+cols] {
			w[i*cols+j] = float32(v) * s
		}
	}
}

// MSE returns the mean squared error of quantizing w (rows, cols) with u, the figure of merit an
// adaptive bit allocator compares across widths. It allocates scratch space.
func (u Uniform) MSE(w []float32, rows, cols int) float64 {
	q, step := make([]int8, rows*cols), make([]float32, u.Steps(rows))
	u.Quantize(q, step, w, rows, cols)
	d := make([]float32, rows*cols)
	u.Dequantize(d, q, step, rows, cols)
	var e float64
	for i, v := range w[:rows*cols] {
		diff := float64(v) - float64(d[i])
		e += diff * diff
	}
	return e / float64(max(rows*cols, 1))
}
