package serve

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Message is one chat message. Content is a string or OpenAI's list of parts, of which only "text"
// parts are accepted.
type Message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	Name    string          `json:"name,omitempty"`
	text    string
}

// Text is the message's content as plain text.
func (m Message) Text() string { return m.text }

// Template turns a conversation into the prompt the model continues: the assistant's next reply
// begins where the prompt ends, and the reply ends at the first of Stops. tern's own models use
// Builtin; a model that carries a template of its own (a GGUF file's or a tokenizer.json's
// chat_template) supplies another implementation through Model.Template.
type Template interface {
	Name() string
	Render(msgs []Message) (string, error)
	Stops() []string
}

// Builtin is the chat template of tern's own models, which are trained on plain text and have no
// special tokens: each turn is a line, "User: ..." or "Assistant: ...", after an optional system text
// and a blank line, and the prompt ends with "Assistant:" for the model to continue. The reply ends
// where the model starts the next user turn ("\nUser:"). For example
//
//	You are terse.
//
//	User: Hello
//	Assistant: Hi.
//	User: Name a colour
//	Assistant:
type Builtin struct{}

func (Builtin) Name() string    { return "tern-plain" }
func (Builtin) Stops() []string { return []string{"\nUser:"} }

func (Builtin) Render(msgs []Message) (string, error) {
	var b strings.Builder
	for _, m := range msgs {
		switch m.Role {
		case "system", "developer":
			b.WriteString(m.text)
			b.WriteString("\n\n")
		case "user":
			fmt.Fprintf(&b, "User: %s\n", m.text)
		case "assistant":
			fmt.Fprintf(&b, "Assistant: %s\n", m.text)
		}
	}
	b.WriteString("Assistant:")
	return b.String(), nil
}

// checkMessages validates a chat request's messages and fills each one's text.
func checkMessages(msgs []Message) error {
	if len(msgs) == 0 {
		return fmt.Errorf("messages must be a non-empty list")
	}
	users := 0
	for i := range msgs {
		m := &msgs[i]
		switch m.Role {
		case "system", "developer", "assistant":
		case "user":
			users++
		case "":
			return fmt.Errorf("messages[%d]: role is required (system, user or assistant)", i)
		default:
			return fmt.Errorf("messages[%d]: unknown role %q (want system, user or assistant)", i, m.Role)
		}
		t, err := contentText(m.Content)
		if err != nil {
			return fmt.Errorf("messages[%d].content: %v", i, err)
		}
		if t == "" && m.Role == "user" {
			return fmt.Errorf("messages[%d]: empty user message", i)
		}
		m.text = t
	}
	if users == 0 {
		return fmt.Errorf("messages: no user message")
	}
	return nil
}

// contentText reads a string, or a list of {"type": "text", "text": ...} parts joined.
func contentText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var parts []struct {
		Type string  `json:"type"`
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", fmt.Errorf("want a string or a list of text parts")
	}
	var b strings.Builder
	for i, p := range parts {
		if p.Type != "text" || p.Text == nil {
			return "", fmt.Errorf("part %d: only {\"type\": \"text\", \"text\": ...} parts are supported, not %q", i, p.Type)
		}
		b.WriteString(*p.Text)
	}
	return b.String(), nil
}
