package tokenizer

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// validJSON is a tiny hand-written tokenizer.json: 256 bytes, two merges, one added token.
func validJSON(t testing.TB, mutate func(m map[string]any)) []byte {
	t.Helper()
	vocab := map[string]any{}
	for b := 0; b < 256; b++ {
		vocab[string(byteToRune[b])] = b
	}
	vocab["ab"] = 256
	vocab["Ġab"] = 257
	vocab["<|endoftext|>"] = 258
	m := map[string]any{
		"version":       "1.0",
		"added_tokens":  []any{map[string]any{"id": 258, "content": "<|endoftext|>", "special": true}},
		"normalizer":    nil,
		"pre_tokenizer": map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
		"decoder":       map[string]any{"type": "ByteLevel"},
		"model":         map[string]any{"type": "BPE", "vocab": vocab, "merges": []any{"a b", []any{"Ġ", "ab"}}},
	}
	if mutate != nil {
		mutate(m)
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestLoadHandWritten(t *testing.T) {
	tok, err := LoadJSON(validJSON(t, nil), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	// "ab ab abc": "ab" -> 256, " ab" -> 257, " abc" -> 257 'c'.
	if got := tok.Encode("ab ab abc"); !slices.Equal(got, []int{256, 257, 257, 'c'}) {
		t.Errorf("encode %v", got)
	}
	if got, _ := tok.EncodeWithSpecial("ab<|endoftext|>", SpecialAllow); !slices.Equal(got, []int{256, 258}) {
		t.Errorf("special %v", got)
	}
	if tok.VocabSize() != 259 || tok.NumMerges() != 2 {
		t.Errorf("vocab %d merges %d", tok.VocabSize(), tok.NumMerges())
	}
	// Save and reload: same ids, and the saved file parses as JSON with 2 merges.
	path := filepath.Join(t.TempDir(), "t.json")
	if err := tok.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if s := "ab ab abc<|endoftext|>"; !slices.Equal(back.Encode(s), tok.Encode(s)) {
		t.Error("reloaded tokenizer differs")
	}
}

func TestLoadPrefixSpace(t *testing.T) {
	tok, err := LoadJSON(validJSON(t, func(m map[string]any) {
		m["pre_tokenizer"] = map[string]any{"type": "ByteLevel", "add_prefix_space": true}
	}), "p")
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("ab"); !slices.Equal(got, []int{257}) {
		t.Errorf("add_prefix_space: %v, want [257]", got)
	}
}

// TestLoadErrors: every malformed or unsupported file is a clear error, never a panic.
func TestLoadErrors(t *testing.T) {
	model := func(f func(md map[string]any)) func(map[string]any) {
		return func(m map[string]any) { f(m["model"].(map[string]any)) }
	}
	cases := map[string]struct {
		data []byte
		want string
	}{
		"not json":      {[]byte("{nope"), "not a tokenizer.json"},
		"no model":      {[]byte(`{"version":"1.0"}`), "no \"model\""},
		"wordpiece":     {validJSON(t, model(func(md map[string]any) { md["type"] = "WordPiece" })), "not supported"},
		"byte fallback": {validJSON(t, model(func(md map[string]any) { md["byte_fallback"] = true })), "byte_fallback"},
		"dropout":       {validJSON(t, model(func(md map[string]any) { md["dropout"] = 0.1 })), "dropout"},
		"suffix":        {validJSON(t, model(func(md map[string]any) { md["end_of_word_suffix"] = "</w>" })), "suffix"},
		"normalizer":    {validJSON(t, func(m map[string]any) { m["normalizer"] = map[string]any{"type": "Lowercase"} }), "normalizer"},
		"whitespace pre": {validJSON(t, func(m map[string]any) { m["pre_tokenizer"] = map[string]any{"type": "Whitespace"} }),
			"pre_tokenizer must be ByteLevel"},
		"no regex": {validJSON(t, func(m map[string]any) {
			m["pre_tokenizer"] = map[string]any{"type": "ByteLevel", "use_regex": false}
		}), "use_regex"},
		"bad decoder":  {validJSON(t, func(m map[string]any) { m["decoder"] = map[string]any{"type": "WordPiece"} }), "decoder"},
		"empty vocab":  {validJSON(t, model(func(md map[string]any) { md["vocab"] = map[string]any{} })), "empty vocab"},
		"negative id":  {validJSON(t, model(func(md map[string]any) { md["vocab"].(map[string]any)["zz"] = -3 })), "out of range"},
		"huge id":      {validJSON(t, model(func(md map[string]any) { md["vocab"].(map[string]any)["zz"] = 1 << 40 })), "out of range"},
		"dup id":       {validJSON(t, model(func(md map[string]any) { md["vocab"].(map[string]any)["zz"] = 256 })), "twice"},
		"missing byte": {validJSON(t, model(func(md map[string]any) { delete(md["vocab"].(map[string]any), "Ġ") })), "byte 0x20"},
		"not alphabet": {validJSON(t, model(func(md map[string]any) { md["vocab"].(map[string]any)["日"] = 300 })), "byte-level alphabet"},
		"bad merge":    {validJSON(t, model(func(md map[string]any) { md["merges"] = []any{"a c"} })), "not in the vocab"},
		"merge format": {validJSON(t, model(func(md map[string]any) { md["merges"] = []any{"abc"} })), "merge"},
		"merge type":   {validJSON(t, model(func(md map[string]any) { md["merges"] = 7 })), "merges must be"},
		"special clash": {validJSON(t, func(m map[string]any) {
			m["added_tokens"] = []any{map[string]any{"id": 256, "content": "<x>", "special": true}}
		}), "already token"},
	}
	for name, c := range cases {
		_, err := LoadJSON(c.data, name)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one containing %q", name, err, c.want)
		}
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Load(dir); err == nil {
		t.Error("a directory loaded")
	}
	p := filepath.Join(dir, "bad.json")
	os.WriteFile(p, []byte("[1,2]"), 0o644)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("bad file: %v (want the path in the message)", err)
	}
	if err := mustGPT2(t).Save(filepath.Join(dir, "no", "such", "dir.json")); err == nil {
		t.Error("save into a missing directory succeeded")
	}
}

// FuzzLoadJSON: arbitrary bytes never panic the loader, and what loads can encode and decode.
func FuzzLoadJSON(f *testing.F) {
	f.Add(validJSON(f, nil))
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":0},"merges":["a a"]},"pre_tokenizer":{"type":"ByteLevel"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := LoadJSON(data, "fuzz")
		if err != nil {
			return
		}
		s := "ab <|endoftext|> \xff"
		if got := tok.Decode(tok.Encode(s)); got != s {
			t.Errorf("round trip %q -> %q", s, got)
		}
	})
}

// TestLoadHugeID reproduces the 7.6 KB tokenizer.json with one id of 16777215, which made
// train build a 16M-row model and die: an id beyond the file's length is refused.
func TestLoadHugeID(t *testing.T) {
	for name, mutate := range map[string]func(map[string]any){
		"vocab": func(m map[string]any) { m["model"].(map[string]any)["vocab"].(map[string]any)["zz"] = 16777215 },
		"added": func(m map[string]any) {
			m["added_tokens"] = []any{map[string]any{"id": 16777215, "content": "<x>", "special": true}}
		},
	} {
		b := validJSON(t, mutate)
		if _, err := LoadJSON(b, name); err == nil || !strings.Contains(err.Error(), "16777215") {
			t.Errorf("%s id 16777215 in %d bytes: %v", name, len(b), err)
		}
	}
}
