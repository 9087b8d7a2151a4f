package serve

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzRequestBody posts arbitrary bodies to both generation endpoints of a server over the fake
// decoder: every answer is a status below 500 with a JSON body (an error object or a completion),
// never a panic or a hang.
func FuzzRequestBody(f *testing.F) {
	s := New(fakeModel(newFake(2)), Options{})
	defer s.Close()
	f.Add([]byte(`{"prompt": "ab", "max_tokens": 3}`), false)
	f.Add([]byte(`{"prompt": "ab", "max_tokens": 3, "stream": true, "stop": ["x", "y"]}`), false)
	f.Add([]byte(`{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}`), true)
	f.Add([]byte(`{"prompt": "a", "temperature": -1, "top_p": 2}`), false)
	f.Fuzz(func(t *testing.T, body []byte, chat bool) {
		path := "/v1/completions"
		if chat {
			path = "/v1/chat/completions"
		}
		r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body.Bytes())
		}
		if w.Header().Get("Content-Type") == "application/json" && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("status %d: body is not JSON: %q", w.Code, w.Body.Bytes())
		}
	})
}
