// Package serve is tern's HTTP API for text generation: one loaded model behind OpenAI-style
// completions and chat endpoints, with streaming as server-sent events and continuous batching.
//
//	GET  /health                {"status":"ok","model":NAME} (never needs the API key)
//	GET  /v1/models             the model, with its config
//	GET  /metrics               Prometheus text format: requests, tokens, queue depth, slots, latencies
//	POST /v1/completions        {"prompt": "...", "max_tokens": 128, "temperature": 0.8, "top_k": 0,
//	                             "top_p": 0, "seed": 1, "stop": "..." or ["...", ...], "stream": false}
//	POST /v1/chat/completions   {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}],
//	                             and the same sampling fields}
//
// A completion is choices[0].text (chat: choices[0].message.content) with finish_reason "stop" (a stop
// string was produced; it is not included) or "length" (max_tokens or the context filled), and usage
// token counts. With "stream": true each piece of text is sent as it is decoded ("data: {...}" events
// in OpenAI's chunk shapes, then "data: [DONE]"), held back only as far as a stop string could still
// begin. Chat prompts are the model's Template applied to the messages (Builtin for tern's models).
//
// Requests are decoded together: the model's infer.Decoder has Slots() sequences, and a scheduler
// goroutine (sched.go) lets a request join the running batch at the next step and leave when done.
// Requests beyond the slots wait in a queue of Options.Queue; past that they get 503. A client that
// disconnects frees its slot at the next step. The same seed and request give the same text,
// whatever else is being decoded.
//
// Errors are JSON, {"error": {"message": ..., "type": ..., "code": ...}}: 400 bad request, 401 missing or
// wrong API key, 404 unknown endpoint or model, 405, 408 body not received in time, 413 body too
// large, 415 not application/json, 431 headers too large, 500 internal, 503 queue full, 504 the
// request's time limit passed.
package serve

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"tern/infer"
)

// Model is what the server generates with.
type Model struct {
	Name    string // the id clients see (and may send as "model")
	MaxPos  int    // context length in tokens
	Config  any    // shown by /v1/models
	Encode  func(text string) ([]int, error)
	Decode  func(ids []int) string
	Decoder infer.Decoder // driven by the scheduler alone
	// Template renders chat messages; nil means Builtin.
	Template Template
}

// Options bound what a request may ask, and how the server runs.
type Options struct {
	MaxTokens   int           // largest max_tokens accepted (default: the model's context)
	Queue       int           // requests waiting for a slot before 503 (default 64)
	Timeout     time.Duration // per request, queueing included (0: none)
	BodyTimeout time.Duration // to receive a request body (default 30 s)
	MaxBody     int64         // request body bytes (default 1 MiB)
	MaxHeader   int           // request header bytes (default 64 KiB)
	APIKeys     []string      // when set, every endpoint but /health needs "Authorization: Bearer KEY"
	Log         io.Writer     // one line per request; nil for none
}

// Server is the HTTP handler.
type Server struct {
	m     Model
	opt   Options
	tmpl  Template
	keys  [][32]byte // SHA-256 of each API key: compared in constant time, whatever the lengths
	ids   atomic.Int64
	sched *scheduler
	met   *metrics
	stop  context.CancelFunc
}

// New returns a server for m and starts its scheduler; Close stops it.
func New(m Model, opt Options) *Server {
	if opt.MaxTokens <= 0 {
		opt.MaxTokens = m.MaxPos
	}
	if opt.Queue <= 0 {
		opt.Queue = 64
	}
	if opt.BodyTimeout <= 0 {
		opt.BodyTimeout = 30 * time.Second
	}
	if opt.MaxBody <= 0 {
		opt.MaxBody = 1 << 20
	}
	if opt.MaxHeader <= 0 {
		opt.MaxHeader = 64 << 10
	}
	s := &Server{m: m, opt: opt, tmpl: m.Template, met: newMetrics(m.Decoder.Slots())}
	if s.tmpl == nil {
		s.tmpl = Builtin{}
	}
	for _, k := range opt.APIKeys {
		s.keys = append(s.keys, sha256.Sum256([]byte(k)))
	}
	s.sched = &scheduler{dec: m.Decoder, queue: make(chan *job, opt.Queue), met: s.met}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go s.sched.run(ctx)
	return s
}

// Close stops the scheduler (after the HTTP server has shut down: requests still waiting would hang).
func (s *Server) Close() { s.stop() }

// routes maps each endpoint to its method.
var routes = map[string]string{"/health": http.MethodGet, "/v1/models": http.MethodGet, "/metrics": http.MethodGet,
	"/v1/completions": http.MethodPost, "/v1/chat/completions": http.MethodPost}

// ServeHTTP checks the request (route, method, key, headers, content type) and routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	lw := &logWriter{ResponseWriter: w, status: http.StatusOK}
	tokens := 0
	endpoint := r.URL.Path
	if _, ok := routes[endpoint]; !ok {
		endpoint = "other"
	}
	defer func() {
		if v := recover(); v != nil { // a bug must not take the server down or leave the client hanging
			if !lw.wrote {
				writeError(lw, http.StatusInternalServerError, "server_error", fmt.Sprintf("internal error: %v", v))
			}
			lw.status = http.StatusInternalServerError
		}
		s.met.request(endpoint, lw.status)
		if s.opt.Log != nil {
			fmt.Fprintf(s.opt.Log, "%s %s %s %d %d tokens %.1f ms\n", start.Format(time.RFC3339), r.Method, r.URL.Path, lw.status, tokens, float64(time.Since(start).Microseconds())/1e3)
		}
	}()
	if e := s.check(r); e != nil {
		if e.status == http.StatusMethodNotAllowed {
			lw.Header().Set("Allow", routes[r.URL.Path])
		}
		if e.status == http.StatusUnauthorized {
			lw.Header().Set("WWW-Authenticate", `Bearer realm="tern"`)
		}
		writeError(lw, e.status, e.kind, e.msg)
		return
	}
	switch r.URL.Path {
	case "/health":
		writeJSON(lw, http.StatusOK, map[string]string{"status": "ok", "model": s.m.Name})
	case "/metrics":
		lw.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		s.met.write(lw)
	case "/v1/models":
		writeJSON(lw, http.StatusOK, map[string]any{"object": "list", "data": []any{map[string]any{
			"id": s.m.Name, "object": "model", "created": 0, "owned_by": "tern", "context_length": s.m.MaxPos,
			"chat_template": s.tmpl.Name(), "config": s.m.Config}}})
	case "/v1/completions":
		tokens = s.serveGeneration(lw, r, false)
	case "/v1/chat/completions":
		tokens = s.serveGeneration(lw, r, true)
	}
}

// check answers what every request must pass before its body is read.
func (s *Server) check(r *http.Request) *apiError {
	method, ok := routes[r.URL.Path]
	switch {
	case !ok:
		return &apiError{http.StatusNotFound, "not_found", fmt.Sprintf("no endpoint %s (try POST /v1/chat/completions or /v1/completions)", r.URL.Path)}
	case r.Method != method:
		return &apiError{http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s needs %s, not %s", r.URL.Path, method, r.Method)}
	}
	hb := 0
	for k, vs := range r.Header {
		for _, v := range vs {
			hb += len(k) + len(v) + 4
		}
	}
	if hb > s.opt.MaxHeader {
		return &apiError{http.StatusRequestHeaderFieldsTooLarge, "invalid_request_error", fmt.Sprintf("request headers are %d bytes, over the limit of %d", hb, s.opt.MaxHeader)}
	}
	if r.URL.Path != "/health" && len(s.keys) > 0 && !s.authorized(r) {
		return &apiError{http.StatusUnauthorized, "invalid_request_error", "missing or wrong API key: send the header \"Authorization: Bearer KEY\""}
	}
	if method == http.MethodPost {
		// JSON only: a browser can post a form cross-origin without a preflight, but not application/json.
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return &apiError{http.StatusUnsupportedMediaType, "invalid_request_error", fmt.Sprintf("Content-Type must be application/json, not %q", r.Header.Get("Content-Type"))}
		}
	}
	return nil
}

// authorized compares the bearer token with every key in constant time (hashes of equal length).
func (s *Server) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	h := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	match := 0
	for _, k := range s.keys {
		match |= subtle.ConstantTimeCompare(h[:], k[:])
	}
	return match == 1
}

// logWriter remembers the status for the log line and passes Flush through for streaming.
type logWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (l *logWriter) WriteHeader(code int) {
	l.status, l.wrote = code, true
	l.ResponseWriter.WriteHeader(code)
}

func (l *logWriter) Write(b []byte) (int, error) {
	l.wrote = true
	return l.ResponseWriter.Write(b)
}

func (l *logWriter) Flush() {
	if f, ok := l.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (read deadlines for the body).
func (l *logWriter) Unwrap() http.ResponseWriter { return l.ResponseWriter }
