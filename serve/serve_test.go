package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"tern/infer"
)

// script is what the fake model generates: bytes, so that multi-byte characters arrive split over
// several tokens as BPE can split them.
const script = "héllo wörld. STOP here, then ünïcode 日本語 and more text to fill the context."

// fakeModel encodes and decodes bytes as ids and "generates" script from its start, whatever the
// prompt; inside counts concurrent Generate calls.
func fakeModel(inside *atomic.Int32, maxInside *atomic.Int32) Model {
	return Model{
		Name: "fake", MaxPos: 64, Config: map[string]int{"layers": 1},
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
		Generate: func(ctx context.Context, prompt []int, n int, s *infer.Sampler, emit func(int) bool) ([]int, error) {
			if inside != nil {
				v := inside.Add(1)
				defer inside.Add(-1)
				for m := maxInside.Load(); v > m && !maxInside.CompareAndSwap(m, v); m = maxInside.Load() {
				}
			}
			out := append([]int(nil), prompt...)
			for i := 0; i < n && len(out) < 64; i++ {
				if err := ctx.Err(); err != nil {
					return out, err
				}
				if prompt[0] == 'P' {
					panic("boom")
				}
				if prompt[0] == 'S' {
					time.Sleep(2 * time.Millisecond)
				}
				id := int(script[i%len(script)])
				out = append(out, id)
				if !emit(id) {
					break
				}
			}
			return out, nil
		},
	}
}

func post(t *testing.T, h http.Handler, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/v1/completions", strings.NewReader(body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func decodeCompletion(t *testing.T, b []byte) completion {
	t.Helper()
	var c completion
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("response %q: %v", b, err)
	}
	return c
}

// stream reads an event stream: the texts of its chunks in order and the final chunk.
func stream(t *testing.T, body string) ([]string, completion) {
	t.Helper()
	var texts []string
	var last completion
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
		last = decodeCompletion(t, []byte(data))
		texts = append(texts, last.Choices[0].Text)
	}
	if !done {
		t.Fatalf("stream did not end with [DONE]:\n%s", body)
	}
	return texts, last
}

func TestCompletion(t *testing.T) {
	h := New(fakeModel(nil, nil), Options{})
	for _, n := range []int{1, 2, 3, 12, 40} {
		w := post(t, h, fmt.Sprintf(`{"prompt": "hi", "max_tokens": %d}`, n))
		if w.Code != http.StatusOK {
			t.Fatalf("n=%d: status %d: %s", n, w.Code, w.Body)
		}
		c := decodeCompletion(t, w.Body.Bytes())
		got := c.Choices[0]
		want := script[:n] // an incomplete last character is sent as decoded (then JSON-escaped)
		if utf8.ValidString(want) && got.Text != want {
			t.Errorf("n=%d: text %q, want %q", n, got.Text, want)
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
		if strings.Join(texts, "") != got.Text || *last.Choices[0].FinishReason != "length" || last.Usage.CompletionTokens != n {
			t.Errorf("n=%d: stream %q (finish %v, usage %+v), want %q", n, texts, last.Choices[0].FinishReason, last.Usage, got.Text)
		}
	}
}

func TestStop(t *testing.T) {
	h := New(fakeModel(nil, nil), Options{})
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
				text = c.Choices[0].Text
			}
			if text != want || *c.Choices[0].FinishReason != "stop" {
				t.Errorf("stop %s stream=%v: %q (%s), want %q (stop)", stop, streamed, text, *c.Choices[0].FinishReason, want)
			}
		}
	}
}

func TestBadRequests(t *testing.T) {
	h := New(fakeModel(nil, nil), Options{MaxTokens: 50})
	long := strings.Repeat("a", 64)
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
		{"POST", "/v1/completions", `{"prompt": "a\u0000"}`, 400, "NUL in prompt"},
		{"POST", "/v1/completions", `{"prompt": "hi", "max_tokens": 0}`, 400, "max_tokens 0: want 1 to 50"},
		{"POST", "/v1/completions", `{"prompt": "hi", "max_tokens": 51}`, 400, "max_tokens 51"},
		{"POST", "/v1/completions", `{"prompt": "hi", "temperature": -1}`, 400, "temperature"},
		{"POST", "/v1/completions", `{"prompt": "hi", "top_p": 2}`, 400, "top_p"},
		{"POST", "/v1/completions", `{"prompt": "hi", "top_k": -1}`, 400, "top_k"},
		{"POST", "/v1/completions", `{"prompt": "hi", "stop": ""}`, 400, "empty stop"},
		{"POST", "/v1/completions", `{"prompt": "hi", "stop": 5}`, 400, "stop: want a string"},
		{"POST", "/v1/completions", `{"prompt": "hi", "model": "gpt-4"}`, 404, `model "gpt-4" not found`},
		{"POST", "/v1/completions", `{"prompt": "` + long + `"}`, 400, "prompt is 64 tokens"},
		{"POST", "/v1/completions", `{"prompt": "` + strings.Repeat("a", maxBody) + `"}`, 413, "request body over"},
		{"GET", "/v1/completions", ``, 405, "needs POST"},
		{"POST", "/health", `{}`, 405, "needs GET"},
		{"GET", "/v2/chat", ``, 404, "no endpoint"},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var e struct {
			Error struct{ Message, Type string }
		}
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != c.status || !strings.Contains(e.Error.Message, c.want) {
			t.Errorf("%s %s %.40q: %d %q, want %d mentioning %q", c.method, c.path, c.body, w.Code, w.Body, c.status, c.want)
		}
	}
}

func TestInfoEndpoints(t *testing.T) {
	h := New(fakeModel(nil, nil), Options{})
	for path, want := range map[string]string{"/health": `"status": "ok"`, "/v1/models": `"id": "fake"`} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != 200 || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: %d %s", path, w.Code, w.Body)
		}
	}
}

// TestOneAtATime: concurrent requests all complete, and the model never runs two at once.
func TestOneAtATime(t *testing.T) {
	var inside, most atomic.Int32
	h := New(fakeModel(&inside, &most), Options{})
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = post(t, h, `{"prompt": "Slow", "max_tokens": 5}`).Code
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Errorf("request %d: status %d", i, c)
		}
	}
	if most.Load() != 1 {
		t.Errorf("%d generations ran at once", most.Load())
	}
}

// TestClientGone: a request whose client disconnects stops generating and frees the model.
func TestClientGone(t *testing.T) {
	h := New(fakeModel(nil, nil), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	r := httptest.NewRequest(http.MethodPost, "/v1/completions", strings.NewReader(`{"prompt": "Slow", "max_tokens": 60}`)).WithContext(ctx)
	start := time.Now()
	h.ServeHTTP(httptest.NewRecorder(), r)
	if d := time.Since(start); d > 60*time.Millisecond {
		t.Errorf("generation ran %v after the client left", d)
	}
	if w := post(t, h, `{"prompt": "hi", "max_tokens": 3}`); w.Code != 200 {
		t.Errorf("next request: %d %s", w.Code, w.Body)
	}
}

// TestPanicIsJSON: a failure inside generation answers 500 with a JSON error and frees the model.
func TestPanicIsJSON(t *testing.T) {
	h := New(fakeModel(nil, nil), Options{})
	w := post(t, h, `{"prompt": "Panic"}`)
	if w.Code != 500 || !strings.Contains(w.Body.String(), "internal error: boom") {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	if w := post(t, h, `{"prompt": "hi", "max_tokens": 3}`); w.Code != 200 {
		t.Errorf("next request: %d %s", w.Code, w.Body)
	}
}
