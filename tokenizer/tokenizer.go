// Package tokenizer turns text into token ids for tern's models and back: byte-level BPE with GPT-2's
// pre-tokenizer (the built-in r50k_base vocabulary, identical in ids to OpenAI's tiktoken; or a
// Hugging Face tokenizer.json, which tern can also train), and a character tokenizer for quick
// experiments.
//
// Files: tokenizer.go (interface, ByName, serialization), pretokenize.go (the GPT-2 split),
// bpe.go (encode/decode), gpt2.go (embedded vocabulary), hfjson.go (tokenizer.json), train.go
// (learning merges), char.go, parallel.go. Ids are int; a vocabulary of V ids has ids 0..V-1.
package tokenizer

import (
	"encoding/json"
	"fmt"

	"tern/internal/sysmem"
)

var (
	_ Tokenizer = (*BPE)(nil)
	_ Tokenizer = (*Char)(nil)
)

// ByName returns a tokenizer by name or path: "gpt2" (also "r50k_base") is the built-in vocabulary;
// "char" builds a character vocabulary from corpusForChar (which must not be empty); anything else
// is a file: a tokenizer.json, or a char vocabulary written by Marshal.
func ByName(nameOrPath string, corpusForChar string) (Tokenizer, error) {
	switch nameOrPath {
	case "gpt2", "r50k_base":
		return GPT2()
	case "char":
		if corpusForChar == "" {
			return nil, fmt.Errorf("tokenizer: char needs a corpus to take its characters from")
		}
		return NewChar(corpusForChar), nil
	case "":
		return nil, fmt.Errorf("tokenizer: no tokenizer named (want gpt2, char or a tokenizer.json path)")
	}
	data, err := sysmem.ReadFile(nameOrPath, sysmem.ConfigLimit)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: read %s: %w (want gpt2, char or a tokenizer.json path)", nameOrPath, err)
	}
	t, err := unmarshal(data, nameOrPath)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, nameOrPath)
	}
	return t, nil
}

// Marshal serializes a tokenizer so that a model file can carry it: the built-in GPT-2 as
// {"type":"gpt2"}, a Char as its character list, any other BPE as a full tokenizer.json.
func Marshal(t Tokenizer) ([]byte, error) {
	switch t := t.(type) {
	case *BPE:
		if g, err := GPT2(); err == nil && t == g {
			return []byte(`{"type":"gpt2"}`), nil
		}
		return t.MarshalJSON()
	case *Char:
		return t.MarshalJSON()
	}
	return nil, fmt.Errorf("tokenizer: cannot serialize %T", t)
}

// Unmarshal restores a tokenizer written by Marshal (or any byte-level BPE tokenizer.json).
func Unmarshal(data []byte) (Tokenizer, error) { return unmarshal(data, "bpe") }

func unmarshal(data []byte, name string) (Tokenizer, error) {
	var head struct {
		Type  string          `json:"type"`
		Model json.RawMessage `json:"model"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("tokenizer: not a tokenizer file: %w", err)
	}
	switch {
	case head.Model != nil:
		return LoadJSON(data, name)
	case head.Type == "gpt2":
		return GPT2()
	case head.Type == "char":
		return UnmarshalCharJSON(data)
	}
	return nil, fmt.Errorf("tokenizer: unknown tokenizer file (no \"model\", type %q)", head.Type)
}
