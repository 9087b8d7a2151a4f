package train

import (
	"fmt"

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

// NewTokenizer builds the tokenizer named by name: "char" learns its characters from corpusText, "gpt2"
// is the embedded r50k_base vocabulary, anything else is a tokenizer.json path (tokenizer.ByName).
func NewTokenizer(name, corpusText string) (Tokenizer, error) {
	t, err := tokenizer.ByName(name, corpusText)
	if err != nil {
		return nil, err
	}
	spec, err := tokenizer.Marshal(t)
	if err != nil {
		return nil, err
	}
	return wrap(t, string(spec)), nil
}

// TokenizerFromSpec restores the tokenizer a model file carries (tokenizer.Marshal's JSON).
func TokenizerFromSpec(spec string) (Tokenizer, error) {
	switch spec {
	case "":
		return nil, fmt.Errorf("model file names no tokenizer")
	case "gpt2", "char":
		if spec == "gpt2" { // a bare name, as early model files and tests write it
			return NewTokenizer("gpt2", "")
		}
		return nil, fmt.Errorf("model file names a char tokenizer without its characters")
	}
	t, err := tokenizer.Unmarshal([]byte(spec))
	if err != nil {
		return nil, err
	}
	return wrap(t, spec), nil
}

func wrap(t tokenizer.Tokenizer, spec string) Tokenizer {
	checked := func(s string) ([]int, error) { return t.Encode(s), nil }
	if c, ok := t.(*tokenizer.Char); ok {
		checked = c.EncodeChecked // a prompt with unseen characters is an error, not silently dropped
	}
	return tok{t: t, spec: spec, checked: checked}
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
