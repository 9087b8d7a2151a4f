package kernels

// The blocked, packed fp32 GEMM driver (GotoBLAS / BLIS loop nest) shared by every micro-kernel.
// It is plain Go and builds everywhere; only the micro-kernels and packers differ by platform.
//
// Loop nest, for C (M,N) = alpha * op(A) (M,K) · op(B) (K,N) + beta * C:
//
//	for jc over N in steps of NC:          a B block (KC x NC) is packed once, shared by all threads
//	  for pc over K in equal steps <= KC:  K is never split across threads (determinism)
//	    for ic over M in steps of MC:      an A block (MC x KC), also shared
//	      pack A block (MR-row panels) and, for the first ic, the B block (NR-column panels)
//	      work units of MB tile rows x NB panels, taken by threads from a counter:
//	        for each A panel (L1), for each B panel (L2): micro-kernel on an MR x NR tile of C
//
// Packing makes the micro-kernel's loads contiguous whatever the transposes, so NN, NT, TN and TT
// differ only in the packing routines. Blocks are double-buffered: the fork-join that computes a
// block also packs the next one, so there is one fork-join per block. Buffers live in a
// sync.Pool'ed state: no allocation in steady state.

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"tern/tensor"
)

// gemmKernel describes one micro-kernel and the block sizes tuned for it.
type gemmKernel struct {
	name   string
	mr, nr int // register tile: MR rows x NR columns of C
	kc     int // K block: an A panel is KC*MR floats, a B panel KC*NR floats
	mb, nb int // work unit: MB tile rows x NB B panels (a few hundred microseconds of work)
	mc     int // M super-block (rows of A packed at once, multiple of mr*mb): bounds the A buffer
	nc     int // N block (multiple of nr): the B block KC x NC is packed once per K block
	pack   int // packF32, or a bf16 mode (bgemm.go): how panels are packed and what k counts
	// run computes the tile C[0:rows, 0:cols] (row stride ldc) from packed panels a (k*mr) and b
	// (k*nr): C = alpha*acc if !load, else C = beta*C + alpha*acc (one rounding for the last step).
	run func(k int, a, b, c *float32, ldc int, alpha, beta float32, rows, cols int, load bool)
}

// gemmParallelFlops: below this many multiply-adds (~80 us on one Zen 4 core) a GEMM runs on the
// calling goroutine and never touches the worker pool, so such products are also safe inside a
// ParallelFor body (e.g. attention per head). Measured on 2 threads: 128^3 (2M) ran slower than on
// one (68 vs 75 GFLOP/s: two fork-joins and cross-core cache traffic), 256^3 (17M) faster (112 vs 92).
const gemmParallelFlops = 1 << 22

// gemmBlock is one (jc, pc, ic) block: C columns jc..jc+nc and rows ic..ic+mcur, K range pc..pc+kc.
type gemmBlock struct {
	jc, nc, pc, kc, ic, mcur int
	load                     bool    // read C (false only for the first K block with beta == 0)
	betaEff                  float32 // beta for the first K block, then 1
	nPan, mTiles             int     // B panels and A tile rows in the block
	packB                    bool    // the block brings a new B block (first M super-block of a K block)
	ap, bp                   []float32
	mb, nb                   int // work unit in tiles x panels (kern.mb x kern.nb, or smaller)
	nUnitsN, units           int // compute grid: units = ceil(mTiles/mb) * nUnitsN
}

// gemmState is one call's parameters plus the loop body bound once, so that handing it to
// ParallelFor allocates nothing.
type gemmState struct {
	kern           *gemmKernel
	pb             *PackedB // op(B) packed beforehand (BgemmPacked), or nil
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int

	// Each fork-join computes block cur and packs block nxt (into the other buffers), so packing
	// overlaps computing and fills the idle tail of a phase.
	cur, nxt     *gemmBlock
	blk          [2]gemmBlock
	nextU, nextP atomic.Int64 // work counters for cur's units and nxt's packing items
	apack, bpack [2][]float32 // double buffers, kept with the state and reused by later calls

	phaseFn func(lo, hi int)
}

// gemmStates is a free list of states with their packing buffers. Not a sync.Pool: the GC empties a
// sync.Pool, and re-growing the buffers afterwards would allocate inside training steps. It holds at
// most as many states as Sgemm calls ever ran at once.
var gemmStates struct {
	sync.Mutex
	free []*gemmState
}

func getGemmState() *gemmState {
	gemmStates.Lock()
	defer gemmStates.Unlock()
	if n := len(gemmStates.free); n > 0 {
		s := gemmStates.free[n-1]
		gemmStates.free = gemmStates.free[:n-1]
		return s
	}
	s := new(gemmState)
	s.phaseFn = s.phase
	return s
}

func putGemmState(s *gemmState) {
	gemmStates.Lock()
	gemmStates.free = append(gemmStates.free, s)
	gemmStates.Unlock()
}

// sgemmBlocked runs the packed GEMM with micro-kernel kern. Arguments are checked by Sgemm.
//
// Threads share both packed blocks. Each block costs one fork-join, in which threads take work
// units from an atomic counter and then pack the next block: a core slowed by another process does
// less of the work instead of holding everyone up. Which thread computes a tile never changes how
// it is computed, so results stay bit-identical for any thread count.
func sgemmBlocked(kern *gemmKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmBlocked(kern, nil, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmBlocked is sgemmBlocked, with B's panels taken from pb instead of packed when pb is not nil
// (pb packed by kern for this n and k; b is then unused).
func gemmBlocked(kern *gemmKernel, pb *PackedB, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	s := getGemmState()
	s.kern, s.pb = kern, pb
	s.transA, s.transB = transA, transB
	s.m, s.n, s.k = m, n, k
	s.alpha, s.beta = alpha, beta
	s.a, s.b, s.c = a, b, c
	s.lda, s.ldb, s.ldc = lda, ldb, ldc
	threads := Threads()
	if float64(m)*float64(n)*float64(k) < gemmParallelFlops {
		threads = 1
	}
	kc := gemmBlockK(kern.kc, k, kern.pack != packF32)
	mcMax := min(kern.mc, (m+kern.mr-1)/kern.mr*kern.mr)
	ncMax := min(kern.nc, (n+kern.nr-1)/kern.nr*kern.nr)
	for i := range 2 {
		s.apack[i] = tensor.Grow(s.apack[i], mcMax*panelK(kern.pack, kc))
		if pb == nil {
			s.bpack[i] = tensor.Grow(s.bpack[i], ncMax*panelK(kern.pack, kc))
		}
	}

	s.cur, s.nxt = nil, nil
	ai, bi, nb, pbBlock := 0, 1, 0, 0
	for jc := 0; jc < n; jc += kern.nc {
		for pc := 0; pc < k; pc += kc {
			for ic := 0; ic < m; ic += kern.mc {
				blk := &s.blk[nb%2]
				nb++
				*blk = gemmBlock{
					jc: jc, nc: min(kern.nc, n-jc), pc: pc, kc: min(kc, k-pc), ic: ic, mcur: min(kern.mc, m-ic),
					load: pc > 0 || beta != 0, betaEff: beta, packB: ic == 0,
				}
				if pc > 0 {
					blk.betaEff = 1
				}
				blk.nPan = (blk.nc + kern.nr - 1) / kern.nr
				blk.mTiles = (blk.mcur + kern.mr - 1) / kern.mr
				if blk.packB {
					bi ^= 1
				}
				blk.ap, blk.bp = s.apack[ai], s.bpack[bi]
				if pb != nil {
					blk.packB, blk.bp = false, pb.panels[pb.offs[pbBlock]:]
				}
				ai ^= 1
				s.cur, s.nxt = s.nxt, blk
				s.step(threads)
			}
			pbBlock++
		}
	}
	s.cur, s.nxt = s.nxt, nil
	s.step(threads)

	s.cur, s.nxt = nil, nil
	s.blk = [2]gemmBlock{}
	s.a, s.b, s.c = nil, nil, nil // do not keep the caller's memory alive from the pool
	s.kern, s.pb = nil, nil
	putGemmState(s)
}

// gemmBlockK is the K block for a product of depth k with kernel block kc: equal blocks (K 1024 ->
// 3 x ~344 rather than 384+384+256, so the last block is not short), multiples of 8 when there are
// several; even is for the bf16 modes, whose panels hold whole pairs.
func gemmBlockK(kc, k int, even bool) int {
	if nk := (k + kc - 1) / kc; nk > 1 {
		return ((k+nk-1)/nk + 7) &^ 7
	}
	if even {
		return (k + 1) &^ 1
	}
	return k
}

// panelK is the number of micro-kernel steps, and of MR or NR lane groups in a panel, for a block of
// depth kc: kc fp32 steps, kc rounded up to whole pairs for the emulated bf16 mode, kc/2 pairs
// (rounded up) for the native one, whose panels take half the memory of fp32 ones, and for AMX's
// those pairs padded to whole tile steps of 16.
func panelK(mode, kc int) int {
	switch mode {
	case packBF16Emu:
		return (kc + 1) &^ 1
	case packBF16:
		return (kc + 1) / 2
	case packBF16AMX:
		return amxPairs(kc)
	}
	return kc
}

// step runs one fork-join: compute s.cur, pack s.nxt.
func (s *gemmState) step(threads int) {
	if s.cur != nil {
		s.grid(s.cur, threads)
	}
	s.nextU.Store(0)
	s.nextP.Store(0)
	if threads <= 1 {
		s.phase(0, 1)
		return
	}
	ParallelFor(threads, 1, s.phaseFn)
}

// grid sets the compute work units of block b: the kernel's unit, halved (panels first) until there
// are at least 4 units per thread, so a small product still keeps every thread busy and the last
// unit to finish is short.
func (s *gemmState) grid(b *gemmBlock, threads int) {
	b.mb, b.nb = s.kern.mb, s.kern.nb
	for {
		b.nUnitsN = (b.nPan + b.nb - 1) / b.nb
		b.units = (b.mTiles + b.mb - 1) / b.mb * b.nUnitsN
		if threads <= 1 || b.units >= 4*threads || (b.mb == 1 && b.nb == 1) {
			return
		}
		if b.nb >= b.mb && b.nb > 1 {
			b.nb = (b.nb + 1) / 2
		} else {
			b.mb = (b.mb + 1) / 2
		}
	}
}

// phase is one thread's share of a step: compute units of s.cur while any are left, then packing
// items of s.nxt.
func (s *gemmState) phase(_, _ int) {
	if b := s.cur; b != nil {
		s.compute(b)
	}
	if b := s.nxt; b != nil {
		s.pack(b)
	}
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

// pack packs block b's A tile rows and, if due, its B panels; items are taken 4 at a time from
// s.nextP (A tile rows first, then B panels).
func (s *gemmState) pack(b *gemmBlock) {
	mr, nr, kc := s.kern.mr, s.kern.nr, b.kc
	ks := panelK(s.kern.pack, kc)
	nB := 0
	if b.packB {
		nB = b.nPan
	}
	total := b.mTiles + nB
	for {
		lo := int(s.nextP.Add(4)) - 4
		if lo >= total {
			return
		}
		for it := lo; it < min(lo+4, total); it++ {
			if it < b.mTiles {
				i0 := b.ic + it*mr
				packA(s.kern.pack, b.ap[it*ks*mr:(it+1)*ks*mr], s.transA, s.a, s.lda, i0, min(mr, s.m-i0), b.pc, kc, mr)
				continue
			}
			p := it - b.mTiles
			j0 := b.jc + p*nr
			packB(s.kern.pack, b.bp[p*ks*nr:(p+1)*ks*nr], s.transB, s.b, s.ldb, b.pc, kc, j0, min(nr, b.jc+b.nc-j0), nr)
		}
	}
}

// compute runs block b's work units (MB tile rows x NB panels) taken from s.nextU.
func (s *gemmState) compute(b *gemmBlock) {
	kern := s.kern
	mr, nr, kc := kern.mr, kern.nr, b.kc
	ap, bp := b.ap, b.bp
	ks := panelK(kern.pack, kc) // also what the micro-kernel's k counts
	for {
		u := int(s.nextU.Add(1)) - 1
		if u >= b.units {
			return
		}
		t0 := u / b.nUnitsN * b.mb
		p0 := u % b.nUnitsN * b.nb
		t1 := min(t0+b.mb, b.mTiles)
		p1 := min(p0+b.nb, b.nPan)
		// A panel (MR x KC, 21 KiB at KC 384) stays in L1 while the unit's B panels stream from L2.
		for t := t0; t < t1; t++ {
			i := b.ic + t*mr
			apan := &ap[t*ks*mr]
			for p := p0; p < p1; p++ {
				j := b.jc + p*nr
				kern.run(ks, apan, &bp[p*ks*nr], &s.c[i*s.ldc+j], s.ldc, s.alpha, b.betaEff, min(mr, s.m-i), min(nr, b.jc+b.nc-j), b.load)
			}
		}
	}
}

// packA writes the MR-row strip i0..i0+rows of op(A), columns p0..p0+kc, as kc groups of mr floats
// (dst[p*mr+r] = op(A)[i0+r, p0+p]), zero padding rows >= rows.
func packA(mode int, dst []float32, transA bool, a []float32, lda, i0, rows, p0, kc, mr int) {
	if mode == packBF16AMX {
		mode = packBF16AMXRows // AMX tiles read A by rows
	}
	if transA { // A is (K,M): each group is a contiguous run of a row of A
		packPanelMode(mode, dst, true, a[p0*lda+i0:], lda, rows, mr, kc)
	} else {
		packPanelMode(mode, dst, false, a[i0*lda+p0:], lda, rows, mr, kc)
	}
}

// packB writes the NR-column strip j0..j0+cols of op(B), rows p0..p0+kc, as kc groups of nr floats
// (dst[p*nr+c] = op(B)[p0+p, j0+c]), zero padding columns >= cols.
func packB(mode int, dst []float32, transB bool, b []float32, ldb, p0, kc, j0, cols, nr int) {
	if !transB { // B is (K,N): each group is a contiguous run of a row of B
		packPanelMode(mode, dst, true, b[p0*ldb+j0:], ldb, cols, nr, kc)
	} else {
		packPanelMode(mode, dst, false, b[j0*ldb+p0:], ldb, cols, nr, kc)
	}
}

// packPanelMode is packPanel for fp32 panels, packPanelBF16 for the bf16 modes.
func packPanelMode(mode int, dst []float32, runs bool, src []float32, ld, n, width, kc int) {
	if mode == packF32 {
		packPanel(dst, runs, src, ld, n, width, kc)
	} else {
		packPanelBF16(mode, dst, runs, src, ld, n, width, kc)
	}
}

// packPanel is packA and packB: it writes kc groups of width floats into dst, of which the first n
// come from src (lines ld apart) and the rest are zero. With runs, group p is src[p*ld : p*ld+n];
// otherwise element c of group p is src[c*ld+p] (n strips of kc, transposed on the way).
func packPanel(dst []float32, runs bool, src []float32, ld, n, width, kc int) {
	dst = dst[:kc*width]
	if runs {
		if packRows(dst, width, src, ld, n, width, kc) {
			return
		}
		for p := 0; p < kc; p++ {
			d := dst[p*width : p*width+width]
			copy(d, src[p*ld:p*ld+n])
			clear(d[n:])
		}
		return
	}
	if packStrips(dst, width, src, ld, n, width, kc) {
		return
	}
	for c := 0; c < n; c++ {
		d := dst[c:]
		for p, v := range src[c*ld : c*ld+kc] {
			d[p*width] = v
		}
	}
	for c := n; c < width; c++ {
		for p := 0; p < kc; p++ {
			dst[p*width+c] = 0
		}
	}
}

// kernelGo is the portable 2 x 4 micro-kernel in scalar Go: 8 named sums plus 4 B values fit the
// 16 SSE registers (a 4 x 4 tile spilled more, and an indexed accumulator array stays in memory).
// ~5 GFLOP/s on one Zen 4 core: on par with SgemmGeneric's NN loop, 9x its NT loop. It serves
// purego builds and CPUs without AVX2, and tests the driver on its own.
var kernelGo = gemmKernel{name: "go", mr: 2, nr: 4, kc: 256, mb: 32, nb: 32, mc: 4096, nc: 4096, run: sgemmKernelGo}

func sgemmKernelGo(k int, a, b, c *float32, ldc int, alpha, beta float32, rows, cols int, load bool) {
	const mr, nr = 2, 4
	ap := unsafe.Slice(a, k*mr)
	bp := unsafe.Slice(b, k*nr)
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	for p := 0; p < k; p++ {
		av := ap[p*mr : p*mr+mr : p*mr+mr]
		bv := bp[p*nr : p*nr+nr : p*nr+nr]
		b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
		x := av[0]
		c00 += x * b0
		c01 += x * b1
		c02 += x * b2
		c03 += x * b3
		x = av[1]
		c10 += x * b0
		c11 += x * b1
		c12 += x * b2
		c13 += x * b3
	}
	acc := [mr][nr]float32{{c00, c01, c02, c03}, {c10, c11, c12, c13}}
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
