package kernels

import "math"

// Scalar float32 exp, tanh and the normal CDF used by the row-wise passes: fast polynomial forms (a few
// ns each, versus ~20-60 ns for float64 math.Exp/Tanh/Erf on this machine), accurate to a few float32
// ulps. The assembly paths evaluate the same polynomials on 8 or 16 lanes. Tests check them against
// float64 math.

const (
	expMax = 88.0     // exp(88) = 1.65e38 still finite; larger inputs are clamped here
	expMin = -87.3365 // below this exp underflows float32's normal range: return exactly 0
	log2e  = 1.44269504088896341
	ln2Hi  = 0.693359375 // ln 2 split so n·ln2Hi is exact for |n| <= 128 (Cephes)
	ln2Lo  = -2.12194440e-4

	// Cephes expf minimax polynomial for exp(r) - 1 - r on |r| <= ln2/2.
	expC0 = 1.9875691500e-4
	expC1 = 1.3981999507e-3
	expC2 = 8.3334519073e-3
	expC3 = 4.1665795894e-2
	expC4 = 1.6666665459e-1
	expC5 = 5.0000001201e-1

	roundMagic = 12582912 // 1.5·2^23

	tanhMax = 9.0 // tanh(9) = 1 - 3e-8 rounds to 1 in float32

	// Abramowitz & Stegun 7.1.26: erfc(z) ≈ t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·exp(-z²),
	// t = 1/(1 + p·z), z >= 0, absolute error <= 1.5e-7.
	erfP  = 0.3275911
	erfA1 = 0.254829592
	erfA2 = -0.284496736
	erfA3 = 1.421413741
	erfA4 = -1.453152027
	erfA5 = 1.061405429
)

// Exp32 is exp(x) in float32: exactly 0 below -87.34 (and for -Inf), clamped at exp(88) above, NaN
// for NaN. Relative error <= 3e-7.
func Exp32(x float32) float32 {
	if x < expMin { // -Inf too; NaN falls through and stays NaN, so divergence shows
		return 0
	}
	x = min(x, expMax)
	// round to nearest even by adding and removing 1.5·2^23 (explicit float32 conversions keep each
	// step rounded to float32, so the compiler may not fuse them)
	n := float32(float32(x*log2e)+roundMagic) - roundMagic
	r := x - n*ln2Hi - n*ln2Lo
	p := ((((expC0*r+expC1)*r+expC2)*r+expC3)*r+expC4)*r + expC5
	y := p*r*r + r + 1
	return y * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// Tanh32 is tanh(x) in float32 from Exp32, absolute error <= 2e-7.
func Tanh32(x float32) float32 {
	x = max(-tanhMax, min(tanhMax, x))
	e := Exp32(2 * x)
	return (e - 1) / (e + 1)
}

// Sigmoid32 is 1/(1+exp(-x)) in float32.
func Sigmoid32(x float32) float32 { return 1 / (1 + Exp32(-x)) }

// normalCDF returns Φ(x) and φ(x) (the standard normal CDF and density), absolute error <= 1e-7.
// For x < 0 Φ comes straight from the erfc form, with no 1 - (1 - ...) cancellation.
func normalCDF(x float32) (cdf, pdf float32) {
	z := abs32(x) * invSqrt2
	t := 1 / (1 + erfP*z)
	poly := t * (erfA1 + t*(erfA2+t*(erfA3+t*(erfA4+t*erfA5))))
	e := Exp32(-0.5 * x * x)
	q := 0.5 * poly * e // Φ(-|x|)
	if x >= 0 {
		q = 1 - q
	}
	return q, invSqrt2Pi * e
}

// SigmoidInPlace sets x[i] = 1/(1+exp(-x[i])) (one thread: RNN gates call it per time step).
func SigmoidInPlace(x []float32) { sigmoidInPlace(x) }

// TanhInPlace sets x[i] = tanh(x[i]) (one thread).
func TanhInPlace(x []float32) { tanhInPlace(x) }

func sigmoidGeneric(x []float32) {
	for i, v := range x {
		x[i] = Sigmoid32(v)
	}
}

func tanhGeneric(x []float32) {
	for i, v := range x {
		x[i] = Tanh32(v)
	}
}
