// bpe.go: the byte-level BPE encoder and decoder shared by the built-in GPT-2 vocabulary and
// tokenizer.json files. It is not the trainer (train.go) or the file format (hfjson.go).
//
// Text is split into pre-tokens (pretokenize.go); each pre-token's bytes start as single-byte tokens
// and the adjacent pair with the lowest merge rank is merged, leftmost first on ties, until no pair
// merges. For r50k_base a pair merges when the concatenation of its bytes is a token, and the rank is
// that token's id, exactly as tiktoken does; for a tokenizer.json the pair must be in the merges list,
// ranked by its position, as Hugging Face tokenizers does. Both become one table: (left, right) ->
// (rank, merged id).

package tokenizer

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Tokenizer turns text into token ids and back. Implementations are safe for concurrent use.
type Tokenizer interface {
	// Encode returns the ids of text. Special-token text (e.g. "<|endoftext|>") is encoded as
	// ordinary text; use (*BPE).EncodeWithSpecial to choose otherwise.
	Encode(text string) []int
	// Decode returns the text of ids; ids outside the vocabulary are skipped (see DecodeChecked).
	Decode(ids []int) string
	// VocabSize is one more than the largest id Encode can return.
	VocabSize() int
	// Name identifies the tokenizer: "gpt2", "char", or the file it was loaded from.
	Name() string
}

// SpecialPolicy says what EncodeWithSpecial does with special-token text found in its input, as
// tiktoken's allowed_special / disallowed_special arguments do.
type SpecialPolicy int

const (
	// SpecialDisallow returns an error naming the special token (tiktoken's default).
	SpecialDisallow SpecialPolicy = iota
	// SpecialAllow encodes it as its special id (e.g. <|endoftext|> -> 50256 in GPT-2).
	SpecialAllow
	// SpecialAsText encodes it as ordinary text, like Encode.
	SpecialAsText
)

// ErrUnknownID is returned (wrapped) by DecodeChecked for an id outside the vocabulary.
var ErrUnknownID = errors.New("tokenizer: unknown token id")

// ErrDisallowedSpecial is returned (wrapped) by EncodeWithSpecial under SpecialDisallow.
var ErrDisallowedSpecial = errors.New("tokenizer: disallowed special token in input")

// merge is one entry of the pair table.
type merge struct {
	rank int32 // lower merges first
	id   int32 // the merged token
}

// BPE is a byte-level BPE tokenizer. It is immutable after construction and safe for concurrent use.
type BPE struct {
	name   string
	tokens [][]byte         // id -> bytes; nil for ids that are not tokens (holes)
	pairs  map[uint64]merge // left<<32 | right -> merge
	byteID [256]int32       // byte -> id of its one-byte token
	vocab  map[string]int32 // token bytes -> id (ordinary tokens)

	special    []string         // special-token texts, longest first (so a prefix never wins)
	specialID  map[string]int32 // text -> id
	isSpecial  map[int32]bool
	hfMerges   bool           // ranks are merge-list positions (tokenizer.json); false: rank = id (tiktoken)
	ignoreMrg  bool           // tokenizer.json "ignore_merges": a pre-token that is a token is taken whole
	prefixSpc  bool           // tokenizer.json ByteLevel "add_prefix_space"
	llama3     bool           // LLaMA-3's pre-tokenizer (pretokenize_llama3.go) instead of GPT-2's
	nfc        bool           // tokenizer.json normalizer NFC: text is composed before pre-tokenization
	prefix     []int32        // ids the post-processor puts before a sequence (e.g. BOS; AddSpecialTokens)
	suffix     []int32        // ids it puts after one
	plain      map[int32]bool // added tokens that tokenizer.json does not mark "special" (matched in text all the same)
	states     sync.Pool
	cacheGen   atomic.Int64 // bumped by ResetCache; states from an older generation start empty
	mergesOnce sync.Once
	mergeList  [][2]int32 // merges in rank order, for Save (derived lazily for r50k)
	mergeErr   error
}

// newBPE builds the tables from tokens (id -> bytes, nil = hole). Every single byte must be a token.
func newBPE(name string, tokens [][]byte) (*BPE, error) {
	b := &BPE{name: name, tokens: tokens, vocab: make(map[string]int32, len(tokens)),
		specialID: map[string]int32{}, isSpecial: map[int32]bool{}}
	for i := range b.byteID {
		b.byteID[i] = -1
	}
	for id, t := range tokens {
		if t == nil {
			continue
		}
		if len(t) == 0 {
			return nil, fmt.Errorf("tokenizer: token %d is empty", id)
		}
		if prev, dup := b.vocab[string(t)]; dup {
			return nil, fmt.Errorf("tokenizer: tokens %d and %d have the same bytes %q", prev, id, t)
		}
		b.vocab[string(t)] = int32(id)
		if len(t) == 1 {
			b.byteID[t[0]] = int32(id)
		}
	}
	for c, id := range b.byteID {
		if id < 0 {
			return nil, fmt.Errorf("tokenizer: byte 0x%02x has no token (a byte-level vocabulary needs all 256)", c)
		}
	}
	b.states.New = func() any { return newEncState() }
	return b, nil
}

// addSpecial registers a special token; its id may be past the ordinary tokens or replace a hole.
func (b *BPE) addSpecial(text string, id int) error {
	if text == "" {
		return fmt.Errorf("tokenizer: empty special token")
	}
	if _, dup := b.specialID[text]; dup {
		return fmt.Errorf("tokenizer: special token %q listed twice", text)
	}
	for id >= len(b.tokens) {
		b.tokens = append(b.tokens, nil)
	}
	if t := b.tokens[id]; t != nil && string(t) != text {
		return fmt.Errorf("tokenizer: special token %q has id %d, which is already token %q", text, id, t)
	}
	if t := b.tokens[id]; t != nil {
		delete(b.vocab, string(t)) // a special token listed in the vocab too is only special
		if len(t) == 1 {
			return fmt.Errorf("tokenizer: special token %q is a single byte", text)
		}
	}
	b.tokens[id] = []byte(text)
	b.specialID[text] = int32(id)
	b.isSpecial[int32(id)] = true
	b.special = append(b.special, text)
	sort.Slice(b.special, func(i, j int) bool {
		if len(b.special[i]) != len(b.special[j]) {
			return len(b.special[i]) > len(b.special[j])
		}
		return b.special[i] < b.special[j]
	})
	return nil
}

func pairKey(l, r int32) uint64 { return uint64(uint32(l))<<32 | uint64(uint32(r)) }

// Name returns "gpt2" for the built-in vocabulary, else the path it was loaded from or "bpe".
func (b *BPE) Name() string { return b.name }

// VocabSize returns one more than the largest id (special tokens included).
func (b *BPE) VocabSize() int { return len(b.tokens) }

// SpecialTokens returns the special-token texts and ids.
func (b *BPE) SpecialTokens() map[string]int {
	m := make(map[string]int, len(b.specialID))
	for k, v := range b.specialID {
		m[k] = int(v)
	}
	return m
}

// TokenBytes returns the bytes of id (nil if it is not a token). The slice must not be modified.
func (b *BPE) TokenBytes(id int) []byte {
	if id < 0 || id >= len(b.tokens) {
		return nil
	}
	return b.tokens[id]
}

// Encode encodes text with special-token text treated as ordinary text (= EncodeOrdinary).
func (b *BPE) Encode(text string) []int { return b.EncodeOrdinary(text) }

// EncodeOrdinary encodes text ignoring special tokens, as tiktoken's encode_ordinary.
func (b *BPE) EncodeOrdinary(text string) []int {
	st := b.getState()
	out := b.appendOrdinary(st, make([]int, 0, len(text)/4+1), text)
	b.states.Put(st)
	return out
}

// AppendEncode appends the ids of text (ordinary) to dst; with a reused dst it does not allocate
// once its word cache is warm.
func (b *BPE) AppendEncode(dst []int, text string) []int {
	st := b.getState()
	dst = b.appendOrdinary(st, dst, text)
	b.states.Put(st)
	return dst
}

// EncodeWithSpecial encodes text, handling special-token text by policy.
func (b *BPE) EncodeWithSpecial(text string, policy SpecialPolicy) ([]int, error) {
	if policy == SpecialAsText || len(b.special) == 0 {
		return b.EncodeOrdinary(text), nil
	}
	if policy != SpecialAllow && policy != SpecialDisallow {
		return nil, fmt.Errorf("tokenizer: unknown special policy %d", policy)
	}
	st := b.getState()
	defer b.states.Put(st)
	out := make([]int, 0, len(text)/4+1)
	for len(text) > 0 {
		at, sp := b.findSpecial(text)
		if at < 0 {
			return b.appendOrdinary(st, out, text), nil
		}
		if policy == SpecialDisallow {
			return nil, fmt.Errorf("%w: %q at byte %d (encode it as text or allow it explicitly)", ErrDisallowedSpecial, sp, at)
		}
		out = b.appendOrdinary(st, out, text[:at])
		out = append(out, int(b.specialID[sp]))
		text = text[at+len(sp):]
	}
	return out, nil
}

// findSpecial returns the first occurrence of any special token (longest on a tie), or -1.
func (b *BPE) findSpecial(text string) (int, string) {
	best, which := -1, ""
	for _, sp := range b.special {
		if i := strings.Index(text, sp); i >= 0 && (best < 0 || i < best) {
			best, which = i, sp
		}
	}
	return best, which
}

// Decode returns the text of ids; unknown ids are skipped. The result may be invalid UTF-8 when
// ids cut a character, which keeps Decode(Encode(x)) == x for every byte string x.
func (b *BPE) Decode(ids []int) string {
	return string(b.AppendDecode(nil, ids))
}

// AppendDecode appends the bytes of ids to dst, skipping unknown ids.
func (b *BPE) AppendDecode(dst []byte, ids []int) []byte {
	for _, id := range ids {
		if id >= 0 && id < len(b.tokens) {
			dst = append(dst, b.tokens[id]...)
		}
	}
	return dst
}

// DecodeChecked is Decode, but an id outside the vocabulary is an error.
func (b *BPE) DecodeChecked(ids []int) (string, error) {
	n := 0
	for i, id := range ids {
		if id < 0 || id >= len(b.tokens) || b.tokens[id] == nil {
			return "", fmt.Errorf("%w: %d at position %d (vocabulary size %d)", ErrUnknownID, id, i, len(b.tokens))
		}
		n += len(b.tokens[id])
	}
	return string(b.AppendDecode(make([]byte, 0, n), ids)), nil
}

// --- encoding

// encState is one goroutine's scratch space: the per-word cache and merge buffers. The cache maps
// a pre-token's bytes to its ids (stored in one slab). On the Gutenberg books (5.4M pre-tokens) with
// GPT-2, 22.7% of pre-tokens are one byte and 68.2% are whole tokens (no merging either way); of
// the other 9.1%, seven in eight hit the cache, so only 1.1% are merged.
type encState struct {
	gen   int64
	cache map[string]span
	slab  []int32
	parts []int32 // ids of the current word's parts
	ranks []int32 // rank of parts[i], parts[i+1] merging (maxRank: none)
	heap  mergeHeap
	nodes []node
}

type span struct{ off, n int32 }

const (
	maxCacheWords = 1 << 17 // words of <= 128 bytes: ~10 MB per encoder at most; reset when full
	longWord      = 128     // bytes; above this the O(n log n) heap merge replaces the O(n^2) scan
	// maxPretoken bounds the bytes merged as one pre-token. A longer one (no real word is; a 50 MB
	// line without spaces took 22 s and 3.4 GB as one) is merged in pieces of at most this size, cut
	// at character starts: its ids then differ from tiktoken's only near the cuts, and time and memory
	// stay linear in the text.
	maxPretoken = 1 << 12
	maxRank     = int32(1<<31 - 1)
)

func newEncState() *encState { return &encState{cache: make(map[string]span, 1024)} }

// getState takes a scratch state from the pool, emptying its cache if ResetCache ran since.
func (b *BPE) getState() *encState {
	st := b.states.Get().(*encState)
	if g := b.cacheGen.Load(); st.gen != g {
		clear(st.cache)
		st.slab = st.slab[:0]
		st.gen = g
	}
	return st
}

// ResetCache empties the per-word caches (they refill as text is encoded); benchmarks use it to
// time cold starts. Results never depend on the cache.
func (b *BPE) ResetCache() { b.cacheGen.Add(1) }

func (b *BPE) appendOrdinary(st *encState, out []int, text string) []int {
	if b.nfc {
		text = norm.NFC.String(text) // the input itself when it is already NFC (most text)
	}
	if b.prefixSpc && len(text) > 0 && text[0] != ' ' {
		text = " " + text
	}
	for i := 0; i < len(text); {
		var j int
		if b.llama3 {
			j = llama3End(text, i)
		} else {
			j = pretokenEnd(text, i)
		}
		for j-i > maxPretoken { // a pathological run (a 50 MB line of one letter): merge it in pieces
			k := i + maxPretoken
			for k > i+1 && !utf8.RuneStart(text[k]) {
				k--
			}
			out = b.appendWord(st, out, text[i:k])
			i = k
		}
		out = b.appendWord(st, out, text[i:j])
		i = j
	}
	return out
}

// appendWord appends the ids of one pre-token.
func (b *BPE) appendWord(st *encState, out []int, w string) []int {
	if len(w) == 1 {
		return append(out, int(b.byteID[w[0]]))
	}
	if b.ignoreMrg || !b.hfMerges {
		// A pre-token that is itself a token is taken whole, as tiktoken does (and Hugging Face
		// with ignore_merges). Most GPT-2 words are, so this lookup comes before the cache.
		if id, ok := b.vocab[w]; ok {
			return append(out, int(id))
		}
	}
	if sp, ok := st.cache[w]; ok {
		for _, id := range st.slab[sp.off : sp.off+sp.n] {
			out = append(out, int(id))
		}
		return out
	}
	var parts []int32
	if len(w) <= longWord {
		parts = b.mergeScan(st, w)
	} else {
		parts = b.mergeHeap(st, w)
	}
	st.parts = parts
	if len(w) <= longWord { // long runs are rare and would bloat the cache
		if len(st.cache) >= maxCacheWords {
			clear(st.cache)
			st.slab = st.slab[:0]
		}
		// The key is copied: a substring would keep the caller's whole text alive in the pool.
		st.cache[strings.Clone(w)] = span{int32(len(st.slab)), int32(len(parts))}
		st.slab = append(st.slab, parts...)
	}
	for _, id := range parts {
		out = append(out, int(id))
	}
	return out
}

func (b *BPE) rankOf(l, r int32) (int32, int32) {
	if m, ok := b.pairs[pairKey(l, r)]; ok {
		return m.rank, m.id
	}
	return maxRank, -1
}

// mergeScan merges w's bytes by repeatedly scanning for the lowest-ranked pair: O(n^2), fastest
// for the short words that make up almost all text.
func (b *BPE) mergeScan(st *encState, w string) []int32 {
	parts, ranks := st.parts[:0], st.ranks[:0]
	for i := 0; i < len(w); i++ {
		parts = append(parts, b.byteID[w[i]])
	}
	for i := 0; i+1 < len(parts); i++ {
		r, _ := b.rankOf(parts[i], parts[i+1])
		ranks = append(ranks, r)
	}
	for len(parts) > 1 {
		best, at := maxRank, -1
		for i, r := range ranks {
			if r < best {
				best, at = r, i
			}
		}
		if at < 0 {
			break
		}
		_, id := b.rankOf(parts[at], parts[at+1])
		parts[at] = id
		parts = append(parts[:at+1], parts[at+2:]...)
		ranks = append(ranks[:at], ranks[at+1:]...)
		if at > 0 {
			ranks[at-1], _ = b.rankOf(parts[at-1], parts[at])
		}
		if at < len(ranks) {
			ranks[at], _ = b.rankOf(parts[at], parts[at+1])
		}
	}
	st.ranks = ranks
	return parts
}

// node is a part in mergeHeap's linked list; a part keeps the index of its first byte, so index
// order is text order.
type node struct {
	id         int32
	prev, next int32 // -1 at the ends
	alive      bool
}

// cand is a possible merge of node left with its successor.
type cand struct{ rank, left int32 }

// mergeHeap is a binary min-heap of candidates ordered by (rank, left): lowest rank, leftmost first.
// Training has its own (trainHeap): one generic heap over both element types, with the order as a
// method of the element, measured 15-25% slower here (BenchmarkEncodeLongWords, same-session A/B:
// 13-19 against 18-20 MB/s), as Go calls a type parameter's methods through a dictionary.
type mergeHeap []cand

func (h mergeHeap) less(i, j int) bool {
	return h[i].rank < h[j].rank || (h[i].rank == h[j].rank && h[i].left < h[j].left)
}

func (h *mergeHeap) push(c cand) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *mergeHeap) pop() cand {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && s.less(l, m) {
			m = l
		}
		if l+1 < n && s.less(l+1, m) {
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

// mergeHeap merges w's bytes with a heap of candidate pairs: O(n log n) for long words (runs of
// spaces or symbols), giving the same result as mergeScan. Stale candidates are skipped on pop by
// re-checking that the pair still exists with the same rank.
func (b *BPE) mergeHeap(st *encState, w string) []int32 {
	nodes := st.nodes[:0]
	for i := 0; i < len(w); i++ {
		nodes = append(nodes, node{id: b.byteID[w[i]], prev: int32(i - 1), next: int32(i + 1), alive: true})
	}
	nodes[len(nodes)-1].next = -1
	h := st.heap[:0]
	for i := 0; i+1 < len(nodes); i++ {
		if r, _ := b.rankOf(nodes[i].id, nodes[i+1].id); r != maxRank {
			h.push(cand{r, int32(i)})
		}
	}
	for len(h) > 0 {
		c := h.pop()
		l := &nodes[c.left]
		if !l.alive || l.next < 0 {
			continue
		}
		r, id := b.rankOf(l.id, nodes[l.next].id)
		if r != c.rank {
			continue // the pair changed since this candidate was pushed
		}
		rn := &nodes[l.next]
		l.id = id
		rn.alive = false
		l.next = rn.next
		if rn.next >= 0 {
			nodes[rn.next].prev = c.left
		}
		if l.prev >= 0 {
			if r, _ := b.rankOf(nodes[l.prev].id, l.id); r != maxRank {
				h.push(cand{r, l.prev})
			}
		}
		if l.next >= 0 {
			if r, _ := b.rankOf(l.id, nodes[l.next].id); r != maxRank {
				h.push(cand{r, c.left})
			}
		}
	}
	parts := st.parts[:0]
	for i := int32(0); i >= 0; i = nodes[i].next {
		parts = append(parts, nodes[i].id)
	}
	st.heap, st.nodes = h, nodes
	return parts
}

// NumMerges returns the number of merge rules (for r50k_base, the 50,000 of GPT-2's merges.txt).
func (b *BPE) NumMerges() int {
	if b.hfMerges {
		return len(b.mergeList)
	}
	return len(b.tokens) - 256 - len(b.specialID)
}
