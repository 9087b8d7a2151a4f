// chat.go: what a model's tokenizer files say about chat, read as data: the chat template's source
// text and the special tokens by role (BOS, EOS, end of turn). Rendering the template is not here
// (the serving side's template engine takes Chat.Template); Hugging Face folders give it through
// tokenizer_config.json (and chat_template.jinja, generation_config.json), GGUF files through
// tokenizer.chat_template and tokenizer.ggml.*_token_id (infer reads those into the same struct).

package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"tern/internal/sysmem"
)

// Chat is a tokenizer's chat description. Ids are -1 when the files name none.
type Chat struct {
	Template  string            // the chat template source (Jinja), "" when the files carry none
	Templates map[string]string // further named templates (tokenizer_config's list form, e.g. "tool_use")
	BOS       int               // beginning of sequence
	EOS       int               // end of sequence
	EOT       int               // end of turn (LLaMA-3 <|eot_id|>), named by the file or found by its text
	AddBOS    bool              // a prompt starts with BOS (tokenizer.json's template, add_bos_token)
	Stop      []int             // ids that end a reply: EOS, EOT and generation_config's eos_token_id list
}

// eotTexts are end-of-turn token texts, tried in order when a file names no end-of-turn id (as
// llama.cpp guesses it).
var eotTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|eot|>"}

// NewChat fills a Chat from explicit ids (-1: none): EOT is looked up by text when absent, and Stop
// collects EOS, EOT and extra, without duplicates.
func NewChat(b *BPE, template string, bos, eos, eot int, addBOS bool, extraStop ...int) Chat {
	c := Chat{Template: template, BOS: bos, EOS: eos, EOT: eot, AddBOS: addBOS}
	if c.EOT < 0 {
		for _, s := range eotTexts {
			if id, ok := b.specialID[s]; ok {
				c.EOT = int(id)
				break
			}
		}
	}
	for _, id := range append([]int{c.EOS, c.EOT}, extraStop...) {
		if id >= 0 && !slices.Contains(c.Stop, id) {
			c.Stop = append(c.Stop, id)
		}
	}
	return c
}

// LoadDir reads a Hugging Face model folder's tokenizer: tokenizer.json, and when present
// tokenizer_config.json (chat_template, bos_token, eos_token, add_bos_token), chat_template.jinja
// and generation_config.json (eos_token_id, a number or a list).
func LoadDir(dir string) (*BPE, Chat, error) {
	b, err := Load(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return nil, Chat{}, err
	}
	c, err := ReadChat(dir, b)
	return b, c, err
}

// ReadChat reads the chat description of the Hugging Face folder dir for its tokenizer b.
func ReadChat(dir string, b *BPE) (Chat, error) {
	files := map[string][]byte{}
	for _, name := range []string{"tokenizer_config.json", "chat_template.jinja", "generation_config.json"} {
		data, err := sysmem.ReadFile(filepath.Join(dir, name), sysmem.ConfigLimit)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Chat{}, fmt.Errorf("tokenizer: read %s: %w", filepath.Join(dir, name), err)
		}
		files[name] = data
	}
	c, err := ChatFromFiles(b, files)
	if err != nil {
		return Chat{}, fmt.Errorf("%w (in %s)", err, dir)
	}
	return c, nil
}

// ChatFromFiles is ReadChat on the files' contents, by name ("tokenizer_config.json",
// "chat_template.jinja", "generation_config.json"; absent ones missing from the map), so that a
// model file that stores them (tern import hf) gives the same description.
func ChatFromFiles(b *BPE, files map[string][]byte) (Chat, error) {
	bos, eos := -1, -1
	if len(b.prefix) > 0 {
		bos = int(b.prefix[0])
	}
	addBOS := bos >= 0 // the tokenizer.json template starts with it
	var template string
	var named map[string]string
	var err error
	if data := files["tokenizer_config.json"]; data != nil {
		var cfg struct {
			ChatTemplate json.RawMessage `json:"chat_template"`
			BOS          json.RawMessage `json:"bos_token"`
			EOS          json.RawMessage `json:"eos_token"`
			AddBOS       *bool           `json:"add_bos_token"`
		}
		const path = "tokenizer_config.json"
		if err := json.Unmarshal(data, &cfg); err != nil {
			return Chat{}, fmt.Errorf("tokenizer: %s: %w", path, err)
		}
		if template, named, err = parseTemplates(cfg.ChatTemplate); err != nil {
			return Chat{}, fmt.Errorf("tokenizer: %s: %w", path, err)
		}
		if bos, err = tokenRef(b, cfg.BOS, bos); err != nil {
			return Chat{}, fmt.Errorf("tokenizer: %s: bos_token: %w", path, err)
		}
		if eos, err = tokenRef(b, cfg.EOS, eos); err != nil {
			return Chat{}, fmt.Errorf("tokenizer: %s: eos_token: %w", path, err)
		}
		if cfg.AddBOS != nil {
			addBOS = *cfg.AddBOS && bos >= 0
		}
	}
	if template == "" {
		template = string(files["chat_template.jinja"])
	}
	var extra []int
	if data := files["generation_config.json"]; data != nil {
		var gen struct {
			EOS json.RawMessage `json:"eos_token_id"`
		}
		const path = "generation_config.json"
		if err := json.Unmarshal(data, &gen); err != nil {
			return Chat{}, fmt.Errorf("tokenizer: %s: %w", path, err)
		}
		if len(gen.EOS) > 0 && string(gen.EOS) != "null" {
			var one int
			if json.Unmarshal(gen.EOS, &one) == nil {
				extra = []int{one}
			} else if err := json.Unmarshal(gen.EOS, &extra); err != nil {
				return Chat{}, fmt.Errorf("tokenizer: %s: eos_token_id is neither a number nor a list of numbers", path)
			}
			for _, id := range extra {
				if b.TokenBytes(id) == nil {
					return Chat{}, fmt.Errorf("tokenizer: %s: eos_token_id %d is not a token", path, id)
				}
			}
		}
	}
	c := NewChat(b, template, bos, eos, -1, addBOS, extra...)
	c.Templates = named
	return c, nil
}

// parseTemplates reads chat_template: a string, or a list of {"name", "template"} whose "default"
// entry is the template.
func parseTemplates(raw json.RawMessage) (string, map[string]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil, nil
	}
	var list []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return "", nil, fmt.Errorf("chat_template is neither a string nor a list of {name, template}")
	}
	named := map[string]string{}
	for _, t := range list {
		named[t.Name] = t.Template
	}
	def := named["default"]
	delete(named, "default")
	return def, named, nil
}

// tokenRef resolves a tokenizer_config token ("text" or {"content": "text", ...}) to its id; absent
// or null keeps def.
func tokenRef(b *BPE, raw json.RawMessage, def int) (int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return def, nil
	}
	var text string
	if json.Unmarshal(raw, &text) != nil {
		var obj struct {
			Content string `json:"content"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			return 0, fmt.Errorf("%s is neither a string nor {\"content\": ...}", clip(string(raw)))
		}
		text = obj.Content
	}
	if id, ok := b.specialID[text]; ok {
		return int(id), nil
	}
	if id, ok := b.vocab[text]; ok { // an ordinary token (GPT-2's files name "<|endoftext|>" so too)
		return int(id), nil
	}
	return 0, fmt.Errorf("%q is not a token of the tokenizer", text)
}
