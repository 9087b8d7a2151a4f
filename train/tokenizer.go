package train

import (
	"tern/data"
	"tern/tokenizer"
)

// loadData reads the corpus and builds (or, when resuming, restores) the tokenizer.
func loadData(cfg Config, st *checkpointState) (*data.Corpus, tokenizer.Adapter, error) {
	c, err := data.LoadCorpus(cfg.Data)
	if err != nil {
		return nil, nil, err
	}
	if st != nil {
		t, err := tokenizer.AdapterFromSpec(st.Tokenizer)
		return c, t, err
	}
	t, err := tokenizer.NewAdapter(cfg.Tokenizer, c.Train+c.Valid)
	return c, t, err
}
