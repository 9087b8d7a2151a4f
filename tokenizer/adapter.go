package tokenizer

import "fmt"

// Adapter is what training, fine-tuning, evaluation and generation need from a tokenizer: ids as
// int32, checked encoding for prompts, and a spec string that a model file stores so the exact
// tokenizer comes back with the weights. It lives here, below every package that uses it, so that
// train can call the task runners in eval without an import cycle.
type Adapter interface {
	Encode32(text string) []int32
	EncodeChecked(text string) ([]int, error)
	Decode(ids []int) string
	VocabSize() int
	Spec() string
}

type adapter struct {
	t       Tokenizer
	spec    string
	checked func(string) ([]int, error)
}

func (t adapter) Encode32(text string) []int32 {
	ids := t.t.Encode(text)
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}
func (t adapter) EncodeChecked(text string) ([]int, error) { return t.checked(text) }

// Unknown counts the characters of text that Encode32 drops (a char tokenizer's unseen runes; byte-level
// BPE drops none).
func (t adapter) Unknown(text string) int {
	if c, ok := t.t.(*Char); ok {
		return c.Unknown(text)
	}
	return 0
}
func (t adapter) Decode(ids []int) string { return t.t.Decode(ids) }
func (t adapter) VocabSize() int          { return t.t.VocabSize() }
func (t adapter) Spec() string            { return t.spec }

// NewAdapter builds the tokenizer named by name: "char" learns its characters from corpusText, "gpt2"
// is the embedded r50k_base vocabulary, anything else is a tokenizer.json path (ByName).
func NewAdapter(name, corpusText string) (Adapter, error) {
	t, err := ByName(name, corpusText)
	if err != nil {
		return nil, err
	}
	spec, err := Marshal(t)
	if err != nil {
		return nil, err
	}
	return wrap(t, string(spec)), nil
}

// AdapterFromSpec restores the tokenizer a model file carries (Marshal's JSON).
func AdapterFromSpec(spec string) (Adapter, error) {
	switch spec {
	case "":
		return nil, fmt.Errorf("model file names no tokenizer")
	case "gpt2", "char":
		if spec == "gpt2" { // a bare name, as early model files and tests write it
			return NewAdapter("gpt2", "")
		}
		return nil, fmt.Errorf("model file names a char tokenizer without its characters")
	}
	t, err := Unmarshal([]byte(spec))
	if err != nil {
		return nil, err
	}
	return wrap(t, spec), nil
}

func wrap(t Tokenizer, spec string) Adapter {
	checked := func(s string) ([]int, error) { return t.Encode(s), nil }
	if c, ok := t.(*Char); ok {
		checked = c.EncodeChecked // a prompt with unseen characters is an error, not silently dropped
	}
	return adapter{t: t, spec: spec, checked: checked}
}
