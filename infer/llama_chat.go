// llama_chat.go: the chat description a GGUF file's metadata gives (tokenizer.chat_template and the
// special tokens' roles), read into tokenizer.Chat, the form Hugging Face folders give too. The
// template is only read here; rendering it belongs to the serving side.

package infer

import (
	"fmt"

	"tern/tokenizer"
)

// Chat reads tokenizer.chat_template (and the named tokenizer.chat_template.NAME ones),
// tokenizer.ggml.bos_token_id, eos_token_id, eot_token_id (EOT guessed from the token texts when
// absent, as llama.cpp does) and add_bos_token (absent: true for the llama-bpe pre-tokenizer, as
// llama.cpp defaults it, false otherwise) for the file's tokenizer b.
func (m *Llama) Chat(b *tokenizer.BPE) (tokenizer.Chat, error) {
	f := m.File
	id := func(key string) (int, error) {
		if _, ok := f.Lookup(key); !ok {
			return -1, nil
		}
		v, err := f.Int(key)
		if err != nil {
			return 0, err
		}
		if b.TokenBytes(int(v)) == nil || v < 0 {
			return 0, fmt.Errorf("%s: %s = %d is not a token of its %d-token vocabulary", f.Path, key, v, b.VocabSize())
		}
		return int(v), nil
	}
	var ids [3]int
	for i, key := range []string{"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"} {
		var err error
		if ids[i], err = id(key); err != nil {
			return tokenizer.Chat{}, err
		}
	}
	addBOS := b.PreTokenizer() == tokenizer.PreLlama3
	if _, ok := f.Lookup("tokenizer.ggml.add_bos_token"); ok {
		v, err := f.Int("tokenizer.ggml.add_bos_token")
		if err != nil {
			return tokenizer.Chat{}, err
		}
		addBOS = v != 0
	}
	var template string
	if _, ok := f.Lookup("tokenizer.chat_template"); ok {
		var err error
		if template, err = f.String("tokenizer.chat_template"); err != nil {
			return tokenizer.Chat{}, err
		}
	}
	c := tokenizer.NewChat(b, template, ids[0], ids[1], ids[2], addBOS && ids[0] >= 0)
	const named = "tokenizer.chat_template."
	for _, kv := range f.KV {
		if len(kv.Key) > len(named) && kv.Key[:len(named)] == named {
			s, ok := kv.Value.(string)
			if !ok {
				return tokenizer.Chat{}, fmt.Errorf("%s: %s is %s, not a string", f.Path, kv.Key, kv.Type)
			}
			if c.Templates == nil {
				c.Templates = map[string]string{}
			}
			c.Templates[kv.Key[len(named):]] = s
		}
	}
	return c, nil
}
