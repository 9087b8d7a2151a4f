package train

import (
	"tern/data"
	"tern/tokenizer"
)

// Tokenizer, NewTokenizer and TokenizerFromSpec are tokenizer.Adapter and its constructors under
// the names the CLI has always used; the adapter itself lives in package tokenizer (below finetune
// and eval, which need it too).
type Tokenizer = tokenizer.Adapter

// NewTokenizer is tokenizer.NewAdapter.
func NewTokenizer(name, corpusText string) (Tokenizer, error) {
	return tokenizer.NewAdapter(name, corpusText)
}

// TokenizerFromSpec is tokenizer.AdapterFromSpec.
func TokenizerFromSpec(spec string) (Tokenizer, error) { return tokenizer.AdapterFromSpec(spec) }

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
