package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The response shapes: OpenAI's text_completion and chat.completion objects, and their streamed
// chunks (text_completion again, chat.completion.chunk with deltas).

type usage struct {
	PromptTokens     int            `json:"prompt_tokens"`
	CompletionTokens int            `json:"completion_tokens"`
	TotalTokens      int            `json:"total_tokens"`
	PromptDetails    *promptDetails `json:"prompt_tokens_details,omitempty"` // when a slot's cache served part of the prompt
}

// promptDetails is OpenAI's prompt_tokens_details: how many prompt tokens came from a cache.
type promptDetails struct {
	CachedTokens int `json:"cached_tokens"`
}

// timing is tern's addition to completions (not chat, whose clients check shapes more strictly).
type timing struct {
	TotalMs    float64 `json:"total_ms"`     // arrival to the last token, queueing included
	FirstMs    float64 `json:"first_ms"`     // arrival to the first token
	TokensPerS float64 `json:"tokens_per_s"` // completion tokens / total_ms
}

type choice struct {
	Index        int              `json:"index"`
	Text         *string          `json:"text,omitempty"`    // completions
	Message      *chatMessage     `json:"message,omitempty"` // chat
	Delta        *chatMessage     `json:"delta,omitempty"`   // chat chunks
	Logprobs     *json.RawMessage `json:"logprobs"`
	FinishReason *string          `json:"finish_reason"`
}

type chatMessage struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
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

// formatter builds one request's objects.
type formatter struct {
	base completion
	chat bool
	p    parsed
}

func newFormatter(s *Server, chat bool, p parsed) *formatter {
	f := &formatter{chat: chat, p: p}
	f.base = completion{ID: fmt.Sprintf("cmpl-%d", s.ids.Add(1)), Object: "text_completion", Created: time.Now().Unix(), Model: s.m.Name}
	if chat {
		f.base.ID = "chat" + f.base.ID
		f.base.Object = "chat.completion.chunk"
	}
	return f
}

// chunk is a streamed piece; finish is nil until the last.
func (f *formatter) chunk(text string, finish *string) completion {
	c := f.base
	if f.chat {
		d := &chatMessage{}
		if text != "" || finish == nil {
			d.Content = &text
		}
		c.Choices = []choice{{Delta: d, FinishReason: finish}}
	} else {
		c.Choices = []choice{{Text: &text, FinishReason: finish}}
	}
	return c
}

// whole is the non-streamed response.
func (f *formatter) whole(text, finish string, u usage, tm *timing) completion {
	c := f.base
	c.Usage = &u
	if f.chat {
		c.Object = "chat.completion"
		c.Choices = []choice{{Message: &chatMessage{Role: "assistant", Content: &text}, FinishReason: &finish}}
	} else {
		c.Choices = []choice{{Text: &text, FinishReason: &finish}}
		c.Timing = tm
	}
	return c
}

// writer sends a request's response, streamed or whole.
type writer struct {
	w       http.ResponseWriter
	f       *formatter
	stream  bool
	started bool   // streaming: headers and the opening chunk sent
	gone    bool   // a write failed: the client left
	text    []byte // not streaming: the text so far
}

// start opens the event stream; chat's first chunk carries the role.
func (o *writer) start() error {
	if o.started {
		return nil
	}
	o.started = true
	h := o.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	o.w.WriteHeader(http.StatusOK)
	if o.f.chat {
		c := o.f.base
		empty := ""
		c.Choices = []choice{{Delta: &chatMessage{Role: "assistant", Content: &empty}}}
		return o.event(c)
	}
	return nil
}

// event sends one "data: {...}" event and flushes it.
func (o *writer) event(v any) error {
	b, _ := json.Marshal(v) // plain structs: cannot fail
	return o.raw("data: " + string(b) + "\n\n")
}

func (o *writer) raw(s string) error {
	if o.gone {
		return http.ErrHandlerTimeout
	}
	if _, err := o.w.Write([]byte(s)); err != nil {
		o.gone = true
		return err
	}
	if fl, ok := o.w.(http.Flusher); ok {
		fl.Flush()
	}
	return nil
}

// piece sends (or keeps) released text.
func (o *writer) piece(text string) error {
	if !o.stream {
		o.text = append(o.text, text...)
		return nil
	}
	if err := o.start(); err != nil {
		return err
	}
	return o.event(o.f.chunk(text, nil))
}

// finish ends a successful response: rest is the text held back until now.
func (o *writer) finish(rest, reason string, u usage, total, first time.Duration) {
	tm := &timing{TotalMs: ms(total), FirstMs: ms(first)}
	if total > 0 {
		tm.TokensPerS = float64(u.CompletionTokens) / total.Seconds()
	}
	if !o.stream {
		writeJSON(o.w, http.StatusOK, o.f.whole(string(o.text)+rest, reason, u, tm))
		return
	}
	if o.start() != nil {
		return
	}
	c := o.f.chunk(rest, &reason)
	if !o.f.chat {
		c.Usage, c.Timing = &u, tm // tern's completions stream always ends with usage
	}
	if o.event(c) != nil {
		return
	}
	if o.f.chat && o.f.p.usage {
		c := o.f.base
		c.Choices, c.Usage = []choice{}, &u
		if o.event(c) != nil {
			return
		}
	}
	o.raw("data: [DONE]\n\n")
}

// fail answers an error: as JSON with status when nothing was sent yet, else as a last event.
func (o *writer) fail(status int, kind, msg string) {
	if !o.started {
		writeError(o.w, status, kind, msg)
		return
	}
	o.event(errorBody(kind, msg))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
