// Package serve is tern's HTTP API for text generation: one loaded model behind a small
// OpenAI-style completions endpoint, with streaming as server-sent events.
//
//	GET  /health           {"status":"ok","model":NAME}
//	GET  /v1/models        the model, with its config
//	POST /v1/completions   {"prompt": "...", "max_tokens": 128, "temperature": 0.8, "top_k": 0,
//	                        "top_p": 0, "seed": 1, "stop": "..." or ["...", ...], "stream": false}
//
// A completion is choices[0].text with finish_reason "stop" (a stop string was produced; it is not
// included) or "length" (max_tokens or the context filled), usage token counts, and timing. With
// "stream": true each piece of text is sent as it is decoded ("data: {...}" events, then
// "data: [DONE]"), held back only as far as a stop string could still begin. Requests decode one
// at a time (the model has one KV cache) in arrival order; a client that disconnects stops its
// generation. The same seed and request give the same text. Errors are JSON,
// {"error": {"message": ..., "type": ...}}, with a 4xx status for bad requests.
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"tern/infer"
)

// Model is what the server generates with.
type Model struct {
	Name   string // the id clients see (and may send as "model")
	MaxPos int    // context length in tokens
	Config any    // shown by /v1/models
	Encode func(text string) ([]int, error)
	Decode func(ids []int) string
	// Generate extends prompt by up to n tokens, calling emit with each new one until it returns
	// false; it starts from an empty context every call and stops when ctx is done. The server
	// never calls it concurrently.
	Generate func(ctx context.Context, prompt []int, n int, s *infer.Sampler, emit func(id int) bool) ([]int, error)
}

// Options bound what a request may ask.
type Options struct {
	MaxTokens int       // largest max_tokens accepted (default: the model's context)
	Log       io.Writer // one line per request; nil for none
}

// Server is the HTTP handler.
type Server struct {
	m    Model
	opt  Options
	turn chan struct{} // one token: the right to decode
	ids  atomic.Int64
}

// New returns a server for m.
func New(m Model, opt Options) *Server {
	if opt.MaxTokens <= 0 {
		opt.MaxTokens = m.MaxPos
	}
	s := &Server{m: m, opt: opt, turn: make(chan struct{}, 1)}
	s.turn <- struct{}{}
	return s
}

// maxBody bounds a request body; prompts longer than any context fit well within it.
const maxBody = 1 << 20

// ServeHTTP routes the three endpoints, answering anything else with a JSON 404 or 405.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	lw := &logWriter{ResponseWriter: w, status: http.StatusOK}
	tokens := 0
	defer func() {
		if v := recover(); v != nil { // a bug must not take the server down or leave the client hanging
			if !lw.wrote {
				writeError(lw, http.StatusInternalServerError, "server_error", fmt.Sprintf("internal error: %v", v))
			}
			lw.status = http.StatusInternalServerError
		}
		if s.opt.Log != nil {
			fmt.Fprintf(s.opt.Log, "%s %s %s %d %d tokens %.1f ms\n", start.Format(time.RFC3339), r.Method, r.URL.Path, lw.status, tokens, float64(time.Since(start).Microseconds())/1e3)
		}
	}()
	route := map[string]string{"/health": http.MethodGet, "/v1/models": http.MethodGet, "/v1/completions": http.MethodPost}
	method, ok := route[r.URL.Path]
	switch {
	case !ok:
		writeError(lw, http.StatusNotFound, "not_found", fmt.Sprintf("no endpoint %s (try POST /v1/completions)", r.URL.Path))
		return
	case r.Method != method:
		lw.Header().Set("Allow", method)
		writeError(lw, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s needs %s, not %s", r.URL.Path, method, r.Method))
		return
	}
	switch r.URL.Path {
	case "/health":
		writeJSON(lw, http.StatusOK, map[string]string{"status": "ok", "model": s.m.Name})
	case "/v1/models":
		writeJSON(lw, http.StatusOK, map[string]any{"object": "list", "data": []any{map[string]any{
			"id": s.m.Name, "object": "model", "owned_by": "tern", "context_length": s.m.MaxPos, "config": s.m.Config}}})
	default:
		tokens = s.complete(lw, r)
	}
}

// request is the body of POST /v1/completions. Pointers tell "absent" from zero.
type request struct {
	Model       string          `json:"model"`
	Prompt      *string         `json:"prompt"`
	MaxTokens   *int            `json:"max_tokens"`
	Temperature *float64        `json:"temperature"`
	TopK        int             `json:"top_k"`
	TopP        float64         `json:"top_p"`
	Seed        *uint64         `json:"seed"`
	Stop        json.RawMessage `json:"stop"` // a string or a list of strings
	Stream      bool            `json:"stream"`
}

// Defaults for absent fields (those of `tern generate`; max_tokens at most the server's limit).
const (
	defaultMaxTokens   = 128
	defaultTemperature = 0.8
	defaultSeed        = 1
)

// parsed is a validated request.
type parsed struct {
	prompt   []int
	n        int
	sampling infer.Sampling
	seed     uint64
	stop     []string
	stream   bool
}

// badRequest is a client error with its HTTP status.
type badRequest struct {
	status int
	kind   string
	msg    string
}

func (e *badRequest) Error() string { return e.msg }

func invalid(format string, a ...any) error {
	return &badRequest{http.StatusBadRequest, "invalid_request_error", fmt.Sprintf(format, a...)}
}

// parse reads and checks a completion request.
func (s *Server) parse(w http.ResponseWriter, r *http.Request) (parsed, error) {
	var req request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return parsed{}, &badRequest{http.StatusRequestEntityTooLarge, "invalid_request_error", fmt.Sprintf("request body over %d bytes", maxBody)}
		}
		return parsed{}, invalid("request body: %v", err)
	}
	if dec.More() {
		return parsed{}, invalid("request body: more than one JSON value")
	}
	var p parsed
	if req.Model != "" && req.Model != s.m.Name {
		return p, &badRequest{http.StatusNotFound, "model_not_found", fmt.Sprintf("model %q not found; this server serves %q", req.Model, s.m.Name)}
	}
	if req.Prompt == nil || *req.Prompt == "" {
		return p, invalid("prompt is required and must not be empty")
	}
	p.n = min(defaultMaxTokens, s.opt.MaxTokens)
	if req.MaxTokens != nil {
		p.n = *req.MaxTokens
	}
	if p.n < 1 || p.n > s.opt.MaxTokens {
		return p, invalid("max_tokens %d: want 1 to %d", p.n, s.opt.MaxTokens)
	}
	p.sampling = infer.Sampling{Temperature: defaultTemperature, TopK: req.TopK, TopP: req.TopP}
	if req.Temperature != nil {
		p.sampling.Temperature = *req.Temperature
	}
	switch t := p.sampling.Temperature; {
	case math.IsNaN(t) || t < 0 || t > 100:
		return p, invalid("temperature %v: want 0 (greedy) to 100", t)
	case req.TopK < 0:
		return p, invalid("top_k %d: want 0 (all tokens) or more", req.TopK)
	case math.IsNaN(req.TopP) || req.TopP < 0 || req.TopP > 1:
		return p, invalid("top_p %v: want 0 (off) to 1", req.TopP)
	}
	p.seed = defaultSeed
	if req.Seed != nil {
		p.seed = *req.Seed
	}
	if len(req.Stop) > 0 && string(req.Stop) != "null" {
		var one string
		if json.Unmarshal(req.Stop, &one) == nil {
			p.stop = []string{one}
		} else if err := json.Unmarshal(req.Stop, &p.stop); err != nil {
			return p, invalid("stop: want a string or a list of strings")
		}
		for _, st := range p.stop {
			if st == "" {
				return p, invalid("stop: empty stop string")
			}
		}
	}
	p.stream = req.Stream
	ids, err := s.m.Encode(*req.Prompt)
	if err != nil {
		return p, invalid("prompt: %v", err)
	}
	if len(ids) == 0 {
		return p, invalid("prompt encodes to no tokens")
	}
	if len(ids) >= s.m.MaxPos {
		return p, invalid("prompt is %d tokens; the model's context is %d, and generating needs at least one more", len(ids), s.m.MaxPos)
	}
	p.prompt = ids
	return p, nil
}

// choice, usage and completion are the response's JSON (OpenAI's text_completion shape).
type choice struct {
	Index        int     `json:"index"`
	Text         string  `json:"text"`
	FinishReason *string `json:"finish_reason"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type timing struct {
	TotalMs    float64 `json:"total_ms"`     // prompt and generation
	TokensPerS float64 `json:"tokens_per_s"` // completion tokens / total_ms
	QueuedMs   float64 `json:"queued_ms"`    // waiting for earlier requests
}

type completion struct {
	ID      string   `json:"id"`
	Object  string   `json:"object"`
	Created int64    `json:"created"`
	Model   string   `json:"model"`
	Choices []choice `json:"choices"`
	Usage   *usage   `json:"usage,omitempty"`
	Timing  *timing  `json:"timing,omitempty"`
}

// complete serves one completion and returns the number of tokens generated.
func (s *Server) complete(w http.ResponseWriter, r *http.Request) int {
	p, err := s.parse(w, r)
	if err != nil {
		var br *badRequest
		if errors.As(err, &br) {
			writeError(w, br.status, br.kind, br.msg)
		} else {
			writeError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		}
		return 0
	}
	ctx := r.Context()
	queued := time.Now()
	select {
	case <-s.turn:
	case <-ctx.Done():
		return 0 // the client left while waiting
	}
	defer func() { s.turn <- struct{}{} }()
	start := time.Now()

	id := fmt.Sprintf("cmpl-%d", s.ids.Add(1))
	base := completion{ID: id, Object: "text_completion", Created: start.Unix(), Model: s.m.Name}
	var fl http.Flusher
	if p.stream {
		fl, _ = w.(http.Flusher)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
	}
	send := func(c completion) error {
		b, _ := json.Marshal(c) // plain structs: cannot fail
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return err
		}
		if fl != nil {
			fl.Flush()
		}
		return nil
	}

	// text holds the completion decoded so far, in whole UTF-8 characters; pending holds the ids of
	// a character still incomplete. sent is how much of text the stream has sent.
	var text strings.Builder
	var pending []int
	sent, count := 0, 0
	finish := "length"
	holdBack := 0
	for _, st := range p.stop {
		holdBack = max(holdBack, len(st)-1)
	}
	var sendErr error
	emit := func(tok int) bool {
		count++
		pending = append(pending, tok)
		piece := s.m.Decode(pending)
		if !utf8.ValidString(piece) {
			return true // wait for the rest of the character
		}
		pending = pending[:0]
		text.WriteString(piece)
		for _, st := range p.stop {
			if i := strings.Index(text.String(), st); i >= 0 {
				t := text.String()[:i]
				text.Reset()
				text.WriteString(t)
				finish = "stop"
				return false
			}
		}
		if p.stream {
			safe := text.Len() - holdBack
			for safe > sent && safe < text.Len() && !utf8.RuneStart(text.String()[safe]) {
				safe--
			}
			if safe > sent {
				c := base
				c.Choices = []choice{{Text: text.String()[sent:safe]}}
				if sendErr = send(c); sendErr != nil {
					return false // the client is gone
				}
				sent = safe
			}
		}
		return true
	}
	_, genErr := s.m.Generate(ctx, p.prompt, p.n, infer.NewSampler(p.sampling, p.seed), emit)
	if finish != "stop" && len(pending) > 0 {
		text.WriteString(s.m.Decode(pending)) // an incomplete character at the end, as decoded
	}
	elapsed := time.Since(start)
	tm := &timing{TotalMs: float64(elapsed.Microseconds()) / 1e3, QueuedMs: float64(start.Sub(queued).Microseconds()) / 1e3}
	if elapsed > 0 {
		tm.TokensPerS = float64(count) / elapsed.Seconds()
	}
	u := &usage{PromptTokens: len(p.prompt), CompletionTokens: count, TotalTokens: len(p.prompt) + count}
	if genErr != nil && ctx.Err() == nil {
		if p.stream {
			b, _ := json.Marshal(errorBody("server_error", genErr.Error()))
			fmt.Fprintf(w, "data: %s\n\n", b)
		} else {
			writeError(w, http.StatusInternalServerError, "server_error", genErr.Error())
		}
		return count
	}
	if ctx.Err() != nil || sendErr != nil {
		return count // nobody to answer
	}
	if p.stream {
		c := base
		c.Choices = []choice{{Text: text.String()[sent:], FinishReason: &finish}}
		c.Usage, c.Timing = u, tm
		if send(c) == nil {
			fmt.Fprint(w, "data: [DONE]\n\n")
			if fl != nil {
				fl.Flush()
			}
		}
		return count
	}
	c := base
	c.Choices = []choice{{Text: text.String(), FinishReason: &finish}}
	c.Usage, c.Timing = u, tm
	writeJSON(w, http.StatusOK, c)
	return count
}

func errorBody(kind, msg string) map[string]any {
	return map[string]any{"error": map[string]string{"message": msg, "type": kind}}
}

func writeError(w http.ResponseWriter, status int, kind, msg string) {
	writeJSON(w, status, errorBody(kind, msg))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
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
