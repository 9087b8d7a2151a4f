package model

import "testing"

// FuzzParseConfig: any config JSON parses and validates or is refused, never a panic; an accepted one
// is within the limits and its size estimates are finite (nothing is built: a valid config may be
// large).
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(tinyConfig().JSON()))
	f.Add([]byte(`{"hidden": 64, "HIDDEN": 4096}`))
	f.Add([]byte(`{"type":"encdec","objective":"seq2seq","vocab":11,"hidden":8,"layers":2,"heads":2,"ffn":16,"max_pos":6,"linear":"bitnet","norm":"rmsnorm","sharing":{"layers":"all"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b, Config{}, "f.json")
		if err != nil || c.Validate() != nil {
			return
		}
		if c.Hidden > MaxDim || c.Layers > MaxLayers || c.Vocab > MaxDim {
			t.Fatalf("accepted %+v", c)
		}
		if w := c.BuiltWeights(); w != w || w < 0 {
			t.Fatalf("BuiltWeights %v", w)
		}
	})
}
