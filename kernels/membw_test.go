package kernels

import (
	"math/rand"
	"testing"
)

func TestReadSum(t *testing.T) {
	rng := rand.New(rand.NewSource(0))
	b := make([]byte, 5000)
	rng.Read(b)
	for _, n := range []int{0, 7, 8, 255, 256, 257, 1000, 4096, 5000} {
		want := readSumGeneric(b[:n])
		for _, name := range Impls() {
			withImplName(name, func() {
				if got := readSum(b[:n]); got != want {
					t.Errorf("n=%d %s: %d, want %d", n, name, got, want)
				}
			})
		}
	}
	// Independent check of the generic sum on a hand-made buffer: words 1, 2, ..., 32.
	w := make([]byte, 256)
	for i := 0; i < 32; i++ {
		w[8*i] = byte(i + 1)
	}
	if got := readSum(w); got != 32*33/2 {
		t.Errorf("readSum = %d, want %d", got, 32*33/2)
	}
}

func TestMemReadBandwidth(t *testing.T) {
	buf := make([]byte, 4<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	med, best := MemReadBandwidth(buf, 3)
	if !(med > 0 && best >= med) {
		t.Errorf("median %v best %v", med, best)
	}
}

// TestMemRead: the threads' shares cover the buffer exactly once, for any thread count.
func TestMemRead(t *testing.T) {
	old := Threads()
	defer SetThreads(old)
	b := make([]byte, 3<<20+8*37)
	rand.New(rand.NewSource(1)).Read(b)
	want := readSumGeneric(b)
	for _, th := range []int{1, 2, 3, 7} {
		SetThreads(th)
		if got := MemRead(b); got != want {
			t.Errorf("threads %d: %d, want %d", th, got, want)
		}
	}
}
