package kernels

// A Go emulation of the AMX tile instructions the kernels use, after the pseudo-code of Intel's
// SDM (LDTILECFG, TILELOADD, TILESTORED, TILEZERO, TILERELEASE, TDPBF16PS, TDPBSSD), with the
// faults it specifies (bad configuration, tile shapes that do not fit the product, tiles used
// without a configuration) as panics. It is the Go reference of the AMX assembly: amxEmu.block
// runs the same instruction sequence as amxBlockBF16/amxBlockInt8 (amx_amd64.s), so the drivers
// can be tested on CPUs without AMX (amx_test.go); it is not meant to be fast.

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"
)

// amxEmu is one thread's tile state: the configuration and eight tiles of up to 16 x 64 bytes.
type amxEmu struct {
	valid bool // a configuration is loaded (LDTILECFG), not released
	rows  [8]int
	colsb [8]int
	tile  [8][amxRows][amxStep]byte
}

// ldtilecfg is LDTILECFG: palette 1 only (0 would release), start_row 0, each tile 0 or 1..16
// rows of 4..64 bytes (a multiple of 4), both zero or neither; all tiles are zeroed.
func (e *amxEmu) ldtilecfg(cfg *amxConfig) {
	if cfg[0] != 1 || cfg[1] != 0 {
		panic(fmt.Sprintf("amx emulation: LDTILECFG: palette %d start_row %d (#GP)", cfg[0], cfg[1]))
	}
	for t := range 8 {
		cb, r := int(binary.LittleEndian.Uint16(cfg[16+2*t:])), int(cfg[48+t])
		if r > amxRows || cb > amxStep || cb%4 != 0 || (r == 0) != (cb == 0) {
			panic(fmt.Sprintf("amx emulation: LDTILECFG: tile %d of %d rows x %d bytes (#GP)", t, r, cb))
		}
		e.rows[t], e.colsb[t] = r, cb
	}
	e.tile = [8][amxRows][amxStep]byte{}
	e.valid = true
}

func (e *amxEmu) tilerelease() { *e = amxEmu{} }

func (e *amxEmu) use(op string, ts ...int) {
	if !e.valid {
		panic("amx emulation: " + op + " without a tile configuration (#UD)")
	}
	for _, t := range ts {
		if e.rows[t] == 0 {
			panic(fmt.Sprintf("amx emulation: %s: tile %d is not configured (#UD)", op, t))
		}
	}
}

func (e *amxEmu) tilezero(t int) {
	e.use("TILEZERO", t)
	e.tile[t] = [amxRows][amxStep]byte{}
}

// tileloadd loads tile t's rows from base + r*stride; bytes past the configured shape are zero.
func (e *amxEmu) tileloadd(t int, base unsafe.Pointer, stride int) {
	e.use("TILELOADD", t)
	e.tile[t] = [amxRows][amxStep]byte{}
	for r := range e.rows[t] {
		copy(e.tile[t][r][:e.colsb[t]], unsafe.Slice((*byte)(unsafe.Add(base, r*stride)), e.colsb[t]))
	}
}

// tilestored stores tile t's configured rows and bytes to base + r*stride.
func (e *amxEmu) tilestored(base unsafe.Pointer, stride, t int) {
	e.use("TILESTORED", t)
	for r := range e.rows[t] {
		copy(unsafe.Slice((*byte)(unsafe.Add(base, r*stride)), e.colsb[t]), e.tile[t][r][:e.colsb[t]])
	}
}

// tdpShape checks the shapes of c += a·b (#UD otherwise): a has c's rows, b has c's row width, and
// a's row of K dwords meets b's K rows.
func (e *amxEmu) tdpShape(op string, c, a, b int) {
	e.use(op, c, a, b)
	if c == a || c == b || a == b || e.rows[a] != e.rows[c] || e.colsb[b] != e.colsb[c] || e.colsb[a]/4 != e.rows[b] {
		panic(fmt.Sprintf("amx emulation: %s tmm%d, tmm%d, tmm%d: shapes %dx%d, %dx%d, %dx%d do not fit (#UD)",
			op, c, a, b, e.rows[c], e.colsb[c], e.rows[a], e.colsb[a], e.rows[b], e.colsb[b]))
	}
}

func (e *amxEmu) dword(t, r, i int) uint32 { return binary.LittleEndian.Uint32(e.tile[t][r][4*i:]) }

// tdpbf16ps is TDPBF16PS c, a, b: for each element, for each K pair k in order, c += a.bf16[2k]
// * b.bf16[2k] and then c += a.bf16[2k+1] * b.bf16[2k+1], each rounded to nearest even like an FMA
// (a product of two bf16 values is exact in fp32), with denormal inputs read as zero and denormal
// results flushed to zero.
func (e *amxEmu) tdpbf16ps(c, a, b int) {
	e.tdpShape("TDPBF16PS", c, a, b)
	widen := func(h uint32) float32 {
		if h&0x7f80 == 0 {
			h &= 0x8000 // DAZ
		}
		return math.Float32frombits(h << 16)
	}
	ftz := func(f float32) float32 {
		if u := math.Float32bits(f); u&0x7f800000 == 0 {
			return math.Float32frombits(u & 0x80000000)
		}
		return f
	}
	for m := range e.rows[c] {
		for n := range e.colsb[c] / 4 {
			acc := math.Float32frombits(e.dword(c, m, n))
			for k := range e.colsb[a] / 4 {
				av, bv := e.dword(a, m, k), e.dword(b, k, n)
				acc = ftz(acc + widen(av&0xffff)*widen(bv&0xffff))
				acc = ftz(acc + widen(av>>16)*widen(bv>>16))
			}
			binary.LittleEndian.PutUint32(e.tile[c][m][4*n:], math.Float32bits(acc))
		}
	}
}

// tdpbssd is TDPBSSD c, a, b: for each element, for each K group k, c += the 4 products of a's
// and b's signed bytes (int32, wrapping).
func (e *amxEmu) tdpbssd(c, a, b int) {
	e.tdpShape("TDPBSSD", c, a, b)
	for m := range e.rows[c] {
		for n := range e.colsb[c] / 4 {
			acc := int32(e.dword(c, m, n))
			for k := range e.colsb[a] / 4 {
				for i := range 4 {
					acc += int32(int8(e.tile[a][m][4*k+i])) * int32(int8(e.tile[b][k][4*n+i]))
				}
			}
			binary.LittleEndian.PutUint32(e.tile[c][m][4*n:], uint32(acc))
		}
	}
}

// block runs amxBlockBF16 (tdp = e.tdpbf16ps) or amxBlockInt8 (e.tdpbssd) instruction for
// instruction: the 32 x 32 sums of steps steps of A (rows lda bytes apart) and B (K rows ldb
// bytes apart) into acc (rows 128 bytes apart).
func (e *amxEmu) block(tdp func(c, a, b int), cfg *amxConfig, a unsafe.Pointer, lda int, b unsafe.Pointer, ldb int, acc unsafe.Pointer, steps int) {
	e.ldtilecfg(cfg)
	a1 := unsafe.Add(a, amxRows*lda) // A rows 16-31
	b1 := unsafe.Add(b, amxStep)     // B columns 16-31
	for t := range 4 {
		e.tilezero(t)
	}
	for range steps {
		e.tileloadd(4, a, lda)
		e.tileloadd(5, a1, lda)
		e.tileloadd(6, b, ldb)
		e.tileloadd(7, b1, ldb)
		tdp(0, 4, 6)
		tdp(1, 4, 7)
		tdp(2, 5, 6)
		tdp(3, 5, 7)
		a, a1 = unsafe.Add(a, amxStep), unsafe.Add(a1, amxStep)
		b, b1 = unsafe.Add(b, amxRows*ldb), unsafe.Add(b1, amxRows*ldb)
	}
	const ldc = 4 * amxNR
	e.tilestored(acc, ldc, 0)
	e.tilestored(unsafe.Add(acc, amxStep), ldc, 1)
	e.tilestored(unsafe.Add(acc, amxRows*ldc), ldc, 2)
	e.tilestored(unsafe.Add(acc, amxRows*ldc+amxStep), ldc, 3)
	e.tilerelease()
}
