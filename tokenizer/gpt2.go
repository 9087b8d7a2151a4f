// gpt2.go: the built-in GPT-2 vocabulary (tiktoken's r50k_base: 50,256 byte-level tokens plus
// <|endoftext|> = 50256), embedded gzip-compressed (216 KB). VOCAB_SOURCE.md records where the file
// came from, its licence (MIT) and checksums; internal/mkvocab regenerates it.

package tokenizer

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
)

//go:embed r50k_base.bin.gz
var r50kGz []byte

// EndOfText is GPT-2's <|endoftext|> id.
const EndOfText = 50256

var gpt2 struct {
	once sync.Once
	bpe  *BPE
	err  error
}

// GPT2 returns the built-in r50k_base tokenizer (GPT-2's vocabulary), identical in ids to tiktoken's
// r50k_base. It is built once (~40 ms) and shared.
func GPT2() (*BPE, error) {
	gpt2.once.Do(func() { gpt2.bpe, gpt2.err = loadR50k(r50kGz) })
	return gpt2.bpe, gpt2.err
}

func loadR50k(gz []byte) (*BPE, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: embedded r50k_base: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: embedded r50k_base: %w", err)
	}
	if !bytes.HasPrefix(raw, []byte("TERNBPE1")) {
		return nil, fmt.Errorf("tokenizer: embedded r50k_base: bad magic")
	}
	raw = raw[8:]
	n, k := binary.Uvarint(raw)
	if k <= 0 || n != EndOfText {
		return nil, fmt.Errorf("tokenizer: embedded r50k_base: bad token count %d", n)
	}
	raw = raw[k:]
	tokens := make([][]byte, n)
	for i := range tokens {
		l, k := binary.Uvarint(raw)
		if k <= 0 || uint64(len(raw)-k) < l {
			return nil, fmt.Errorf("tokenizer: embedded r50k_base: truncated at token %d", i)
		}
		tokens[i] = raw[k : k+int(l) : k+int(l)]
		raw = raw[k+int(l):]
	}
	b, err := newBPE("gpt2", tokens)
	if err != nil {
		return nil, err
	}
	b.pairs = concatPairs(b)
	if err := b.addSpecial("<|endoftext|>", EndOfText); err != nil {
		return nil, err
	}
	return b, nil
}

// concatPairs builds tiktoken's merge rule as a pair table: parts l and r merge when the
// concatenation of their bytes is a token t, with rank t. Every split of every token into two
// tokens is one entry (~160k for r50k), so the table covers any pair the encoder can meet.
func concatPairs(b *BPE) map[uint64]merge {
	pairs := make(map[uint64]merge, 4*len(b.tokens))
	for id, t := range b.tokens {
		for k := 1; k < len(t); k++ {
			l, okl := b.vocab[string(t[:k])]
			r, okr := b.vocab[string(t[k:])]
			if okl && okr {
				pairs[pairKey(l, r)] = merge{rank: int32(id), id: int32(id)}
			}
		}
	}
	return pairs
}
