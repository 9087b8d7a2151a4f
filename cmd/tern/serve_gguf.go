package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"tern/gguf"
	"tern/infer"
	"tern/serve"
	"tern/tokenizer"
)

// serveGGUF loads a GGUF file for serving. llama and bitnet files run on infer.Llama, their slots
// decoded as one batch (serveLlama), prompts prefilled in one pass; gpt2 files (tern export gguf) are read back into a tern
// transformer (model.LoadGGUF) and served like a model.safetensors. Either way the served weights live
// in the process's private memory once loading ends: a llama/bitnet model copies its mapped F16 table
// and releases the mapping (Llama.Detach), so a file rewritten or truncated on disk cannot change or
// crash a running server (tern's rule for its own packed files, which are read, not mapped).
//
// Prompts are encoded with special-token text allowed (as llama-server does), so a chat template's
// <|eot_id|> and the like become their ids. The chat template is the file's tokenizer.chat_template
// (chatTemplate), unless tmplFlag says otherwise.
func serveGGUF(path string, parallel, ctxLen int, tmplFlag string) (serve.Model, func(), error) {
	f, err := gguf.Open(path)
	if err != nil {
		return serve.Model{}, nil, err
	}
	arch, _ := f.String(gguf.KeyArchitecture)
	f.Close()
	if arch == gguf.ArchGPT2 {
		lm, tok, err := loadGPT2GGUF(path)
		if err != nil {
			return serve.Model{}, nil, err
		}
		var tmpl serve.Template
		if tmplFlag != "" {
			if tmpl, err = chatTemplate(tmplFlag, tokenizer.Chat{BOS: -1, EOS: -1, EOT: -1}, nil); err != nil {
				return serve.Model{}, nil, err
			}
		}
		sm, closeModel, err := serveLM(lm, path, parallel, tok, tmpl)
		if err == nil {
			fmt.Fprintf(os.Stderr, "%s: gpt2 GGUF read into a tern transformer (fp32 in memory, file closed); decoded by %T (a KV cache per slot)\n", path, sm.Decoder)
		}
		return sm, closeModel, err
	}
	m, err := infer.LoadGGUF(path, ctxLen)
	if err != nil {
		return serve.Model{}, nil, err
	}
	bpe, err := m.Tokenizer()
	if err != nil {
		m.Close()
		return serve.Model{}, nil, err
	}
	tok, err := tokenizer.AdapterOf(bpe)
	if err != nil {
		m.Close()
		return serve.Model{}, nil, err
	}
	if err := m.Detach(); err != nil {
		m.Close()
		return serve.Model{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	chat, err := m.Chat(bpe)
	if err != nil {
		m.Close()
		return serve.Model{}, nil, err
	}
	tmpl, err := chatTemplate(tmplFlag, chat, bpe)
	if err != nil {
		m.Close()
		return serve.Model{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	encode := func(s string) ([]int, error) { return bpe.EncodeWithSpecial(s, tokenizer.SpecialAllow) }
	return serveLlama(m, path, parallel, m.Cfg, encode, tok.Decode, tmpl)
}

// serveLlama serves a loaded Llama-family model (a GGUF file or a packed tern file) with the caller's
// tokenizer and template: parallel slots decoded as one batch (infer.LlamaBatch: a KV cache per slot,
// the slots' projections and head run once per step for all of them; from 16 slots the ternary
// matrices are also unpacked to one byte per weight for the int8 GEMM). It owns m from here: on an
// error it closes m, otherwise the returned function does.
func serveLlama(m *infer.Llama, path string, parallel int, cfg any, encode func(string) ([]int, error), decode func([]int) string, tmpl serve.Template) (serve.Model, func(), error) {
	b, err := infer.NewLlamaBatch(m, parallel, true)
	if err != nil {
		m.Close()
		return serve.Model{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	debug.FreeOSMemory() // a GGUF conversion's scratch (decoded trits, ~0.4 GB for 2B4T) goes back now
	conv := ""
	if m.Converted > 0 {
		conv = fmt.Sprintf(" (ternary %.1f MB in the file -> %.1f MB trit5)", float64(m.TernaryFileBytes)/1e6, float64(m.TernaryBytes)/1e6)
	}
	fmt.Fprintf(os.Stderr, "%s: %s model in private memory: weights %.1f MB%s, KV cache %.1f MB per slot (%d positions; %d slots, each allocated on first use)\n",
		path, m.Cfg.Arch, float64(m.ModelBytes())/1e6, conv, float64(m.Cfg.KVBytes())/1e6, m.Cfg.Ctx, parallel)
	return serve.Model{Name: servedName(path), MaxPos: m.Cfg.Ctx, Config: cfg, Encode: encode, Decode: decode, Decoder: b, Template: tmpl},
		func() { b.Close() }, nil
}

// chatTemplate chooses a served model's chat template: flag "" takes the model's own (chat.Template,
// from a GGUF file or a tokenizer_config.json) when it has one and tern's built-in one otherwise,
// "builtin" the built-in one, anything else is a file holding a Jinja template. The model's BOS and
// EOS token texts fill bos_token and eos_token, and its stop tokens' texts end replies.
func chatTemplate(flag string, chat tokenizer.Chat, bpe *tokenizer.BPE) (serve.Template, error) {
	src, name := chat.Template, "model"
	switch flag {
	case "builtin":
		return serve.Builtin{}, nil
	case "":
		if src == "" {
			return serve.Builtin{}, nil
		}
	default:
		b, err := os.ReadFile(flag)
		if err != nil {
			return nil, fmt.Errorf("--chat-template: %w", err)
		}
		src, name = string(b), filepath.Base(flag)
	}
	text := func(id int) string {
		if id < 0 || bpe == nil {
			return ""
		}
		return string(bpe.TokenBytes(id))
	}
	var stops []string
	for _, id := range chat.Stop {
		if t := text(id); t != "" {
			stops = append(stops, t)
		}
	}
	t, err := serve.NewJinja(name, src, text(chat.BOS), text(chat.EOS), stops)
	if err != nil {
		return nil, fmt.Errorf("%w (--chat-template builtin serves with tern's plain template instead)", err)
	}
	return t, nil
}
