package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"time"
	"unicode/utf8"

	"tern/infer"
)

// request is the body of POST /v1/completions and /v1/chat/completions. Pointers tell "absent" from
// zero. Fields OpenAI clients commonly send that change nothing here (user, n = 1, zero penalties)
// are accepted; others are refused by name.
type request struct {
	Model            string          `json:"model"`
	Prompt           *string         `json:"prompt"`   // completions
	Messages         []Message       `json:"messages"` // chat
	MaxTokens        *int            `json:"max_tokens"`
	MaxCompletion    *int            `json:"max_completion_tokens"` // chat's newer name for max_tokens
	Temperature      *float64        `json:"temperature"`
	TopK             int             `json:"top_k"`
	TopP             *float64        `json:"top_p"`
	Seed             *uint64         `json:"seed"`
	Stop             json.RawMessage `json:"stop"` // a string or a list of strings
	Stream           bool            `json:"stream"`
	StreamOptions    *streamOptions  `json:"stream_options"`
	N                *int            `json:"n"`
	User             string          `json:"user"`
	PresencePenalty  float64         `json:"presence_penalty"`
	FrequencyPenalty float64         `json:"frequency_penalty"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
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
	usage    bool // streaming: a final usage chunk (chat's stream_options.include_usage)
}

// apiError is an error answered with its HTTP status and OpenAI's error JSON.
type apiError struct {
	status int
	kind   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func invalid(format string, a ...any) *apiError {
	return &apiError{http.StatusBadRequest, "invalid_request_error", fmt.Sprintf(format, a...)}
}

// readBody reads at most MaxBody bytes within BodyTimeout (a client that sends its body slowly is
// cut off with 408) and checks that it is UTF-8 (encoding/json would silently replace bad bytes).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	rc := http.NewResponseController(w)
	deadline := rc.SetReadDeadline(time.Now().Add(s.opt.BodyTimeout)) == nil
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opt.MaxBody))
	if err != nil {
		// Close the body, or net/http would try to read the rest of it before answering (and wait on
		// the slow client again); the connection is not reused.
		r.Body.Close()
		w.Header().Set("Connection", "close")
	}
	if deadline {
		rc.SetReadDeadline(time.Time{})
	}
	var tooBig *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &tooBig):
		return nil, &apiError{http.StatusRequestEntityTooLarge, "invalid_request_error", fmt.Sprintf("request body over %d bytes", s.opt.MaxBody)}
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return nil, &apiError{http.StatusRequestTimeout, "invalid_request_error", fmt.Sprintf("request body not received within %v", s.opt.BodyTimeout)}
	case err != nil:
		return nil, invalid("request body: %v", err)
	case !utf8.Valid(body):
		return nil, invalid("request body is not valid UTF-8")
	}
	return body, nil
}

// parse reads and checks a completion or chat request.
func (s *Server) parse(w http.ResponseWriter, r *http.Request, chat bool) (parsed, *apiError) {
	var p parsed
	body, e := s.readBody(w, r)
	if e != nil {
		return p, e
	}
	var req request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return p, invalid("request body: %v", err)
	}
	if dec.More() {
		return p, invalid("request body: more than one JSON value")
	}
	if req.Model != "" && req.Model != s.m.Name {
		return p, &apiError{http.StatusNotFound, "model_not_found", fmt.Sprintf("model %q not found; this server serves %q", req.Model, s.m.Name)}
	}
	if req.N != nil && *req.N != 1 {
		return p, invalid("n %d: only n = 1 is supported", *req.N)
	}
	if req.PresencePenalty != 0 || req.FrequencyPenalty != 0 {
		return p, invalid("presence_penalty and frequency_penalty are not supported (send 0 or leave them out)")
	}
	var text string
	if chat {
		if req.Prompt != nil {
			return p, invalid("prompt is for /v1/completions; chat takes messages")
		}
		if err := checkMessages(req.Messages); err != nil {
			return p, invalid("%v", err)
		}
		var err error
		if text, err = s.tmpl.Render(req.Messages); err != nil {
			return p, invalid("messages: %v", err)
		}
		p.stop = append(p.stop, s.tmpl.Stops()...)
	} else {
		if req.Messages != nil {
			return p, invalid("messages are for /v1/chat/completions; completions take a prompt")
		}
		if req.Prompt == nil || *req.Prompt == "" {
			return p, invalid("prompt is required and must not be empty")
		}
		text = *req.Prompt
	}
	p.n = min(defaultMaxTokens, s.opt.MaxTokens)
	for _, mt := range []*int{req.MaxTokens, req.MaxCompletion} {
		if mt != nil {
			p.n = *mt
		}
	}
	if p.n < 1 || p.n > s.opt.MaxTokens {
		return p, invalid("max_tokens %d: want 1 to %d", p.n, s.opt.MaxTokens)
	}
	p.sampling = infer.Sampling{Temperature: defaultTemperature, TopK: req.TopK}
	if req.Temperature != nil {
		p.sampling.Temperature = *req.Temperature
	}
	if req.TopP != nil {
		p.sampling.TopP = *req.TopP
	}
	switch t := p.sampling.Temperature; {
	case math.IsNaN(t) || t < 0 || t > 100:
		return p, invalid("temperature %v: want 0 (greedy) to 100", t)
	case req.TopK < 0:
		return p, invalid("top_k %d: want 0 (all tokens) or more", req.TopK)
	case math.IsNaN(p.sampling.TopP) || p.sampling.TopP < 0 || p.sampling.TopP > 1:
		return p, invalid("top_p %v: want 0 (off) to 1", p.sampling.TopP)
	}
	p.seed = defaultSeed
	if req.Seed != nil {
		p.seed = *req.Seed
	}
	if len(req.Stop) > 0 && string(req.Stop) != "null" {
		var one string
		var list []string
		if json.Unmarshal(req.Stop, &one) == nil {
			list = []string{one}
		} else if err := json.Unmarshal(req.Stop, &list); err != nil {
			return p, invalid("stop: want a string or a list of strings")
		}
		for _, st := range list {
			if st == "" {
				return p, invalid("stop: empty stop string")
			}
		}
		p.stop = append(p.stop, list...)
	}
	p.stream = req.Stream
	p.usage = req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	ids, err := s.m.Encode(text)
	if err != nil {
		return p, invalid("prompt: %v", err)
	}
	if len(ids) == 0 {
		return p, invalid("prompt encodes to no tokens")
	}
	if lim := s.m.Decoder.PromptLimit(); len(ids) > lim {
		return p, invalid("prompt is %d tokens; the model's context is %d, which leaves room for prompts of at most %d", len(ids), s.m.MaxPos, lim)
	}
	p.prompt = ids
	return p, nil
}

// serveGeneration answers a completion or chat request and returns the number of tokens generated.
func (s *Server) serveGeneration(w http.ResponseWriter, r *http.Request, chat bool) int {
	arrived := time.Now()
	p, e := s.parse(w, r, chat)
	if e != nil {
		writeError(w, e.status, e.kind, e.msg)
		return 0
	}
	ctx := r.Context()
	if s.opt.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opt.Timeout)
		defer cancel()
	}
	j := &job{prompt: p.prompt, n: p.n, sampler: infer.NewSampler(p.sampling, p.seed),
		out: make(chan event, p.n+1), cancel: make(chan struct{}), queued: arrived}
	defer j.stop()
	if !s.sched.submit(j) {
		writeError(w, http.StatusServiceUnavailable, "server_busy", errQueueFull.Error())
		return 0
	}
	f := newFormatter(s, chat, p)
	out := &writer{w: w, f: f, stream: p.stream}
	ts := infer.NewTextStream(s.m.Decode, p.stop)
	var first, last time.Time
	finish := ""
	var genErr error
loop:
	for {
		select {
		case ev, ok := <-j.out:
			if !ok { // the scheduler dropped the job: it was cancelled
				break loop
			}
			switch {
			case ev.err != nil:
				genErr = ev.err
				break loop
			case ev.finish != "":
				finish = ev.finish
				break loop
			}
			last = time.Now()
			if first.IsZero() {
				first = last
			}
			piece, stop := ts.Push(ev.id)
			if piece != "" && out.piece(piece) != nil {
				break loop // the client is gone
			}
			if stop {
				finish = "stop"
				j.stop()
				break loop
			}
		case <-ctx.Done():
			break loop
		}
	}
	j.stop()
	count := ts.Tokens()
	if !first.IsZero() {
		s.met.done(first.Sub(arrived), last.Sub(first)/time.Duration(max(count-1, 1)), count)
	}
	u := usage{PromptTokens: len(p.prompt), CompletionTokens: count, TotalTokens: len(p.prompt) + count}
	if j.cached > 0 && !first.IsZero() { // j.cached was set before the first token was sent
		u.PromptDetails = &promptDetails{CachedTokens: j.cached}
	}
	switch {
	case genErr != nil:
		out.fail(http.StatusInternalServerError, "server_error", genErr.Error())
	case finish != "":
		out.finish(ts.Finish(), finish, u, time.Since(arrived), first.Sub(arrived))
	case out.gone:
	case r.Context().Err() != nil: // the client left: nobody to answer
	case ctx.Err() != nil:
		out.fail(http.StatusGatewayTimeout, "timeout", fmt.Sprintf("request did not finish within %v (%d tokens generated)", s.opt.Timeout, count))
	}
	return count
}

func errorBody(kind, msg string) map[string]any {
	code := kind
	if kind == "invalid_request_error" {
		code = ""
	}
	e := map[string]any{"message": msg, "type": kind, "param": nil, "code": nil}
	if code != "" {
		e["code"] = code
	}
	return map[string]any{"error": e}
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
