package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// script is what the fake model generates: bytes, so that multi-byte characters arrive split over
// several tokens as BPE can split them.
const script = "héllo wörld. STOP here, then ünïcode 日本語 and more text to fill the context."

// fakeDecoder "generates" script from its start in every slot, whatever the prompt, with logits that
// make each script byte certain at any temperature. A prompt starting with 'P' panics, with 'S' each
// step sleeps 2 ms. It records the largest batch a Step ran.
type fakeDecoder struct {
	slots, ctx     int
	pos, plen      []int
	slow           []bool
	mostBatch      atomic.Int32
	steps, started atomic.Int32
	logits         []float32
}

func newFake(slots int) *fakeDecoder {
	return &fakeDecoder{slots: slots, ctx: fakeCtx, pos: make([]int, slots), plen: make([]int, slots), slow: make([]bool, slots)}
}

const fakeCtx = 64

func (f *fakeDecoder) Slots() int        { return f.slots }
func (f *fakeDecoder) Vocab() int        { return 256 }
func (f *fakeDecoder) PromptLimit() int  { return f.ctx - 1 }
func (f *fakeDecoder) Room(slot int) int { return f.ctx - f.plen[slot] - f.pos[slot] }

func (f *fakeDecoder) row(dst []float32, i int) {
	for j := range dst {
		dst[j] = -100
	}
	dst[script[i%len(script)]] = 100
}

func (f *fakeDecoder) Start(slot int, prompt []int) ([]float32, error) {
	if prompt[0] == 'P' {
		panic("boom")
	}
	f.started.Add(1)
	f.pos[slot], f.plen[slot], f.slow[slot] = 0, len(prompt), prompt[0] == 'S'
	f.logits = make([]float32, 256)
	f.row(f.logits, 0)
	return f.logits, nil
}

func (f *fakeDecoder) Step(slots []int, ids []int) ([]float32, error) {
	f.steps.Add(1)
	for m := f.mostBatch.Load(); int32(len(slots)) > m && !f.mostBatch.CompareAndSwap(m, int32(len(slots))); m = f.mostBatch.Load() {
	}
	f.logits = make([]float32, 256*len(slots))
	slow := false
	for i, s := range slots {
		if ids[i] != int(script[f.pos[s]%len(script)]) {
			panic(fmt.Sprintf("slot %d fed %d, want %d", s, ids[i], script[f.pos[s]%len(script)]))
		}
		f.pos[s]++
		f.row(f.logits[i*256:(i+1)*256], f.pos[s])
		slow = slow || f.slow[s]
	}
	if slow {
		time.Sleep(2 * time.Millisecond)
	}
	return f.logits, nil
}

func fakeModel(d *fakeDecoder) Model {
	return Model{
		Name: "fake", MaxPos: fakeCtx, Config: map[string]int{"layers": 1}, Decoder: d,
		Encode: func(s string) ([]int, error) {
			if strings.Contains(s, "\x00") {
				return nil, fmt.Errorf("NUL in prompt")
			}
			ids := make([]int, len(s))
			for i := range len(s) {
				ids[i] = int(s[i])
			}
			return ids, nil
		},
		Decode: func(ids []int) string {
			b := make([]byte, len(ids))
			for i, id := range ids {
				b[i] = byte(id)
			}
			return string(b)
		},
	}
}

func newServer(t *testing.T, slots int, opt Options) (*Server, *fakeDecoder) {
	d := newFake(slots)
	s := New(fakeModel(d), opt)
	t.Cleanup(s.Close)
	return s, d
}

func call(t *testing.T, h http.Handler, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func post(t *testing.T, h http.Handler, body string) *httptest.ResponseRecorder {
	return call(t, h, http.MethodPost, "/v1/completions", body)
}

func decodeCompletion(t *testing.T, b []byte) completion {
	t.Helper()
	var c completion
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("response %q: %v", b, err)
	}
	return c
}

// events reads an event stream: its chunks' JSON in order; it must end with [DONE].
func events(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	done := false
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || done {
			t.Fatalf("unexpected line %q", line)
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		out = append(out, data)
	}
	if !done {
		t.Fatalf("stream did not end with [DONE]:\n%s", body)
	}
	return out
}

// stream reads a completions event stream: the texts of its chunks in order and the final chunk.
func stream(t *testing.T, body string) ([]string, completion) {
	t.Helper()
	var texts []string
	var last completion
	for _, e := range events(t, body) {
		last = decodeCompletion(t, []byte(e))
		texts = append(texts, *last.Choices[0].Text)
	}
	return texts, last
}

func TestCompletion(t *testing.T) {
	h, _ := newServer(t, 2, Options{})
	for _, n := range []int{1, 2, 3, 12, 40} {
		w := post(t, h, fmt.Sprintf(`{"prompt": "hi", "max_tokens": %d}`, n))
		if w.Code != http.StatusOK {
			t.Fatalf("n=%d: status %d: %s", n, w.Code, w.Body)
		}
		c := decodeCompletion(t, w.Body.Bytes())
		got := c.Choices[0]
		want := script[:n] // an incomplete last character is sent as decoded (then JSON-escaped)
		if utf8.ValidString(want) && *got.Text != want {
			t.Errorf("n=%d: text %q, want %q", n, *got.Text, want)
		}
		if *got.FinishReason != "length" || c.Usage.PromptTokens != 2 || c.Usage.CompletionTokens != n || c.Usage.TotalTokens != n+2 {
			t.Errorf("n=%d: finish %q usage %+v", n, *got.FinishReason, *c.Usage)
		}
		if c.Object != "text_completion" || c.Model != "fake" || !strings.HasPrefix(c.ID, "cmpl-") {
			t.Errorf("n=%d: envelope %+v", n, c)
		}
		// the stream carries the same text, in whole characters
		w = post(t, h, fmt.Sprintf(`{"prompt": "hi", "max_tokens": %d, "stream": true}`, n))
		if ct := w.Header().Get("Content-Type"); ct != "text/event-stream" {
			t.Errorf("stream content type %q", ct)
		}
		texts, last := stream(t, w.Body.String())
		if utf8.ValidString(want) {
			for _, tx := range texts {
				if !utf8.ValidString(tx) {
					t.Errorf("n=%d: chunk %q splits a character", n, tx)
				}
			}
		}
		if strings.Join(texts, "") != *got.Text || *last.Choices[0].FinishReason != "length" || last.Usage.CompletionTokens != n {
			t.Errorf("n=%d: stream %q (finish %v, usage %+v), want %q", n, texts, last.Choices[0].FinishReason, last.Usage, *got.Text)
		}
	}
	// the context bounds a completion: prompt + generated <= fakeCtx
	w := post(t, h, fmt.Sprintf(`{"prompt": "%s", "max_tokens": 60}`, strings.Repeat("a", 50)))
	if c := decodeCompletion(t, w.Body.Bytes()); c.Usage.CompletionTokens != fakeCtx-50 || *c.Choices[0].FinishReason != "length" {
		t.Errorf("full context: %s", w.Body)
	}
}

func TestStop(t *testing.T) {
	h, _ := newServer(t, 1, Options{})
	want := script[:strings.Index(script, "STOP")]
	for _, stop := range []string{`"STOP"`, `["zzz", "STOP"]`, `["ST", "STOP"]`} {
		for _, streamed := range []bool{false, true} {
			w := post(t, h, fmt.Sprintf(`{"prompt": "x", "max_tokens": 60, "stop": %s, "stream": %v}`, stop, streamed))
			var text string
			var c completion
			if streamed {
				var texts []string
				texts, c = stream(t, w.Body.String())
				text = strings.Join(texts, "")
			} else {
				c = decodeCompletion(t, w.Body.Bytes())
				text = *c.Choices[0].Text
			}
			if text != want || *c.Choices[0].FinishReason != "stop" {
				t.Errorf("stop %s stream=%v: %q (%s), want %q (stop)", stop, streamed, text, *c.Choices[0].FinishReason, want)
			}
		}
	}
}

// TestChat: the built-in template's prompt, the chat.completion shape, and every streamed chunk's
// shape (OpenAI's chat.completion.chunk: the role first, content deltas, a finish_reason last, then an
// optional usage chunk with no choices, then [DONE]).
func TestChat(t *testing.T) {
	var gotPrompt string
	d := newFake(2)
	d.ctx = 256
	m := fakeModel(d)
	m.MaxPos = 256
	enc := m.Encode
	m.Encode = func(s string) ([]int, error) { gotPrompt = s; return enc(s) }
	h := New(m, Options{})
	defer h.Close()
	body := `{"model": "fake", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
		{"role": "assistant", "content": "Hello."}, {"role": "user", "content": [{"type": "text", "text": "Say "}, {"type": "text", "text": "more"}]}],
		"max_tokens": 20, "temperature": 0, "stop": "STOP", "seed": 3, "top_p": 1, "n": 1, "user": "u1"}`
	w := call(t, h, "POST", "/v1/chat/completions", body)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if want := "Be brief.\n\nUser: Hi\nAssistant: Hello.\nUser: Say more\nAssistant:"; gotPrompt != want {
		t.Errorf("template: %q, want %q", gotPrompt, want)
	}
	var c struct {
		ID, Object, Model string
		Created           int64
		Choices           []struct {
			Index        int
			Message      struct{ Role, Content string }
			FinishReason string `json:"finish_reason"`
		}
		Usage usage
	}
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	if c.Object != "chat.completion" || !strings.HasPrefix(c.ID, "chatcmpl-") || c.Created == 0 || len(c.Choices) != 1 ||
		c.Choices[0].Message.Role != "assistant" || c.Choices[0].Message.Content != script[:strings.Index(script, "STOP")] || c.Choices[0].FinishReason != "stop" ||
		c.Usage.CompletionTokens != strings.Index(script, "STOP")+4 || c.Usage.PromptTokens != len(gotPrompt) {
		t.Errorf("chat response %s", w.Body)
	}

	for _, withUsage := range []bool{false, true} {
		b := strings.Replace(body, `"max_tokens": 20`, fmt.Sprintf(`"max_tokens": 60, "stream": true, "stream_options": {"include_usage": %v}`, withUsage), 1)
		w = call(t, h, "POST", "/v1/chat/completions", b)
		evs := events(t, w.Body.String())
		var text strings.Builder
		for i, e := range evs {
			var ch map[string]any
			if err := json.Unmarshal([]byte(e), &ch); err != nil {
				t.Fatal(err)
			}
			if ch["object"] != "chat.completion.chunk" || ch["id"] == nil || ch["created"] == nil || ch["model"] != "fake" {
				t.Errorf("chunk %d envelope: %s", i, e)
			}
			choices, _ := ch["choices"].([]any)
			last := i == len(evs)-1
			if withUsage && last { // the usage chunk
				u, _ := ch["usage"].(map[string]any)
				if len(choices) != 0 || u == nil || u["completion_tokens"] == nil {
					t.Errorf("usage chunk: %s", e)
				}
				continue
			}
			if len(choices) != 1 {
				t.Fatalf("chunk %d: %s", i, e)
			}
			c0 := choices[0].(map[string]any)
			delta, _ := c0["delta"].(map[string]any)
			fr, hasFR := c0["finish_reason"]
			if !hasFR || delta == nil || c0["index"] != 0.0 {
				t.Errorf("chunk %d shape: %s", i, e)
			}
			final := (withUsage && i == len(evs)-2) || (!withUsage && last)
			switch {
			case i == 0:
				if delta["role"] != "assistant" || fr != nil {
					t.Errorf("first chunk: %s", e)
				}
			case final:
				if fr != "stop" {
					t.Errorf("final chunk: %s", e)
				}
			default:
				if fr != nil || delta["role"] != nil {
					t.Errorf("chunk %d: %s", i, e)
				}
			}
			if s, ok := delta["content"].(string); ok {
				text.WriteString(s)
			}
			if ch["usage"] != nil {
				t.Errorf("chunk %d has usage: %s", i, e)
			}
		}
		if want := script[:strings.Index(script, "STOP")]; text.String() != want {
			t.Errorf("streamed chat text %q, want %q", text.String(), want)
		}
	}
}

func TestBadRequests(t *testing.T) {
	h, _ := newServer(t, 1, Options{MaxTokens: 50, MaxBody: 4096})
	long := strings.Repeat("a", 64)
	chat := "/v1/chat/completions"
	cases := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/v1/completions", `{"prompt": "hi"`, 400, "request body"},
		{"POST", "/v1/completions", `{"prompt": "hi", "temprature": 1}`, 400, `unknown field "temprature"`},
		{"POST", "/v1/completions", `{"prompt": "hi"} {}`, 400, "more than one"},
		{"POST", "/v1/completions", `{}`, 400, "prompt is required"},
		{"POST", "/v1/completions", `{"prompt": ""}`, 400, "prompt is required"},
		{"POST", "/v1/completions", `{"prompt": 5}`, 400, "request body"},
		{"POST", "/v1/completions", `{"prompt": "hi", "max_tokens": "5"}`, 400, "request body"},
		{"POST", "/v1/completions", `{"prompt": "a\u0000"}`, 400, "NUL in prompt"},
		{"POST", "/v1/completions", "{\"prompt\": \"a\xff\"}", 400, "not valid UTF-8"},
		{"POST", "/v1/completions", `{"prompt": "hi", "max_tokens": 0}`, 400, "max_tokens 0: want 1 to 50"},
		{"POST", "/v1/completions", `{"prompt": "hi", "max_tokens": 51}`, 400, "max_tokens 51"},
		{"POST", "/v1/completions", `{"prompt": "hi", "temperature": -1}`, 400, "temperature"},
		{"POST", "/v1/completions", `{"prompt": "hi", "top_p": 2}`, 400, "top_p"},
		{"POST", "/v1/completions", `{"prompt": "hi", "top_k": -1}`, 400, "top_k"},
		{"POST", "/v1/completions", `{"prompt": "hi", "stop": ""}`, 400, "empty stop"},
		{"POST", "/v1/completions", `{"prompt": "hi", "stop": 5}`, 400, "stop: want a string"},
		{"POST", "/v1/completions", `{"prompt": "hi", "n": 2}`, 400, "only n = 1"},
		{"POST", "/v1/completions", `{"prompt": "hi", "model": "gpt-4"}`, 404, `model "gpt-4" not found`},
		{"POST", "/v1/completions", `{"prompt": "` + long + `"}`, 400, "prompt is 64 tokens"},
		{"POST", "/v1/completions", `{"prompt": "` + strings.Repeat("a", 5000) + `"}`, 413, "request body over 4096"},
		{"POST", "/v1/completions", `{"messages": [{"role": "user", "content": "x"}]}`, 400, "messages are for /v1/chat"},
		{"POST", chat, `{"messages": []}`, 400, "non-empty list"},
		{"POST", chat, `{}`, 400, "non-empty list"},
		{"POST", chat, `{"messages": [{"role": "wizard", "content": "x"}]}`, 400, `unknown role "wizard"`},
		{"POST", chat, `{"messages": [{"content": "x"}]}`, 400, "role is required"},
		{"POST", chat, `{"messages": [{"role": "user", "content": ""}]}`, 400, "empty user message"},
		{"POST", chat, `{"messages": [{"role": "system", "content": "x"}]}`, 400, "no user message"},
		{"POST", chat, `{"messages": [{"role": "user", "content": 5}]}`, 400, "want a string or a list"},
		{"POST", chat, `{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}`, 400, "only {\"type\": \"text\""},
		{"POST", chat, `{"messages": "hi"}`, 400, "request body"},
		{"POST", chat, `{"prompt": "hi", "messages": [{"role": "user", "content": "x"}]}`, 400, "prompt is for /v1/completions"},
		{"POST", chat, `{"messages": [{"role": "user", "content": "` + long + `"}]}`, 400, "tokens; the model's context is 64"},
		{"GET", "/v1/completions", ``, 405, "needs POST"},
		{"POST", "/health", `{}`, 405, "needs GET"},
		{"GET", "/v2/chat", ``, 404, "no endpoint"},
	}
	for _, c := range cases {
		w := call(t, h, c.method, c.path, c.body)
		var e struct {
			Error struct{ Message, Type string }
		}
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != c.status || !strings.Contains(e.Error.Message, c.want) {
			t.Errorf("%s %s %.50q: %d %q, want %d mentioning %q", c.method, c.path, c.body, w.Code, w.Body, c.status, c.want)
		}
	}
	// not JSON: a cross-origin form post, or no type
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", ""} {
		w := call(t, h, "POST", chat, `{"messages": [{"role": "user", "content": "x"}]}`, "Content-Type", ct)
		if w.Code != 415 || !strings.Contains(w.Body.String(), "must be application/json") {
			t.Errorf("Content-Type %q: %d %s", ct, w.Code, w.Body)
		}
	}
	w := call(t, h, "POST", chat, `{"messages": [{"role": "user", "content": "x"}], "max_tokens": 2}`, "Content-Type", "application/json; charset=utf-8")
	if w.Code != 200 {
		t.Errorf("application/json; charset=utf-8: %d %s", w.Code, w.Body)
	}
	w = call(t, h, "GET", "/health", "", "X-Big", strings.Repeat("x", 70<<10))
	if w.Code != 431 || !strings.Contains(w.Body.String(), `"error"`) {
		t.Errorf("big headers: %d %s", w.Code, w.Body)
	}
}

func TestAPIKey(t *testing.T) {
	h, _ := newServer(t, 1, Options{APIKeys: []string{"sk-first-key", "sk-second-key"}})
	body := `{"prompt": "hi", "max_tokens": 2}`
	for _, c := range []struct {
		auth string
		code int
	}{{"", 401}, {"Bearer sk-wrong-key", 401}, {"sk-first-key", 401}, {"Basic sk-first-key", 401}, {"Bearer sk-first-key", 200}, {"Bearer sk-second-key", 200}} {
		w := call(t, h, "POST", "/v1/completions", body, "Authorization", c.auth)
		if w.Code != c.code {
			t.Errorf("Authorization %q: %d %s", c.auth, w.Code, w.Body)
		}
		if c.code == 401 && (!strings.Contains(w.Body.String(), "API key") || w.Header().Get("WWW-Authenticate") == "") {
			t.Errorf("Authorization %q: %s", c.auth, w.Body)
		}
	}
	for path, code := range map[string]int{"/health": 200, "/v1/models": 401, "/metrics": 401} {
		if w := call(t, h, "GET", path, ""); w.Code != code {
			t.Errorf("%s without a key: %d", path, w.Code)
		}
	}
}

func TestInfoEndpoints(t *testing.T) {
	h, _ := newServer(t, 3, Options{})
	post(t, h, `{"prompt": "hi", "max_tokens": 5}`)
	for path, want := range map[string]string{"/health": `"status": "ok"`, "/v1/models": `"id": "fake"`,
		"/metrics": "tern_generated_tokens_total 5\n"} {
		w := call(t, h, "GET", path, "")
		if w.Code != 200 || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: %d %s", path, w.Code, w.Body)
		}
	}
	m := call(t, h, "GET", "/metrics", "").Body.String()
	for _, want := range []string{`tern_requests_total{endpoint="/v1/completions",code="200"} 1`, "tern_prompt_tokens_total 2", "tern_slots 3",
		"tern_queue_depth 0", "tern_time_to_first_token_seconds_count 1", "tern_time_per_output_token_seconds_count 1", "# TYPE tern_generated_tokens_per_second gauge"} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
}

// TestBatching: concurrent requests decode together, up to the slots, and each gets the text it gets
// alone.
func TestBatching(t *testing.T) {
	h, d := newServer(t, 3, Options{})
	alone := decodeCompletion(t, post(t, h, `{"prompt": "Slow", "max_tokens": 20}`).Body.Bytes())
	var wg sync.WaitGroup
	res := make([]*httptest.ResponseRecorder, 8)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = post(t, h, `{"prompt": "Slow", "max_tokens": 20}`)
		}()
	}
	wg.Wait()
	for i, w := range res {
		if w.Code != 200 || *decodeCompletion(t, w.Body.Bytes()).Choices[0].Text != *alone.Choices[0].Text {
			t.Errorf("request %d: %d %s", i, w.Code, w.Body)
		}
	}
	if m := d.mostBatch.Load(); m < 2 || m > 3 {
		t.Errorf("largest batch %d, want 2 or 3 (3 slots)", m)
	}
}

// TestQueueFull: with every slot busy and the queue full, a request is answered 503 JSON at once.
func TestQueueFull(t *testing.T) {
	h, _ := newServer(t, 1, Options{Queue: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for range 2 { // one decoding, one queued (each ~60 slow steps)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := httptest.NewRequest("POST", "/v1/completions", strings.NewReader(`{"prompt": "Slow", "max_tokens": 60}`)).WithContext(ctx)
			r.Header.Set("Content-Type", "application/json")
			h.ServeHTTP(httptest.NewRecorder(), r)
		}()
	}
	deadline := time.Now().Add(2 * time.Second)
	for h.met.queueDepth.Load() < 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	w := post(t, h, `{"prompt": "hi", "max_tokens": 2}`)
	if w.Code != 503 || !strings.Contains(w.Body.String(), "queue is full") {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	cancel()
	wg.Wait()
	for h.met.queueDepth.Load() > 0 && time.Now().Before(deadline) { // the scheduler drops the cancelled request
		time.Sleep(time.Millisecond)
	}
	if w := post(t, h, `{"prompt": "hi", "max_tokens": 2}`); w.Code != 200 {
		t.Errorf("after the queue drained: %d %s", w.Code, w.Body)
	}
}

// TestClientGone: a request whose client disconnects stops generating and frees its slot.
func TestClientGone(t *testing.T) {
	h, d := newServer(t, 1, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	r := httptest.NewRequest(http.MethodPost, "/v1/completions", strings.NewReader(`{"prompt": "Slow", "max_tokens": 60}`)).WithContext(ctx)
	r.Header.Set("Content-Type", "application/json")
	start := time.Now()
	h.ServeHTTP(httptest.NewRecorder(), r)
	if d := time.Since(start); d > 60*time.Millisecond {
		t.Errorf("the handler ran %v after the client left", d)
	}
	steps := d.steps.Load()
	if w := post(t, h, `{"prompt": "hi", "max_tokens": 3}`); w.Code != 200 {
		t.Errorf("next request: %d %s", w.Code, w.Body)
	}
	if s := d.steps.Load() - steps; s > 10 {
		t.Errorf("%d steps between the disconnect and the end of a 3-token request: the slot was not freed", s)
	}
}

func TestTimeout(t *testing.T) {
	h, _ := newServer(t, 1, Options{Timeout: 20 * time.Millisecond})
	w := post(t, h, `{"prompt": "Slow", "max_tokens": 60}`)
	if w.Code != 504 || !strings.Contains(w.Body.String(), "did not finish within") {
		t.Errorf("%d %s", w.Code, w.Body)
	}
}

// TestPanicIsJSON: a failure inside the model answers 500 with a JSON error and frees the slot.
func TestPanicIsJSON(t *testing.T) {
	h, _ := newServer(t, 1, Options{})
	w := post(t, h, `{"prompt": "Panic"}`)
	if w.Code != 500 || !strings.Contains(w.Body.String(), "internal error: boom") {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	if w := post(t, h, `{"prompt": "hi", "max_tokens": 3}`); w.Code != 200 {
		t.Errorf("next request: %d %s", w.Code, w.Body)
	}
}

// TestLoad: N concurrent clients over real TCP, streaming and not, each answered exactly once with
// 200 or the documented 503, every 200 carrying the whole text, and the heap back near where it was.
func TestLoad(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	h, _ := newServer(t, 4, Options{Queue: 8})
	srv := httptest.NewServer(h)
	defer srv.Close()
	const N = 48
	var ok, busy, other atomic.Int32
	var wg sync.WaitGroup
	for i := range N {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"prompt": "hi %d", "max_tokens": 30, "stream": %v}`, i, i%2 == 0)
			resp, err := http.Post(srv.URL+"/v1/completions", "application/json", strings.NewReader(body))
			if err != nil {
				other.Add(1)
				return
			}
			defer resp.Body.Close()
			sb := new(strings.Builder)
			bufio.NewReader(resp.Body).WriteTo(sb)
			switch resp.StatusCode {
			case 200:
				var text string
				if i%2 == 0 {
					texts, _ := stream(t, sb.String())
					text = strings.Join(texts, "")
				} else {
					text = *decodeCompletion(t, []byte(sb.String())).Choices[0].Text
				}
				if text != script[:30] {
					t.Errorf("client %d: %q", i, text)
				}
				ok.Add(1)
			case 503:
				busy.Add(1)
			default:
				other.Add(1)
			}
		}()
	}
	wg.Wait()
	srv.CloseClientConnections()
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("%d answered, %d told 503; heap in use %d -> %d KiB", ok.Load(), busy.Load(), before.HeapInuse>>10, after.HeapInuse>>10)
	if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 16<<20 {
		t.Errorf("heap grew by %d MiB over the load", grown>>20)
	}
	if ok.Load()+busy.Load() != N || other.Load() != 0 || ok.Load() < 8 {
		t.Errorf("%d ok + %d busy + %d other, want %d answered (at least the 8 queue places)", ok.Load(), busy.Load(), other.Load(), N)
	}
}

// TestSlowClient: a client that sends its body too slowly gets 408 JSON after BodyTimeout, and the
// server keeps answering others.
func TestSlowClient(t *testing.T) {
	h, _ := newServer(t, 1, Options{BodyTimeout: 100 * time.Millisecond})
	srv := httptest.NewServer(h)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"prompt\":")
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body := new(strings.Builder)
	bufio.NewReader(resp.Body).WriteTo(body)
	if resp.StatusCode != 408 || !strings.Contains(body.String(), "not received within") || time.Since(start) > 3*time.Second {
		t.Errorf("slow body: %d %s after %v", resp.StatusCode, body, time.Since(start))
	}
	r, err := http.Post(srv.URL+"/v1/completions", "application/json", strings.NewReader(`{"prompt": "hi", "max_tokens": 2}`))
	if err != nil || r.StatusCode != 200 {
		t.Errorf("next client: %v %v", err, r)
	}
}

// fakeMany is fakeDecoder with a batched start (infer.ManyStarter) that records its largest group.
type fakeMany struct {
	*fakeDecoder
	mostStart atomic.Int32
	gate      chan struct{} // Step waits for it to close
	entered   atomic.Int32  // Steps begun
}

func (f *fakeMany) Step(slots []int, ids []int) ([]float32, error) {
	f.entered.Add(1)
	<-f.gate
	return f.fakeDecoder.Step(slots, ids)
}

func (f *fakeMany) StartMany(slots []int, prompts [][]int) ([]float32, error) {
	for m := f.mostStart.Load(); int32(len(slots)) > m && !f.mostStart.CompareAndSwap(m, int32(len(slots))); m = f.mostStart.Load() {
	}
	out := make([]float32, 256*len(slots))
	for i, s := range slots {
		l, _ := f.Start(s, prompts[i]) // a 'P' prompt panics, failing the whole group
		copy(out[i*256:], l)
	}
	return out, nil
}

// TestBatchedStart: requests queued while the batch decodes are started together through StartMany,
// each answered as when alone; when the group's start fails (a panic), each request is started on its
// own so that only the failing one gets the error.
func TestBatchedStart(t *testing.T) {
	for _, withPanic := range []bool{false, true} {
		d := &fakeMany{fakeDecoder: newFake(5), gate: make(chan struct{})}
		m := fakeModel(d.fakeDecoder)
		m.Decoder = d
		s := New(m, Options{})
		var wg sync.WaitGroup
		var first *httptest.ResponseRecorder
		wg.Add(1)
		go func() { // its first Step holds the batch while the others queue
			defer wg.Done()
			first = post(t, s, `{"prompt": "hi", "max_tokens": 8}`)
		}()
		for d.entered.Load() < 1 {
			time.Sleep(100 * time.Microsecond)
		}
		res := make([]*httptest.ResponseRecorder, 4)
		for i := range res {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := "hi"
				if withPanic && i == 2 {
					p = "Panic"
				}
				res[i] = post(t, s, fmt.Sprintf(`{"prompt": %q, "max_tokens": 8}`, p))
			}()
		}
		for s.met.queueDepth.Load() < 4 {
			time.Sleep(100 * time.Microsecond)
		}
		close(d.gate)
		wg.Wait()
		s.Close()
		alone := *decodeCompletion(t, first.Body.Bytes()).Choices[0].Text
		for i, w := range res {
			if withPanic && i == 2 {
				if w.Code != 500 {
					t.Errorf("panicking request: %d %s", w.Code, w.Body)
				}
				continue
			}
			if w.Code != 200 || *decodeCompletion(t, w.Body.Bytes()).Choices[0].Text != alone {
				t.Errorf("panic %v: request %d: %d %s", withPanic, i, w.Code, w.Body)
			}
		}
		if m := d.mostStart.Load(); m != 4 {
			t.Errorf("panic %v: largest batched start %d, want the 4 queued requests started together", withPanic, m)
		}
	}
}
