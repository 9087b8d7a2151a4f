package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
)

// FromVocab builds a byte-level BPE from a vocabulary listed by id (tokens in the byte-level alphabet,
// as tokenizer.json and GGUF's tokenizer.ggml.tokens spell them), which ids are special (matched
// whole in text, never merged) and the merges in rank order ("a b"). Pre-tokenization is GPT-2's.
func FromVocab(name string, tokens []string, special []bool, merges []string) (*BPE, error) {
	return FromVocabPre(name, PreGPT2, tokens, special, merges)
}

// FromVocabPre is FromVocab with the pre-tokenizer named as GGUF's tokenizer.ggml.pre names it:
// PreGPT2 ("gpt-2") or PreLlama3 ("llama-bpe"). When the vocabulary is a whole token for every
// pre-token (tiktoken-converted vocabularies such as LLaMA-3's), Hugging Face's ignore_merges gives the
// same ids as merging, so the GGUF form (which has no such flag) needs none.
func FromVocabPre(name, pre string, tokens []string, special []bool, merges []string) (*BPE, error) {
	if len(tokens) == 0 || len(tokens) >= maxVocab {
		return nil, fmt.Errorf("tokenizer %s: %d tokens", name, len(tokens))
	}
	if len(special) != len(tokens) {
		return nil, fmt.Errorf("tokenizer %s: %d special flags for %d tokens", name, len(special), len(tokens))
	}
	vocab := make(map[string]int, len(tokens))
	var added []hfAdded
	for id, t := range tokens {
		if _, dup := vocab[t]; dup {
			return nil, fmt.Errorf("tokenizer %s: token %q appears twice (ids %d and %d)", name, t, vocab[t], id)
		}
		vocab[t] = id
		if special[id] {
			added = append(added, hfAdded{ID: id, Content: t, Special: true})
		}
	}
	pairs := make([][2]string, len(merges))
	for i, m := range merges {
		l, r, ok := strings.Cut(m, " ")
		if !ok {
			return nil, fmt.Errorf("tokenizer %s: merge %d %q is not two tokens", name, i, m)
		}
		pairs[i] = [2]string{l, r}
	}
	mj, _ := json.Marshal(pairs)
	doc := map[string]any{
		"model":         map[string]any{"type": "BPE", "vocab": vocab, "merges": json.RawMessage(mj)},
		"pre_tokenizer": map[string]any{"type": "ByteLevel", "add_prefix_space": false},
		"decoder":       map[string]any{"type": "ByteLevel"},
		"added_tokens":  added,
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	t, err := LoadJSON(b, name)
	if err != nil {
		return nil, err
	}
	switch pre {
	case PreGPT2:
	case PreLlama3:
		t.llama3, t.ignoreMrg = true, true
	default:
		return nil, fmt.Errorf("tokenizer %s: pre-tokenizer %q is not supported (%q or %q)", name, pre, PreGPT2, PreLlama3)
	}
	return t, nil
}

// AdapterOf wraps a tokenizer as an Adapter, its spec being the tokenizer's own serialization.
func AdapterOf(t Tokenizer) (Adapter, error) {
	spec, err := Marshal(t)
	if err != nil {
		return nil, err
	}
	return wrap(t, string(spec)), nil
}

// Vocab is FromVocab's inverse: the tokens by id in the byte-level alphabet (special tokens as their
// text), which are special, and the merges in rank order as "a b".
func (b *BPE) Vocab() (tokens []string, special []bool, merges []string, err error) {
	ms, err := b.merges()
	if err != nil {
		return nil, nil, nil, err
	}
	tokens, special = make([]string, len(b.tokens)), make([]bool, len(b.tokens))
	for id, t := range b.tokens {
		if b.isSpecial[int32(id)] {
			tokens[id], special[id] = string(t), true
		} else {
			tokens[id] = bytesToUnicode(t)
		}
	}
	for _, m := range ms {
		merges = append(merges, bytesToUnicode(b.tokens[m[0]])+" "+bytesToUnicode(b.tokens[m[1]]))
	}
	return tokens, special, merges, nil
}
