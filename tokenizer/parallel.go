// parallel.go: encoding many documents on all cores. Each goroutine takes whole documents (never a
// split one, so results equal the serial ones) and has its own word cache from the pool.

package tokenizer

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// EncodeParallel encodes each document (ordinary text, as Encode) with up to threads goroutines
// (<= 0: GOMAXPROCS). Documents are handed out one at a time, so uneven sizes balance; the result
// is identical to encoding them one by one.
func (b *BPE) EncodeParallel(docs []string, threads int) [][]int {
	out := make([][]int, len(docs))
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	threads = min(threads, len(docs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < threads; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := b.getState()
			defer b.states.Put(st)
			for {
				i := int(next.Add(1)) - 1
				if i >= len(docs) {
					return
				}
				out[i] = b.appendOrdinary(st, make([]int, 0, len(docs[i])/4+1), docs[i])
			}
		}()
	}
	wg.Wait()
	return out
}
