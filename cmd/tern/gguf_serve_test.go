package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tern/format"
	"tern/gguf"
	"tern/infer"
	"tern/internal/gguftest"
	"tern/model"
	"tern/serve"
	"tern/tensor"
	"tern/tokenizer"
)

// tinyBitnetGGUF writes the shared tiny bitnet GGUF (gguftest.Tiny: TQ2_0, an untied head, context
// ctx) with the tokenizer of spec and the extra keys in its metadata, in Go (no gguf-py needed).
func tinyBitnetGGUF(t *testing.T, spec string, V, ctx int, extra ...gguf.KV) string {
	t.Helper()
	kv, err := ggufTokenizer(spec, V)
	if err != nil {
		t.Fatal(err)
	}
	return gguftest.Tiny{Arch: "bitnet", Type: gguf.TQ2_0, Vocab: V, Ctx: ctx, Untied: true, KV: append(kv, extra...)}.Write(t)
}

// complete posts a greedy /v1/completions request and returns the text.
func complete(t *testing.T, h http.Handler, prompt string, n int) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"prompt": prompt, "max_tokens": n, "temperature": 0})
	w := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/v1/completions", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(w, req)
	var c struct {
		Choices []struct{ Text string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil || w.Code != 200 || len(c.Choices) != 1 {
		t.Fatalf("completion of %q: %d %s", prompt, w.Code, w.Body)
	}
	return c.Choices[0].Text
}

// TestServeGGUF: `tern serve` over GGUF files. A bitnet file (infer.LlamaBatch: a KV cache per slot,
// prompts prefilled, the concurrent requests decoded in shared steps) and a gpt2 file as tern exports it (read back into a tern transformer) answer greedy
// completions with the text that decoding the file directly gives, alone and with three requests
// in flight together; the bitnet model keeps serving the same text after its file is overwritten
// on disk (its weights are private memory once loaded).
func TestServeGGUF(t *testing.T) {
	spec, V := smallBPE(t)
	bitnet := tinyBitnetGGUF(t, spec, V, 96)
	cfg := model.Config{Type: model.TypeTransformer, Objective: model.ObjCausal, Vocab: V, Hidden: 64, Layers: 2, Heads: 2,
		FFN: 128, MaxPos: 64, Linear: model.LinearBitNet, Norm: model.NormLayer}
	lm, err := model.New(cfg, tensor.NewRNG(2))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := ggufTokenizer(spec, V)
	if err != nil {
		t.Fatal(err)
	}
	gpt2 := filepath.Join(t.TempDir(), "gpt2.gguf")
	if err := model.ExportGGUF(gpt2, lm, gguf.F16, kv); err != nil {
		t.Fatal(err)
	}
	tokSpec, _ := tokenizer.AdapterFromSpec(spec)
	if back, err := model.LoadGGUF(gpt2); err != nil {
		t.Fatal(err)
	} else if d, err := infer.NewDecoder(back, 2); err != nil {
		t.Fatal(err)
	} else if _, ok := d.(*infer.KVDecoder); !ok {
		t.Fatalf("a gpt2 GGUF decodes with %T, want a KV cache (infer.KVDecoder)", d)
	}
	prompts := []string{"It was the best", "the worst of times, it", "wisdom"}
	for _, path := range []string{bitnet, gpt2} {
		// the reference: each prompt decoded directly, greedily
		want := map[string]string{}
		for _, p := range prompts {
			ids, err := tokSpec.EncodeChecked(p)
			if err != nil {
				t.Fatal(err)
			}
			var out []int
			if path == bitnet {
				m, err := infer.LoadGGUF(path, 96)
				if err != nil {
					t.Fatal(err)
				}
				out, err = infer.GenerateLlama(context.Background(), m, ids, 16, infer.NewSampler(infer.Sampling{}, 1), nil)
				m.Close()
				if err != nil {
					t.Fatal(err)
				}
			} else {
				back, err := model.LoadGGUF(path)
				if err != nil {
					t.Fatal(err)
				}
				if out, err = infer.Generate(context.Background(), back, ids, 16, infer.NewSampler(infer.Sampling{}, 1), nil); err != nil {
					t.Fatal(err)
				}
			}
			// as JSON carries it: a random model's bytes need not be UTF-8, and invalid bytes become U+FFFD
			b, _ := json.Marshal(tokSpec.Decode(out[len(ids):]))
			var w string
			json.Unmarshal(b, &w)
			want[p] = w
			if len(out) != len(ids)+16 {
				t.Fatalf("%s: %d tokens decoded", p, len(out)-len(ids))
			}
		}
		t.Logf("%s: %q", filepath.Base(path), want)
		m, closeModel, err := serveGGUF(path, 3, 96, "")
		if err != nil {
			t.Fatal(err)
		}
		var rec *rowCounter
		if path == bitnet {
			if _, ok := m.Decoder.(*infer.LlamaBatch); !ok {
				t.Fatalf("a bitnet GGUF serves on a %T, want *infer.LlamaBatch", m.Decoder)
			}
			rec = &rowCounter{Decoder: m.Decoder}
			m.Decoder = rec
		}
		h := serve.New(m, serve.Options{})
		for _, p := range prompts {
			if got := complete(t, h, p, 16); got != want[p] {
				t.Errorf("%s, %q alone: served %q, decoding directly gives %q", filepath.Base(path), p, got, want[p])
			}
		}
		if path == bitnet { // the file changes on disk: the server must not notice
			if err := os.WriteFile(path, []byte("GGUF garbage"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if rec != nil {
			rec.want, rec.most = len(prompts), 0
		}
		var wg sync.WaitGroup
		got := make([]string, len(prompts))
		for i, p := range prompts {
			wg.Add(1)
			go func() { defer wg.Done(); got[i] = complete(t, h, p, 16) }()
		}
		wg.Wait()
		for i, p := range prompts {
			if got[i] != want[p] {
				t.Errorf("%s, %q among 3: served %q, decoding directly gives %q", filepath.Base(path), p, got[i], want[p])
			}
		}
		if rec != nil && rec.most < 2 {
			t.Errorf("the three concurrent requests never shared a step (at most %d rows)", rec.most)
		}
		h.Close()
		closeModel()
	}
}

// TestEvalGGUF: `tern eval lm` scoring of a bitnet GGUF (windows prefilled, every scored row's logits)
// equals the loss summed from stepping the model token by token over the same text, when one window
// holds it all; and a gpt2 GGUF scores like the tern model it reads back into.
func TestEvalGGUF(t *testing.T) {
	spec, V := smallBPE(t)
	path := tinyBitnetGGUF(t, spec, V, 96)
	text := "It was the best of times, it was the worst of times, it was the age of wisdom.\n"
	tok, _ := tokenizer.AdapterFromSpec(spec)
	ids, _ := tok.EncodeChecked(text)
	if len(ids) < 10 || len(ids) > 96 {
		t.Fatalf("%d tokens", len(ids))
	}
	m, err := infer.LoadGGUF(path, 96)
	if err != nil {
		t.Fatal(err)
	}
	nats := 0.0
	for i := 0; i < len(ids)-1; i++ {
		l, err := m.Step(ids[i])
		if err != nil {
			t.Fatal(err)
		}
		mx := math.Inf(-1)
		for _, v := range l {
			mx = math.Max(mx, float64(v))
		}
		s := 0.0
		for _, v := range l {
			s += math.Exp(float64(v) - mx)
		}
		nats += mx + math.Log(s) - float64(l[ids[i+1]])
	}
	m.Close()
	run, done, err := ggufEvaluator(context.Background(), path, 96, 95, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	res, err := run(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := nats / float64(len(ids)-1)
	if res.Tokens != int64(len(ids)-1) || math.Abs(res.Loss-want) > 1e-5*math.Max(1, want) {
		t.Errorf("eval: %d tokens, loss %.7f; stepping gives %d tokens, %.7f", res.Tokens, res.Loss, len(ids)-1, want)
	}
	// a window shorter than the text: still runs, a loss of the same size
	run2, done2, err := ggufEvaluator(context.Background(), path, 16, 8, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer done2()
	if res2, err := run2(strings.NewReader(text)); err != nil || math.Abs(res2.Loss-want) > 1 {
		t.Errorf("eval with 16-token windows: %+v, %v (whole text: %.4f)", res2, err, want)
	}
	if _, _, err := ggufEvaluator(context.Background(), path, 200, 0, 0); err == nil || !strings.Contains(err.Error(), "context") {
		t.Errorf("--context over the model's: %v", err)
	}
}

// TestServeGGUFChat: /v1/chat/completions of a GGUF model renders the file's tokenizer.chat_template
// (bos_token and eos_token from its token ids), encodes the special-token text in it as the special
// ids, and generates what decoding that prompt directly generates, cut at the end-of-sequence text; a
// template's raise_exception answers 400 with its message; a template outside the subset fails at
// load, naming the construct, and --chat-template builtin serves it anyway. The conversation's next
// turn reuses the first turn's cache (usage's cached_tokens) and still replies as decoding its whole
// prompt directly does.
func TestServeGGUFChat(t *testing.T) {
	spec, V := smallBPE(t)
	const tmpl = "{% for m in messages %}{% if m.role == 'system' and not loop.first %}{{ raise_exception('system first') }}{% endif %}" +
		"{{ bos_token if loop.first }}<{{ m['role'] }}>{{ m.content | trim }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}"
	path := tinyBitnetGGUF(t, spec, V, 96, gguf.String("tokenizer.chat_template", tmpl))
	m, closeModel, err := serveGGUF(path, 2, 96, "")
	if err != nil {
		t.Fatal(err)
	}
	defer closeModel()
	h := serve.New(m, serve.Options{})
	defer h.Close()
	cached := 0
	chat := func(body string) (int, string, int) {
		w := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(w, req)
		var c struct {
			Choices []struct{ Message struct{ Content string } }
			Usage   struct {
				PromptTokens  int `json:"prompt_tokens"`
				PromptDetails struct {
					CachedTokens int `json:"cached_tokens"`
				} `json:"prompt_tokens_details"`
			}
			Error struct{ Message string }
		}
		json.Unmarshal(w.Body.Bytes(), &c)
		if w.Code != 200 {
			return w.Code, c.Error.Message, 0
		}
		cached = c.Usage.PromptDetails.CachedTokens
		return w.Code, c.Choices[0].Message.Content, c.Usage.PromptTokens
	}
	code, got, n := chat(`{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": " It was "}], "max_tokens": 12, "temperature": 0}`)
	if code != 200 {
		t.Fatalf("chat: %d %s", code, got)
	}
	want := "<|endoftext|><system>Be brief.<|endoftext|><user>It was<|endoftext|><assistant>"
	tok, _ := tokenizer.Unmarshal([]byte(spec))
	bpe := tok.(*tokenizer.BPE)
	ids, err := bpe.EncodeWithSpecial(want, tokenizer.SpecialAllow)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(ids) || ids[0] != 0 {
		t.Fatalf("prompt of %d tokens, want %d (%v)", n, len(ids), ids)
	}
	lm, err := infer.LoadGGUF(path, 96)
	if err != nil {
		t.Fatal(err)
	}
	out, err := infer.GenerateLlama(context.Background(), lm, ids, 12, infer.NewSampler(infer.Sampling{}, 1), nil)
	lm.Close()
	if err != nil {
		t.Fatal(err)
	}
	text, _, _ := strings.Cut(bpe.Decode(out[len(ids):]), "<|endoftext|>")
	b, _ := json.Marshal(text)
	json.Unmarshal(b, &text)
	t.Logf("chat reply %q (%d prompt tokens)", got, n)
	if got != text || text == "" {
		t.Errorf("chat reply %q, decoding the rendered prompt directly gives %q", got, text)
	}
	// the conversation's next turn: its rendered prompt begins with the first one, which a slot's
	// cache still holds; only the rest is prefilled, and the reply is still decoding's own
	turn := fmt.Sprintf(`{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": " It was "}, {"role": "assistant", "content": %q}, {"role": "user", "content": "and then"}], "max_tokens": 12, "temperature": 0}`, got)
	code, got2, n2 := chat(turn)
	if code != 200 {
		t.Fatalf("second turn: %d %s", code, got2)
	}
	ids2, err := bpe.EncodeWithSpecial(want+strings.TrimSpace(got)+"<|endoftext|><user>and then<|endoftext|><assistant>", tokenizer.SpecialAllow)
	if err != nil {
		t.Fatal(err)
	}
	if n2 != len(ids2) || cached < n-1 || cached >= n2 {
		t.Errorf("second turn: %d prompt tokens (want %d), %d of them cached (want >= %d)", n2, len(ids2), cached, n-1)
	}
	lm, err = infer.LoadGGUF(path, 96)
	if err != nil {
		t.Fatal(err)
	}
	out, err = infer.GenerateLlama(context.Background(), lm, ids2, 12, infer.NewSampler(infer.Sampling{}, 1), nil)
	lm.Close()
	if err != nil {
		t.Fatal(err)
	}
	text2, _, _ := strings.Cut(bpe.Decode(out[len(ids2):]), "<|endoftext|>")
	b, _ = json.Marshal(text2) // invalid UTF-8 as the server's JSON carries it
	json.Unmarshal(b, &text2)
	if got2 != text2 {
		t.Errorf("second turn reply %q (%d of %d prompt tokens cached), decoding its prompt directly gives %q", got2, cached, n2, text2)
	}
	t.Logf("second turn: %d prompt tokens, %d cached", n2, cached)
	if code, msg, _ := chat(`{"messages": [{"role": "user", "content": "a"}, {"role": "system", "content": "b"}]}`); code != 400 || !strings.Contains(msg, "system first") {
		t.Errorf("raise_exception: %d %q", code, msg)
	}
	bad := tinyBitnetGGUF(t, spec, V, 96, gguf.String("tokenizer.chat_template", "{% for m in messages %}{{ m.content | wordwrap }}{% endfor %}"))
	if _, _, err := serveGGUF(bad, 1, 96, ""); err == nil || !strings.Contains(err.Error(), `unsupported filter "wordwrap"`) {
		t.Errorf("template outside the subset: %v", err)
	}
	if m, done, err := serveGGUF(bad, 1, 96, "builtin"); err != nil || m.Template.Name() != "tern-plain" {
		t.Errorf("--chat-template builtin: %v", err)
	} else {
		done()
	}
}

// rowCounter records the most rows a step of its decoder ran. With want set, it slows the steps that
// run fewer than want rows until one has run them (up to 2 s in all), so that concurrent requests queue up
// and join a step together however the goroutines are scheduled.
type rowCounter struct {
	infer.Decoder
	want, most int
	waited     time.Duration
}

func (r *rowCounter) Step(slots []int, ids []int) ([]float32, error) {
	r.most = max(r.most, len(slots))
	if len(slots) < r.want && r.most < r.want && r.waited < 2*time.Second {
		time.Sleep(50 * time.Millisecond)
		r.waited += 50 * time.Millisecond
	}
	return r.Decoder.Step(slots, ids)
}

// TestBenchServeModel: `tern bench serve --model x.gguf` serves the file in-process and measures it at
// two client counts (every request answered with its tokens, or the run fails).
func TestBenchServeModel(t *testing.T) {
	spec, V := smallBPE(t)
	path := tinyBitnetGGUF(t, spec, V, 96)
	if err := benchServe(context.Background(), []string{"--model", path, "--clients", "1,3", "--requests", "1", "--tokens", "4", "--prompt", "3"}); err != nil {
		t.Fatal(err)
	}
	if err := benchServe(context.Background(), []string{"--model", filepath.Join(t.TempDir(), "none.gguf")}); err == nil {
		t.Error("a missing model file was benchmarked")
	}
}

// TestScrapeMetrics: bench serve reads a tern server's step counters from /metrics beside the
// completions URL (labelled series and comments skipped), through serve's own exposition; an
// unreachable server gives nil, and the step note is left out without steps.
func TestScrapeMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "# HELP tern_decode_steps_total x\n# TYPE tern_decode_steps_total counter\ntern_decode_steps_total 40\n"+
			"tern_decode_step_seconds_total 0.25\ntern_requests_total{endpoint=\"/v1/completions\",code=\"200\"} 3\n")
	}))
	defer srv.Close()
	m := scrapeMetrics(srv.Client(), srv.URL+"/v1/completions")
	if m["tern_decode_steps_total"] != 40 || m["tern_decode_step_seconds_total"] != 0.25 || len(m) != 2 {
		t.Errorf("scraped %v", m)
	}
	srv.Close()
	if m := scrapeMetrics(srv.Client(), srv.URL+"/v1/completions"); m != nil {
		t.Errorf("a closed server gave %v", m)
	}
	if got := stepNote(6.25, 0.8); got != "; decode steps 6.25 ms mean, 80% of the wall" {
		t.Errorf("stepNote: %q", got)
	}
	if got := stepNote(0, 0); got != "" {
		t.Errorf("stepNote without steps: %q", got)
	}
	// the live exposition has the counters bench serve reads
	cfg, _ := model.Preset("tiny")
	cfg.Vocab, cfg.Hidden, cfg.Layers, cfg.Heads, cfg.FFN, cfg.MaxPos = 64, 32, 1, 2, 64, 16
	pm, err := infer.RandomPacked(cfg, 1, format.F16)
	if err != nil {
		t.Fatal(err)
	}
	b, err := infer.NewBatch(pm, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	h := serve.New(serve.Model{Name: "x", MaxPos: cfg.MaxPos, Decoder: b}, serve.Options{})
	defer h.Close()
	live := httptest.NewServer(h)
	defer live.Close()
	if m := scrapeMetrics(live.Client(), live.URL+"/v1/completions"); m == nil {
		t.Error("serve's /metrics could not be read")
	} else if _, ok := m["tern_decode_step_seconds_total"]; !ok {
		t.Errorf("serve's /metrics lacks tern_decode_step_seconds_total: %v", m)
	}
}

// TestBenchPrompts: bench serve's prompts have the asked number of words, differ between requests in
// their first two words (169 in turn, so no server reuses a cached prefix), and are one prompt when
// shared.
func TestBenchPrompts(t *testing.T) {
	prompt := func(body string) []string {
		var r struct{ Prompt string }
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatal(err)
		}
		return strings.Fields(r.Prompt)
	}
	seen := map[string]bool{}
	for i := range 169 {
		w := prompt(wordsBody(16, 4, "", false)(i))
		if len(w) != 16 || seen[w[0]+w[1]] || w[15] != "b" {
			t.Fatalf("request %d: prompt %v (seen: %v)", i, w, seen[w[0]+w[1]])
		}
		seen[w[0]+w[1]] = true
		if s := prompt(wordsBody(16, 4, "", true)(i)); strings.Join(s, " ") != strings.TrimSpace(strings.Repeat(" b", 16)) {
			t.Fatalf("shared prompt %v", s)
		}
	}
	if w := prompt(wordsBody(1, 4, `"ignore_eos": true`, false)(14)); len(w) != 1 || w[0] != "d" {
		t.Errorf("one-word prompt %v", w)
	}
}

// TestStreamOneHeldBack: a stream whose chunks carry no text (llama-server holds back bytes that never
// complete a UTF-8 character) is timed by its chunks and counted by its usage, or by its chunks when
// it has none; a stream without any chunk is an error.
func TestStreamOneHeldBack(t *testing.T) {
	chunks := []string{`{"choices":[{"text":""}]}`, `{"choices":[{"text":""}]}`, `{"choices":[{"text":""}]}`, `{"choices":[{"text":"","finish_reason":"length"}],"usage":{"completion_tokens":3}}`}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, c := range chunks {
			fmt.Fprintf(w, "data: %s\n\n", c)
			w.(http.Flusher).Flush()
			time.Sleep(5 * time.Millisecond)
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	defer srv.Close()
	ttft, tpot, n, err := streamOne(context.Background(), srv.Client(), srv.URL, "{}")
	if err != nil || n != 3 || ttft <= 0 || tpot < 4 {
		t.Fatalf("ttft %.1f ms, per token %.1f ms, %d tokens, %v", ttft, tpot, n, err)
	}
	// without usage (llama-server's streams carry none unless asked): the chunks before the final one
	// are the tokens
	chunks = []string{`{"choices":[{"text":""}]}`, `{"choices":[{"text":""}]}`, `{"choices":[{"text":"","finish_reason":"length"}]}`}
	if _, _, n, err := streamOne(context.Background(), srv.Client(), srv.URL, "{}"); err != nil || n != 2 {
		t.Errorf("a stream without text or usage: %d tokens, %v", n, err)
	}
	chunks = nil
	if _, _, _, err := streamOne(context.Background(), srv.Client(), srv.URL, "{}"); err == nil {
		t.Error("an empty stream was timed")
	}
}
