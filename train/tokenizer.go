package train

import (
	"encoding/json"
	"fmt"
	"strings"

	"tern/data"
	"tern/tokenizer"
)

// Tokenizer is what training and generation need: ids as int32, checked encoding for prompts, and a
// spec string that a model file stores so the exact tokenizer comes back with the weights.
type Tokenizer interface {
	Encode32(text string) []int32
	EncodeChecked(text string) ([]int, error)
	Decode(ids []int) string
	VocabSize() int
	Spec() string
}

type tok struct {
	t       tokenizer.Tokenizer
	spec    string
	checked func(string) ([]int, error)
}

func (t tok) Encode32(text string) []int32 {
	ids := t.t.Encode(text)
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}
func (t tok) EncodeChecked(text string) ([]int, error) { return t.checked(text) }
func (t tok) Decode(ids []int) string                  { return t.t.Decode(ids) }
func (t tok) VocabSize() int                           { return t.t.VocabSize() }
func (t tok) Spec() string                             { return t.spec }

// NewTokenizer builds the tokenizer named by name ("char" learns its characters from corpusText, "gpt2"
// is the embedded r50k_base vocabulary, anything else is a Hugging Face tokenizer.json path).
func NewTokenizer(name, corpusText string) (Tokenizer, error) {
	switch name {
	case "char":
		c := tokenizer.NewChar(corpusText)
		b, err := c.MarshalJSON()
		if err != nil {
			return nil, err
		}
		return tok{t: c, spec: string(b), checked: c.EncodeChecked}, nil
	case "gpt2":
		g, err := tokenizer.GPT2()
		if err != nil {
			return nil, err
		}
		return tok{t: g, spec: "gpt2", checked: okEncode(g)}, nil
	}
	return nil, fmt.Errorf("unknown tokenizer %q (want char or gpt2)", name)
}

func okEncode(t tokenizer.Tokenizer) func(string) ([]int, error) {
	return func(s string) ([]int, error) { return t.Encode(s), nil }
}

// TokenizerFromSpec restores the tokenizer a model file names.
func TokenizerFromSpec(spec string) (Tokenizer, error) {
	switch {
	case spec == "gpt2":
		return NewTokenizer("gpt2", "")
	case strings.HasPrefix(spec, "{"):
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal([]byte(spec), &head); err != nil {
			return nil, fmt.Errorf("tokenizer spec: %w", err)
		}
		if head.Type == "char" {
			c, err := tokenizer.UnmarshalCharJSON([]byte(spec))
			if err != nil {
				return nil, err
			}
			return tok{t: c, spec: spec, checked: c.EncodeChecked}, nil
		}
	case spec == "":
		return nil, fmt.Errorf("model file names no tokenizer")
	}
	return nil, fmt.Errorf("unsupported tokenizer spec %.40q", spec)
}

// loadData reads the corpus and builds (or, when resuming, restores) the tokenizer.
func loadData(cfg Config, st *checkpointState) (*data.Corpus, Tokenizer, error) {
	c, err := data.LoadCorpus(cfg.Data)
	if err != nil {
		return nil, nil, err
	}
	if st != nil {
		t, err := TokenizerFromSpec(st.Tokenizer)
		return c, t, err
	}
	t, err := NewTokenizer(cfg.Tokenizer, c.Train+c.Valid)
	return c, t, err
}
