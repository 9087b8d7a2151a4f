package serve

import (
	"errors"
	"fmt"

	"tern/chattmpl"
)

// Jinja is a Template from a model's own chat template (a GGUF file's tokenizer.chat_template, a
// tokenizer_config.json's chat_template: tokenizer.Chat.Template), rendered by chattmpl as
// transformers' apply_chat_template does, with messages (role, content), bos_token, eos_token and
// add_generation_prompt = true. The template is parsed when the model loads: a construct outside
// chattmpl's subset is an error then, not at a request. raise_exception in the template (e.g. roles
// that do not alternate) answers the request with a 400 carrying the template's message.
type Jinja struct {
	name     string
	t        *chattmpl.Template
	bos, eos string
	stops    []string
}

// NewJinja parses src; bos and eos are the texts of the model's BOS and EOS tokens ("" when it has
// none), stops the texts that end a reply (its end-of-turn and end-of-sequence tokens).
func NewJinja(name, src, bos, eos string, stops []string) (*Jinja, error) {
	t, err := chattmpl.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("chat template: %w", err)
	}
	return &Jinja{name: name, t: t, bos: bos, eos: eos, stops: stops}, nil
}

func (j *Jinja) Name() string    { return j.name }
func (j *Jinja) Stops() []string { return j.stops }

func (j *Jinja) Render(msgs []Message) (string, error) {
	l := make([]any, len(msgs))
	for i, m := range msgs {
		l[i] = chattmpl.NewMap("role", m.Role, "content", m.text)
	}
	s, err := j.t.Render(map[string]any{"messages": l, "bos_token": j.bos, "eos_token": j.eos, "add_generation_prompt": true})
	var exc *chattmpl.Exception
	if errors.As(err, &exc) {
		return "", fmt.Errorf("the model's chat template refuses them: %s", exc.Msg)
	}
	return s, err
}
