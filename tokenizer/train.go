// train.go: learning a byte-level BPE vocabulary from text, the way Hugging Face tokenizers'
// BpeTrainer does with a ByteLevel pre-tokenizer: split text into GPT-2 pre-tokens, count distinct
// words, start from the 256 bytes, and repeatedly merge the most frequent adjacent pair (ties: the
// pair with the smaller (left, right) ids) until the vocabulary is full.
//
// Speed comes from never recounting: pair counts are updated by the deltas of the words a merge
// touches (pair -> word list index), and a max-heap with lazy invalidation picks the next pair. A
// popped entry whose count is stale is pushed back with the true count; since counts only grow by
// pushing a fresh entry, the first entry whose count is current is the true maximum.

package tokenizer

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// TrainConfig holds the trainer's settings.
type TrainConfig struct {
	VocabSize    int      // total ids: special tokens + 256 bytes + merges, e.g. 32000
	MinFrequency int      // stop when the best pair occurs fewer times (0 or 1: merge while any pair exists)
	Special      []string // special tokens, given ids 0.. in order, e.g. ["<|endoftext|>"]
	// Progress, if set, is called every 1000 merges and at the end.
	Progress func(merges, target int)
}

// WordCounts counts GPT-2 pre-tokens; build it with Add, then pass it to TrainCounts.
type WordCounts map[string]int64

// Add counts the pre-tokens of text, skipping the special tokens listed (they never take part in
// merges, as in Hugging Face's trainer).
func (wc WordCounts) Add(text string, special []string) {
	for len(text) > 0 {
		at, sp := -1, ""
		for _, s := range special {
			if i := strings.Index(text, s); i >= 0 && (at < 0 || i < at) {
				at, sp = i, s
			}
		}
		seg := text
		if at >= 0 {
			seg, text = text[:at], text[at+len(sp):]
		} else {
			text = ""
		}
		for i := 0; i < len(seg); {
			j := pretokenEnd(seg, i)
			wc[seg[i:j]]++
			i = j
		}
	}
}

// Train learns a vocabulary from texts (CountWords, then TrainCounts).
func Train(texts []string, cfg TrainConfig) (*BPE, error) {
	return TrainCounts(CountWords(texts, cfg.Special), cfg)
}

// CountWords counts the pre-tokens of texts on all cores (one goroutine per share of the texts;
// the sums do not depend on the split).
func CountWords(texts []string, special []string) WordCounts {
	workers := min(runtime.GOMAXPROCS(0), max(len(texts), 1))
	parts := make([]WordCounts, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wc := WordCounts{}
			for i := w; i < len(texts); i += workers {
				wc.Add(texts[i], special)
			}
			parts[w] = wc
		}(w)
	}
	wg.Wait()
	all := parts[0]
	for _, p := range parts[1:] {
		for k, v := range p {
			all[k] += v
		}
	}
	return all
}

// trainHeap is a max-heap of (count, pair): higher count first, then the smaller pair key.
type trainEntry struct {
	count int64
	pair  uint64
}

type trainHeap []trainEntry

func (h trainHeap) before(i, j int) bool {
	return h[i].count > h[j].count || (h[i].count == h[j].count && h[i].pair < h[j].pair)
}

func (h *trainHeap) push(e trainEntry) {
	*h = append(*h, e)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.before(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *trainHeap) pop() trainEntry {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && s.before(l, m) {
			m = l
		}
		if l+1 < n && s.before(l+1, m) {
			m = l + 1
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// TrainCounts learns a vocabulary from word counts. Ids: special tokens first, then the 256 bytes
// in the order of their byte-level characters (as Hugging Face sorts its alphabet), then merges.
func TrainCounts(counts WordCounts, cfg TrainConfig) (*BPE, error) {
	base := len(cfg.Special) + 256
	if cfg.VocabSize < base {
		return nil, fmt.Errorf("tokenizer: vocab size %d is below %d (special tokens + 256 bytes)", cfg.VocabSize, base)
	}
	if cfg.VocabSize > maxVocab {
		return nil, fmt.Errorf("tokenizer: vocab size %d is above %d", cfg.VocabSize, maxVocab)
	}
	tokens := make([][]byte, 0, cfg.VocabSize)
	for range cfg.Special {
		tokens = append(tokens, nil) // filled by addSpecial
	}
	alphabet := make([]int, 256)
	for i := range alphabet {
		alphabet[i] = i
	}
	slices.SortFunc(alphabet, func(a, b int) int { return int(byteToRune[a]) - int(byteToRune[b]) })
	var byteID [256]int32
	for _, c := range alphabet {
		byteID[c] = int32(len(tokens))
		tokens = append(tokens, []byte{byte(c)})
	}
	index := make(map[string]int32, cfg.VocabSize)
	for id, t := range tokens {
		if t != nil {
			index[string(t)] = int32(id)
		}
	}

	// Words in sorted order, so every run visits them identically.
	words := make([]string, 0, len(counts))
	for w := range counts {
		words = append(words, w)
	}
	slices.Sort(words)
	syms := make([][]int32, len(words))
	freq := make([]int64, len(words))
	slab := make([]int32, 0, func() int {
		n := 0
		for _, w := range words {
			n += len(w)
		}
		return n
	}())
	pairCount := map[uint64]int64{}
	where := map[uint64][]int32{}
	for i, w := range words {
		start := len(slab)
		for j := 0; j < len(w); j++ {
			slab = append(slab, byteID[w[j]])
		}
		s := slab[start:len(slab):len(slab)]
		syms[i], freq[i] = s, counts[w]
		for j := 0; j+1 < len(s); j++ {
			k := pairKey(s[j], s[j+1])
			pairCount[k] += freq[i]
			if l := where[k]; len(l) == 0 || l[len(l)-1] != int32(i) {
				where[k] = append(l, int32(i))
			}
		}
	}
	h := make(trainHeap, 0, len(pairCount))
	for k, c := range pairCount {
		h = append(h, trainEntry{c, k})
	}
	slices.SortFunc(h, func(a, b trainEntry) int { // a sorted slice is a valid heap
		if a.count != b.count {
			if a.count > b.count {
				return -1
			}
			return 1
		}
		if a.pair < b.pair {
			return -1
		}
		return 1
	})

	minFreq := max(int64(cfg.MinFrequency), 1)
	var merges [][2]int32
	visited := make([]int32, len(words)) // merge number that last touched word i, +1
	delta := map[uint64]int64{}
	target := cfg.VocabSize - base
	for len(tokens) < cfg.VocabSize && len(h) > 0 {
		top := h.pop()
		cur := pairCount[top.pair]
		if top.count != cur {
			if cur > 0 {
				h.push(trainEntry{cur, top.pair})
			}
			continue
		}
		if cur < minFreq {
			break
		}
		a, b := int32(top.pair>>32), int32(uint32(top.pair))
		merged := string(tokens[a]) + string(tokens[b])
		id, exists := index[merged]
		if !exists {
			id = int32(len(tokens))
			tokens = append(tokens, []byte(merged))
			index[merged] = id
		}
		merges = append(merges, [2]int32{a, b})
		stamp := int32(len(merges))
		clear(delta)
		for _, wi := range where[top.pair] {
			if visited[wi] == stamp {
				continue
			}
			visited[wi] = stamp
			s, c := syms[wi], freq[wi]
			out := s[:0]
			for r := 0; r < len(s); {
				if r+1 < len(s) && s[r] == a && s[r+1] == b {
					if len(out) > 0 {
						p := out[len(out)-1]
						delta[pairKey(p, a)] -= c
						delta[pairKey(p, id)] += c
					}
					if r+2 < len(s) {
						nx := s[r+2]
						delta[pairKey(b, nx)] -= c
						delta[pairKey(id, nx)] += c
					}
					out = append(out, id)
					r += 2
					continue
				}
				out = append(out, s[r])
				r++
			}
			if len(out) < len(s) {
				syms[wi] = out
				for j := 0; j+1 < len(out); j++ { // record where the new pairs are
					if out[j] == id || out[j+1] == id {
						k := pairKey(out[j], out[j+1])
						if l := where[k]; len(l) == 0 || l[len(l)-1] != wi {
							where[k] = append(l, wi)
						}
					}
				}
			}
		}
		delete(pairCount, top.pair)
		delete(where, top.pair)
		// Apply deltas in key order so the heap evolves identically on every run.
		keys := make([]uint64, 0, len(delta))
		for k, d := range delta {
			if d != 0 && k != top.pair {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			d := delta[k]
			c := pairCount[k] + d
			if c <= 0 {
				delete(pairCount, k)
				delete(where, k)
				continue
			}
			pairCount[k] = c
			if d > 0 {
				h.push(trainEntry{c, k})
			}
		}
		if cfg.Progress != nil && len(merges)%1000 == 0 {
			cfg.Progress(len(merges), target)
		}
	}
	if cfg.Progress != nil {
		cfg.Progress(len(merges), target)
	}

	bpe, err := newBPE("bpe", tokens)
	if err != nil {
		return nil, err
	}
	for i, sp := range cfg.Special {
		if err := bpe.addSpecial(sp, i); err != nil {
			return nil, err
		}
	}
	bpe.pairs = make(map[uint64]merge, len(merges))
	for i, m := range merges {
		k := pairKey(m[0], m[1])
		if _, dup := bpe.pairs[k]; !dup {
			bpe.pairs[k] = merge{rank: int32(i), id: index[string(tokens[m[0]])+string(tokens[m[1]])]}
		}
	}
	bpe.mergeList = merges
	bpe.mergesOnce.Do(func() {})
	bpe.hfMerges = true
	return bpe, nil
}
