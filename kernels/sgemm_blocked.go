package kernels

// The blocked, packed fp32 GEMM driver (GotoBLAS / BLIS loop nest) shared by every micro-kernel.
// It is plain Go and builds everywhere; only the micro-kernels differ by platform.
//
// Loop nest, for C (M,N) += op(A) (M,K) · op(B) (K,N):
//
//	for jc over N in steps of NC:            B block (KC x NC) is packed once, shared by all threads
//	  for pc over K in steps of KC:          K is never split across threads (determinism)
//	    pack B[pc:pc+KC, jc:jc+NC] in NR-wide panels            (parallel over panels)
//	    for tile rows (M in MR steps), split across threads:    (parallel over M, or N when M is small)
//	      pack A[ic:ic+MC, pc:pc+KC] in MR-high panels          (per thread buffer)
//	      for each B panel, for each A panel: micro-kernel on an MR x NR tile of C
//
// Packing makes the micro-kernel's loads contiguous whatever the transposes, so NN, NT, TN and TT
// differ only in the packing routines. Buffers come from sync.Pools: no allocation in steady state.

import (
	"sync"
	"unsafe"
)

// gemmKernel describes one micro-kernel and the block sizes tuned for it.
type gemmKernel struct {
	name   string
	mr, nr int // register tile: MR rows x NR columns of C
	kc     int // K block: an A panel is KC*MR floats, a B panel KC*NR floats
	mc     int // M block (multiple of mr): A block MC x KC should sit in L2
	nc     int // N block (multiple of nr): B block KC x NC should sit in L2/L3
	// run computes the tile C[0:rows, 0:cols] (row stride ldc) from packed panels a (k*mr) and b
	// (k*nr): C = alpha*acc if !load, else C = beta*C + alpha*acc (one rounding for the last step).
	run func(k int, a, b, c *float32, ldc int, alpha, beta float32, rows, cols int, load bool)
}

// gemmParallelFlops: below this many multiply-adds a GEMM runs on the calling goroutine (a
// fork-join costs a few microseconds, ~0.5 MFLOP at tern's speeds).
const gemmParallelFlops = 1 << 19

// gemmState is one call's parameters plus the loop bodies bound once, so that handing them to
// ParallelFor allocates nothing.
type gemmState struct {
	kern           *gemmKernel
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int

	// current (jc, pc) block
	jc, nc, pc, kc int
	load           bool
	betaEff        float32
	mTiles, nPan   int
	bpack          *[]float32

	packBFn, computeMFn, computeNFn func(lo, hi int)
}

var gemmStates = sync.Pool{New: func() any {
	s := new(gemmState)
	s.packBFn = s.packBRange
	s.computeMFn = s.computeM
	s.computeNFn = s.computeN
	return s
}}

// packBufs holds *[]float32 packing buffers (pointers, so Put does not allocate).
var packBufs sync.Pool

func getPackBuf(n int) *[]float32 {
	if p, ok := packBufs.Get().(*[]float32); ok {
		if cap(*p) >= n {
			*p = (*p)[:n]
			return p
		}
		// Too small for this kernel's blocks: drop it, the pool refills with the bigger size.
	}
	s := make([]float32, n, n+16)
	return &s
}

func putPackBuf(p *[]float32) { packBufs.Put(p) }

// sgemmBlocked runs the packed GEMM with micro-kernel kern. Arguments are checked by Sgemm.
func sgemmBlocked(kern *gemmKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	s := gemmStates.Get().(*gemmState)
	s.kern = kern
	s.transA, s.transB = transA, transB
	s.m, s.n, s.k = m, n, k
	s.alpha, s.beta = alpha, beta
	s.a, s.b, s.c = a, b, c
	s.lda, s.ldb, s.ldc = lda, ldb, ldc
	parallel := Threads() > 1 && float64(m)*float64(n)*float64(k) >= gemmParallelFlops
	s.mTiles = (m + kern.mr - 1) / kern.mr
	s.bpack = getPackBuf(kern.kc * kern.nc)

	for s.jc = 0; s.jc < n; s.jc += kern.nc {
		s.nc = min(kern.nc, n-s.jc)
		s.nPan = (s.nc + kern.nr - 1) / kern.nr
		for s.pc = 0; s.pc < k; s.pc += kern.kc {
			s.kc = min(kern.kc, k-s.pc)
			s.load = s.pc > 0 || beta != 0
			s.betaEff = beta
			if s.pc > 0 {
				s.betaEff = 1
			}
			if !parallel {
				s.packBRange(0, s.nPan)
				s.computeM(0, s.mTiles)
				continue
			}
			ParallelFor(s.nPan, 1, s.packBFn)
			// Split the rows of tiles unless there are too few of them to share out.
			if s.mTiles >= 2*Threads() || s.mTiles >= s.nPan {
				ParallelFor(s.mTiles, 1, s.computeMFn)
			} else {
				ParallelFor(s.nPan, 1, s.computeNFn)
			}
		}
	}
	putPackBuf(s.bpack)
	s.bpack = nil
	s.a, s.b, s.c = nil, nil, nil // do not keep the caller's memory alive from the pool
	s.kern = nil
	gemmStates.Put(s)
}

// scaleC sets C = beta*C (beta == 0 clears, NaN included).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(ci)
		case 1:
		default:
			for j := range ci {
				ci[j] *= beta
			}
		}
	}
}

// packBRange packs B panels [lo, hi) of the current block.
func (s *gemmState) packBRange(lo, hi int) {
	nr, kc := s.kern.nr, s.kc
	bp := *s.bpack
	for p := lo; p < hi; p++ {
		j0 := s.jc + p*nr
		cols := min(nr, s.jc+s.nc-j0)
		packB(bp[p*kc*nr:(p+1)*kc*nr], s.transB, s.b, s.ldb, s.pc, kc, j0, cols, nr)
	}
}

// computeM runs tile rows [lo, hi) against every B panel of the block.
func (s *gemmState) computeM(lo, hi int) {
	buf := getPackBuf(s.kern.mc * s.kern.kc)
	mcT := s.kern.mc / s.kern.mr
	for t0 := lo; t0 < hi; t0 += mcT {
		t1 := min(t0+mcT, hi)
		s.packARange(*buf, t0, t1)
		s.macro(*buf, t0, t1, 0, s.nPan)
	}
	putPackBuf(buf)
}

// computeN runs every tile row against B panels [lo, hi) (for short, wide products).
func (s *gemmState) computeN(lo, hi int) {
	buf := getPackBuf(s.kern.mc * s.kern.kc)
	mcT := s.kern.mc / s.kern.mr
	for t0 := 0; t0 < s.mTiles; t0 += mcT {
		t1 := min(t0+mcT, s.mTiles)
		s.packARange(*buf, t0, t1)
		s.macro(*buf, t0, t1, lo, hi)
	}
	putPackBuf(buf)
}

// packARange packs tile rows [t0, t1) of the current K block into buf.
func (s *gemmState) packARange(buf []float32, t0, t1 int) {
	mr, kc := s.kern.mr, s.kc
	for t := t0; t < t1; t++ {
		i0 := t * mr
		rows := min(mr, s.m-i0)
		o := (t - t0) * kc * mr
		packA(buf[o:o+kc*mr], s.transA, s.a, s.lda, i0, rows, s.pc, kc, mr)
	}
}

// macro multiplies packed tile rows [t0, t1) by packed B panels [p0, p1).
func (s *gemmState) macro(abuf []float32, t0, t1, p0, p1 int) {
	kern := s.kern
	mr, nr, kc := kern.mr, kern.nr, s.kc
	bp := *s.bpack
	for p := p0; p < p1; p++ {
		j := s.jc + p*nr
		cols := min(nr, s.jc+s.nc-j)
		bpan := &bp[p*kc*nr]
		for t := t0; t < t1; t++ {
			i := t * mr
			rows := min(mr, s.m-i)
			kern.run(kc, &abuf[(t-t0)*kc*mr], bpan, &s.c[i*s.ldc+j], s.ldc, s.alpha, s.betaEff, rows, cols, s.load)
		}
	}
}

// packA writes the MR-row strip i0..i0+rows of op(A), columns p0..p0+kc, as kc groups of mr floats
// (dst[p*mr+r] = op(A)[i0+r, p0+p]), zero padding rows >= rows.
func packA(dst []float32, transA bool, a []float32, lda, i0, rows, p0, kc, mr int) {
	dst = dst[:kc*mr]
	if transA { // A is (K,M): each group is a contiguous run of a row of A
		for p := 0; p < kc; p++ {
			d := dst[p*mr : p*mr+mr]
			o := (p0+p)*lda + i0
			copy(d, a[o:o+rows])
			clear(d[rows:])
		}
		return
	}
	for r := 0; r < rows; r++ {
		o := (i0+r)*lda + p0
		src := a[o : o+kc]
		d := dst[r:]
		for p, v := range src {
			d[p*mr] = v
		}
	}
	for r := rows; r < mr; r++ {
		for p := 0; p < kc; p++ {
			dst[p*mr+r] = 0
		}
	}
}

// packB writes the NR-column strip j0..j0+cols of op(B), rows p0..p0+kc, as kc groups of nr floats
// (dst[p*nr+c] = op(B)[p0+p, j0+c]), zero padding columns >= cols.
func packB(dst []float32, transB bool, b []float32, ldb, p0, kc, j0, cols, nr int) {
	dst = dst[:kc*nr]
	if !transB { // B is (K,N): each group is a contiguous run of a row of B
		for p := 0; p < kc; p++ {
			d := dst[p*nr : p*nr+nr]
			o := (p0+p)*ldb + j0
			copy(d, b[o:o+cols])
			clear(d[cols:])
		}
		return
	}
	for c := 0; c < cols; c++ {
		o := (j0+c)*ldb + p0
		src := b[o : o+kc]
		d := dst[c:]
		for p, v := range src {
			d[p*nr] = v
		}
	}
	for c := cols; c < nr; c++ {
		for p := 0; p < kc; p++ {
			dst[p*nr+c] = 0
		}
	}
}

// kernelGo is the portable 4 x 8 micro-kernel (scalar Go; 32 sums the compiler keeps mostly in
// registers). It serves purego builds and CPUs without AVX2, and tests the driver on its own.
var kernelGo = gemmKernel{name: "go", mr: 4, nr: 8, kc: 256, mc: 64, nc: 1024, run: sgemmKernelGo}

func sgemmKernelGo(k int, a, b, c *float32, ldc int, alpha, beta float32, rows, cols int, load bool) {
	const mr, nr = 4, 8
	ap := unsafe.Slice(a, k*mr)
	bp := unsafe.Slice(b, k*nr)
	var acc [mr][nr]float32
	for p := 0; p < k; p++ {
		av := ap[p*mr : p*mr+mr : p*mr+mr]
		bv := bp[p*nr : p*nr+nr : p*nr+nr]
		for r := 0; r < mr; r++ {
			x := av[r]
			acc[r][0] += x * bv[0]
			acc[r][1] += x * bv[1]
			acc[r][2] += x * bv[2]
			acc[r][3] += x * bv[3]
			acc[r][4] += x * bv[4]
			acc[r][5] += x * bv[5]
			acc[r][6] += x * bv[6]
			acc[r][7] += x * bv[7]
		}
	}
	cs := unsafe.Slice(c, (rows-1)*ldc+cols)
	for r := 0; r < rows; r++ {
		cr := cs[r*ldc : r*ldc+cols]
		for j := range cr {
			t := alpha * acc[r][j]
			if load {
				t += beta * cr[j]
			}
			cr[j] = t
		}
	}
}
