package train

import (
	"tern/data"
	"tern/tokenizer"
)

// loadData reads the corpus and the tokenizer: the checkpoint's on resume, else the --init model's
// (initSpec, when set), else the one cfg names.
func loadData(cfg Config, st *checkpointState, initSpec string) (*data.Corpus, tokenizer.Adapter, error) {
	c, err := data.LoadCorpus(cfg.Data)
	if err != nil {
		return nil, nil, err
	}
	if st != nil {
		t, err := tokenizer.AdapterFromSpec(st.Tokenizer)
		return c, t, err
	}
	if initSpec != "" {
		t, err := tokenizer.AdapterFromSpec(initSpec)
		return c, t, err
	}
	t, err := tokenizer.NewAdapter(cfg.Tokenizer, c.Train+c.Valid)
	return c, t, err
}
