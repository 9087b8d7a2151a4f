package tensor

import (
	"fmt"
	"math"
)

// RNG is a small deterministic generator (xoshiro256**, seeded by splitmix64). Its stream depends only
// on the seed and the sequence of calls, so runs are reproducible bit for bit on any machine and with
// any thread count, and its State can be stored in a checkpoint and restored exactly.
// See https://prng.di.unimi.it/ for the algorithm.
type RNG struct {
	s [4]uint64
	// cached second Box-Muller normal, so that NormFloat64 stays a pure function of the state.
	haveSpare bool
	spare     float64
}

// NewRNG returns a generator seeded with seed.
func NewRNG(seed uint64) *RNG {
	r := &RNG{}
	r.Seed(seed)
	return r
}

// Seed resets the generator to the stream of seed.
func (r *RNG) Seed(seed uint64) {
	x := seed
	for i := range r.s {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		r.s[i] = z ^ (z >> 31)
	}
	r.haveSpare = false
	r.spare = 0
}

func rotl(x uint64, k uint) uint64 { return (x << k) | (x >> (64 - k)) }

// Uint64 returns the next 64 random bits.
func (r *RNG) Uint64() uint64 {
	s := &r.s
	result := rotl(s[1]*5, 7) * 9
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = rotl(s[3], 45)
	return result
}

// Float64 returns a uniform number in [0, 1).
func (r *RNG) Float64() float64 { return float64(r.Uint64()>>11) / (1 << 53) }

// Float32 returns a uniform number in [0, 1).
func (r *RNG) Float32() float32 { return float32(r.Uint64()>>40) / (1 << 24) }

// Intn returns a uniform integer in [0, n); it panics if n <= 0.
func (r *RNG) Intn(n int) int {
	if n <= 0 {
		panic("tensor: RNG.Intn: n <= 0")
	}
	// Lemire's multiply-shift with rejection: unbiased.
	un := uint64(n)
	for {
		x := r.Uint64()
		hi, lo := mul64(x, un)
		if lo >= un || lo >= (-un)%un {
			return int(hi)
		}
	}
}

func mul64(a, b uint64) (hi, lo uint64) {
	const mask32 = 1<<32 - 1
	a0, a1 := a&mask32, a>>32
	b0, b1 := b&mask32, b>>32
	w0 := a0 * b0
	t := a1*b0 + w0>>32
	w1 := t&mask32 + a0*b1
	hi = a1*b1 + t>>32 + w1>>32
	lo = a * b
	return
}

// NormFloat64 returns a standard normal sample (Box-Muller, both values used).
func (r *RNG) NormFloat64() float64 {
	if r.haveSpare {
		r.haveSpare = false
		return r.spare
	}
	var u float64
	for u == 0 {
		u = r.Float64()
	}
	v := r.Float64()
	rad := math.Sqrt(-2 * math.Log(u))
	r.spare = rad * math.Sin(2*math.Pi*v)
	r.haveSpare = true
	return rad * math.Cos(2*math.Pi*v)
}

// FillNormal fills x with N(0, std^2) samples.
func (r *RNG) FillNormal(x []float32, std float64) {
	for i := range x {
		x[i] = float32(r.NormFloat64() * std)
	}
}

// FillUniform fills x with samples from U(lo, hi).
func (r *RNG) FillUniform(x []float32, lo, hi float64) {
	for i := range x {
		x[i] = float32(lo + (hi-lo)*r.Float64())
	}
}

// Perm returns a random permutation of [0, n) (Fisher-Yates).
func (r *RNG) Perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.Intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// RNGState is the exact serializable state of an RNG (for checkpoints).
type RNGState struct {
	S         [4]uint64 `json:"s"`
	HaveSpare bool      `json:"have_spare"`
	Spare     float64   `json:"spare"`
}

// State returns the generator's exact state.
func (r *RNG) State() RNGState { return RNGState{S: r.s, HaveSpare: r.haveSpare, Spare: r.spare} }

// Check reports a state no RNG can be in: all-zero words (xoshiro's one fixed point: it would return
// zeros forever, and a sampler drawing until it finds a new position would spin) or a non-finite
// spare normal.
func (st RNGState) Check() error {
	if st.S == [4]uint64{} {
		return fmt.Errorf("RNG state is all zeros (xoshiro256** never leaves it)")
	}
	if st.HaveSpare && (math.IsNaN(st.Spare) || math.IsInf(st.Spare, 0)) {
		return fmt.Errorf("RNG state has a non-finite spare normal %g", st.Spare)
	}
	return nil
}

// SetState restores a state returned by State.
func (r *RNG) SetState(st RNGState) { r.s, r.haveSpare, r.spare = st.S, st.HaveSpare, st.Spare }
