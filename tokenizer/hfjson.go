// hfjson.go: reading and writing Hugging Face tokenizer.json files for byte-level BPE (model type
// BPE, ByteLevel decoder, no normalizer or NFC; GPT-2's or LLaMA-3's pre-tokenizer and the post-processor
// as hfpipeline.go reads them). Other tokenizer.json kinds (WordPiece, Unigram, SentencePiece-style
// BPE with byte fallback, other split regexes) are rejected with a clear error rather than encoded
// wrongly.

package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"tern/format"
	"tern/internal/sysmem"
)

type hfFile struct {
	Version       string          `json:"version"`
	AddedTokens   []hfAdded       `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         *hfModel        `json:"model"`
}

type hfAdded struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	Special    bool   `json:"special"`
	SingleWord bool   `json:"single_word,omitempty"`
	LStrip     bool   `json:"lstrip,omitempty"`
	RStrip     bool   `json:"rstrip,omitempty"`
}

type hfModel struct {
	Type                    string          `json:"type"`
	Dropout                 *float64        `json:"dropout"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Vocab                   map[string]int  `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
}

type hfComponent struct {
	Type           string `json:"type"`
	AddPrefixSpace bool   `json:"add_prefix_space"`
	UseRegex       *bool  `json:"use_regex"`
}

// maxVocab bounds ids read from files (16M), so a corrupt file cannot make us allocate wildly.
const maxVocab = 1 << 24

// Load reads a Hugging Face tokenizer.json holding a byte-level BPE model.
func Load(path string) (*BPE, error) {
	data, err := sysmem.ReadFile(path, sysmem.ConfigLimit)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: read %s: %w", path, err)
	}
	b, err := LoadJSON(data, path)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return b, nil
}

// LoadJSON parses tokenizer.json content; name becomes the tokenizer's Name.
func LoadJSON(data []byte, name string) (*BPE, error) {
	var f hfFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("tokenizer: not a tokenizer.json: %w", err)
	}
	m := f.Model
	if m == nil {
		return nil, fmt.Errorf("tokenizer: tokenizer.json has no \"model\"")
	}
	if m.Type != "BPE" {
		return nil, fmt.Errorf("tokenizer: model type %q is not supported (only byte-level \"BPE\")", m.Type)
	}
	switch {
	case m.Dropout != nil && *m.Dropout != 0:
		return nil, fmt.Errorf("tokenizer: BPE dropout is not supported")
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "",
		m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "":
		return nil, fmt.Errorf("tokenizer: continuing_subword_prefix / end_of_word_suffix are not supported (not byte-level BPE)")
	case m.ByteFallback:
		return nil, fmt.Errorf("tokenizer: byte_fallback BPE (SentencePiece style) is not supported, only byte-level BPE")
	}
	nfc, err := parseNormalizer(f.Normalizer)
	if err != nil {
		return nil, err
	}
	pre, err := parsePreTokenizer(f.PreTokenizer)
	if err != nil {
		return nil, err
	}
	if d := strings.TrimSpace(string(f.Decoder)); d != "" && d != "null" {
		var dec hfComponent
		if err := json.Unmarshal(f.Decoder, &dec); err != nil || dec.Type != "ByteLevel" {
			return nil, fmt.Errorf("tokenizer: decoder must be ByteLevel, got %s", clip(d))
		}
	}
	if len(m.Vocab) == 0 {
		return nil, fmt.Errorf("tokenizer: empty vocab")
	}

	added := map[string]bool{}
	for _, a := range f.AddedTokens {
		added[a.Content] = true
	}
	maxID := -1
	for _, id := range m.Vocab {
		if id < 0 || id >= maxVocab {
			return nil, fmt.Errorf("tokenizer: vocab id %d out of range [0, %d)", id, maxVocab)
		}
		maxID = max(maxID, id)
	}
	for _, a := range f.AddedTokens {
		if a.ID < 0 || a.ID >= maxVocab {
			return nil, fmt.Errorf("tokenizer: added token %q: id %d out of range", a.Content, a.ID)
		}
		if a.SingleWord || a.LStrip || a.RStrip {
			return nil, fmt.Errorf("tokenizer: added token %q: single_word, lstrip and rstrip are not supported", a.Content)
		}
	}
	// Every id takes at least a few bytes of the file ("x":7,), so an id beyond the file's length
	// means a vocabulary of mostly gaps: one stray id (16777215 in a 7.6 KB file) would make every
	// model built from the tokenizer a 16M-row one. The vocabulary is bounded by the file's size.
	for _, a := range f.AddedTokens {
		if a.ID >= len(data) {
			return nil, fmt.Errorf("tokenizer: added token %q: id %d in a %d-byte file (ids must run from 0 with no large gaps)", a.Content, a.ID, len(data))
		}
	}
	if maxID >= len(data) {
		return nil, fmt.Errorf("tokenizer: vocab id %d in a %d-byte file (ids must run from 0 with no large gaps)", maxID, len(data))
	}
	tokens := make([][]byte, maxID+1)
	for key, id := range m.Vocab {
		if added[key] {
			continue // added tokens are registered below, by their raw text
		}
		bs, ok := unicodeToBytes(key)
		if !ok {
			return nil, fmt.Errorf("tokenizer: vocab entry %q (id %d) is not in the byte-level alphabet", key, id)
		}
		if tokens[id] != nil {
			return nil, fmt.Errorf("tokenizer: vocab id %d used twice", id)
		}
		tokens[id] = bs
	}
	b, err := newBPE(name, tokens)
	if err != nil {
		return nil, err
	}
	for _, a := range f.AddedTokens {
		if err := b.addSpecial(a.Content, a.ID); err != nil {
			return nil, err
		}
		if !a.Special {
			if b.plain == nil {
				b.plain = map[int32]bool{}
			}
			b.plain[int32(a.ID)] = true
		}
	}
	if b.prefix, b.suffix, err = parsePostProcessor(f.PostProcessor, b); err != nil {
		return nil, err
	}
	merges, err := parseMerges(m.Merges)
	if err != nil {
		return nil, err
	}
	b.pairs = make(map[uint64]merge, len(merges))
	b.mergeList = make([][2]int32, 0, len(merges))
	for i, mg := range merges {
		l, okl := m.Vocab[mg[0]]
		r, okr := m.Vocab[mg[1]]
		id, okm := m.Vocab[mg[0]+mg[1]]
		if !okl || !okr || !okm {
			return nil, fmt.Errorf("tokenizer: merge %d (%q %q): a part or the result is not in the vocab", i, mg[0], mg[1])
		}
		if tl, tr, tm := b.TokenBytes(l), b.TokenBytes(r), b.TokenBytes(id); tl == nil || tr == nil || tm == nil ||
			b.isSpecial[int32(l)] || b.isSpecial[int32(r)] || b.isSpecial[int32(id)] || string(tl)+string(tr) != string(tm) {
			return nil, fmt.Errorf("tokenizer: merge %d (%q %q) does not join two ordinary tokens into a third", i, mg[0], mg[1])
		}
		k := pairKey(int32(l), int32(r))
		if _, dup := b.pairs[k]; !dup { // the first listing wins, as in Hugging Face tokenizers
			b.pairs[k] = merge{rank: int32(i), id: int32(id)}
		}
		b.mergeList = append(b.mergeList, [2]int32{int32(l), int32(r)})
	}
	b.mergesOnce.Do(func() {}) // mergeList is final
	b.hfMerges = true
	b.ignoreMrg = m.IgnoreMerges
	b.prefixSpc = pre.prefixSpace
	b.llama3 = pre.kind == PreLlama3
	b.nfc = nfc
	return b, nil
}

// parseMerges accepts both layouts, even mixed: "a b" (tokenizers < 0.20) and ["a", "b"].
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	// The common files are all one layout: decode those in one go (LLaMA-3's 280k merges: 0.8 s one
	// by one through RawMessage, a fraction of that here), and only mixed lists item by item.
	var strs []string
	if json.Unmarshal(raw, &strs) == nil {
		pairs := make([][2]string, len(strs))
		for i, s := range strs {
			l, r, ok := strings.Cut(s, " ")
			if !ok || l == "" || r == "" || strings.Contains(r, " ") {
				return nil, fmt.Errorf("tokenizer: merge %d %q is not two tokens separated by one space", i, s)
			}
			pairs[i] = [2]string{l, r}
		}
		return pairs, nil
	}
	var lists [][]string
	if json.Unmarshal(raw, &lists) == nil {
		pairs := make([][2]string, len(lists))
		for i, p := range lists {
			if len(p) != 2 {
				return nil, fmt.Errorf("tokenizer: merge %d %q is not a pair", i, p)
			}
			pairs[i] = [2]string{p[0], p[1]}
		}
		return pairs, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("tokenizer: merges must be a list of \"a b\" strings or [a, b] pairs")
	}
	pairs := make([][2]string, len(items))
	for i, it := range items {
		var s string
		if err := json.Unmarshal(it, &s); err == nil {
			l, r, ok := strings.Cut(s, " ")
			if !ok || l == "" || r == "" || strings.Contains(r, " ") {
				return nil, fmt.Errorf("tokenizer: merge %d %q is not two tokens separated by one space", i, s)
			}
			pairs[i] = [2]string{l, r}
			continue
		}
		var p []string
		if err := json.Unmarshal(it, &p); err != nil || len(p) != 2 {
			return nil, fmt.Errorf("tokenizer: merge %d %s is neither \"a b\" nor [a, b]", i, clip(string(it)))
		}
		pairs[i] = [2]string{p[0], p[1]}
	}
	return pairs, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// merges returns the merge list in rank order. For r50k_base it is derived once: each token's
// bytes are merged using only lower ranks, which leaves exactly the pair it came from.
func (b *BPE) merges() ([][2]int32, error) {
	b.mergesOnce.Do(func() {
		st := newEncState()
		for id := 0; id < len(b.tokens); id++ {
			t := b.tokens[id]
			if len(t) < 2 || b.isSpecial[int32(id)] {
				continue
			}
			parts := b.mergeLimited(st, t, int32(id))
			if len(parts) != 2 {
				b.mergeErr = fmt.Errorf("tokenizer: token %d %q is not reachable by one merge (%d parts)", id, t, len(parts))
				return
			}
			b.mergeList = append(b.mergeList, [2]int32{parts[0], parts[1]})
		}
	})
	return b.mergeList, b.mergeErr
}

// mergeLimited is mergeScan restricted to pairs ranked below limit.
func (b *BPE) mergeLimited(st *encState, w []byte, limit int32) []int32 {
	parts := st.parts[:0]
	for _, c := range w {
		parts = append(parts, b.byteID[c])
	}
	for len(parts) > 1 {
		best, at := limit, -1
		for i := 0; i+1 < len(parts); i++ {
			if r, _ := b.rankOf(parts[i], parts[i+1]); r < best {
				best, at = r, i
			}
		}
		if at < 0 {
			break
		}
		_, parts[at] = b.rankOf(parts[at], parts[at+1])
		parts = append(parts[:at+1], parts[at+2:]...)
	}
	st.parts = parts
	return parts
}

// MarshalJSON writes the tokenizer as a Hugging Face tokenizer.json (vocab in id order, merges as
// "a b" strings, which every version of tokenizers and tokenizers.js reads).
func (b *BPE) MarshalJSON() ([]byte, error) {
	merges, err := b.merges()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	str := func(s string) { // json string without the Encoder's trailing newline
		enc.Encode(s)
		buf.Truncate(buf.Len() - 1)
	}
	pre, post := b.marshalPipeline()
	normalizer := "null"
	if b.nfc {
		normalizer = `{"type": "NFC"}`
	}
	buf.WriteString("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [")
	n := 0
	for id := range b.tokens {
		if !b.isSpecial[int32(id)] {
			continue
		}
		if n > 0 {
			buf.WriteString(",")
		}
		n++
		fmt.Fprintf(&buf, "\n    {\"id\": %d, \"content\": ", id)
		str(string(b.tokens[id]))
		fmt.Fprintf(&buf, ", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": %t}", !b.plain[int32(id)])
	}
	if n > 0 {
		buf.WriteString("\n  ")
	}
	fmt.Fprintf(&buf, `],
  "normalizer": %s,
  "pre_tokenizer": %s,
  "post_processor": %s,
  "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
  "model": {
    "type": "BPE",
    "dropout": null,
    "unk_token": null,
    "continuing_subword_prefix": null,
    "end_of_word_suffix": null,
    "fuse_unk": false,
    "byte_fallback": false,
    "ignore_merges": %t,
    "vocab": {`, normalizer, pre, post, b.ignoreMrg || !b.hfMerges)
	n = 0
	for id, t := range b.tokens {
		if t == nil {
			continue
		}
		if n > 0 {
			buf.WriteString(",")
		}
		n++
		buf.WriteString("\n      ")
		if b.isSpecial[int32(id)] {
			str(string(t))
		} else {
			str(bytesToUnicode(t))
		}
		fmt.Fprintf(&buf, ": %d", id)
	}
	buf.WriteString("\n    },\n    \"merges\": [")
	for i, m := range merges {
		if i > 0 {
			buf.WriteString(",")
		}
		buf.WriteString("\n      ")
		str(bytesToUnicode(b.tokens[m[0]]) + " " + bytesToUnicode(b.tokens[m[1]]))
	}
	buf.WriteString("\n    ]\n  }\n}\n")
	return buf.Bytes(), nil
}

// Save writes the tokenizer as tokenizer.json, atomically (temp file, fsync, rename).
func (b *BPE) Save(path string) error {
	data, err := b.MarshalJSON()
	if err != nil {
		return err
	}
	if err := format.WriteFileAtomic(path, data); err != nil {
		return fmt.Errorf("tokenizer: write %s: %w", path, err)
	}
	return nil
}
