// hfpipeline.go: the normalizer, pre-tokenizer and post-processor steps of a tokenizer.json that tern reads
// (hfjson.go reads the rest). Two pre-tokenizers exist in byte-level BPE files: ByteLevel with its
// built-in GPT-2 regex, and a Sequence of a Split on a regex followed by ByteLevel without its regex
// (LLaMA-3 and its descendants). tern implements GPT-2's and LLaMA-3's regexes by hand; any other
// pattern is refused by name rather than split differently from Hugging Face. The post-processor
// only matters for add_special_tokens: TemplateProcessing's special tokens around the sequence
// (LLaMA-3's BOS).

package tokenizer

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

type preTokenizer struct {
	kind        string // PreGPT2 or PreLlama3
	prefixSpace bool   // ByteLevel add_prefix_space
}

type hfStep struct {
	Type           string            `json:"type"`
	AddPrefixSpace bool              `json:"add_prefix_space"`
	UseRegex       *bool             `json:"use_regex"`
	Pattern        map[string]string `json:"pattern"` // {"Regex": ...} or {"String": ...}
	Behavior       string            `json:"behavior"`
	Invert         bool              `json:"invert"`
	PreTokenizers  []json.RawMessage `json:"pretokenizers"`
	Processors     []json.RawMessage `json:"processors"`
	Single         []json.RawMessage `json:"single"`
	SpecialTokens  map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
}

// parseNormalizer accepts none (null) and NFC, alone or as a one-step Sequence (Qwen2 and others
// compose their input); every other normalizer changes text in ways tern does not, and is refused.
func parseNormalizer(raw json.RawMessage) (nfc bool, err error) {
	if s := strings.TrimSpace(string(raw)); s == "" || s == "null" {
		return false, nil
	}
	var st struct {
		Type        string            `json:"type"`
		Normalizers []json.RawMessage `json:"normalizers"`
	}
	if err := json.Unmarshal(raw, &st); err == nil {
		switch {
		case st.Type == "NFC":
			return true, nil
		case st.Type == "Sequence" && len(st.Normalizers) == 0:
			return false, nil
		case st.Type == "Sequence" && len(st.Normalizers) == 1:
			return parseNormalizer(st.Normalizers[0])
		}
	}
	return false, fmt.Errorf("tokenizer: normalizer %s is not supported (none or NFC)", clip(string(raw)))
}

// parsePreTokenizer accepts ByteLevel (use_regex true: GPT-2's split) and
// Sequence[Split(GPT-2's or LLaMA-3's regex, Isolated), ByteLevel(use_regex false)].
func parsePreTokenizer(raw json.RawMessage) (preTokenizer, error) {
	var st hfStep
	if err := json.Unmarshal(raw, &st); err != nil {
		return preTokenizer{}, fmt.Errorf("tokenizer: pre_tokenizer %s is not an object", clip(string(raw)))
	}
	switch st.Type {
	case "ByteLevel":
		if st.UseRegex != nil && !*st.UseRegex {
			return preTokenizer{}, fmt.Errorf("tokenizer: a ByteLevel pre_tokenizer with use_regex=false and no Split before it is not supported")
		}
		return preTokenizer{kind: PreGPT2, prefixSpace: st.AddPrefixSpace}, nil
	case "Sequence":
		if len(st.PreTokenizers) != 2 {
			break
		}
		var split, bl hfStep
		if json.Unmarshal(st.PreTokenizers[0], &split) != nil || json.Unmarshal(st.PreTokenizers[1], &bl) != nil ||
			split.Type != "Split" || bl.Type != "ByteLevel" {
			break
		}
		if bl.UseRegex == nil || *bl.UseRegex {
			return preTokenizer{}, fmt.Errorf("tokenizer: pre_tokenizer Split followed by ByteLevel with use_regex=true (two regex splits) is not supported")
		}
		if split.Behavior != "Isolated" || split.Invert {
			return preTokenizer{}, fmt.Errorf("tokenizer: pre_tokenizer Split with behavior %q invert %t is not supported (only Isolated, not inverted)", split.Behavior, split.Invert)
		}
		re, ok := split.Pattern["Regex"]
		if !ok || len(split.Pattern) != 1 {
			return preTokenizer{}, fmt.Errorf("tokenizer: pre_tokenizer Split pattern %v is not a Regex", split.Pattern)
		}
		switch re {
		case llama3Pattern:
			return preTokenizer{kind: PreLlama3, prefixSpace: bl.AddPrefixSpace}, nil
		case gpt2Pattern:
			return preTokenizer{kind: PreGPT2, prefixSpace: bl.AddPrefixSpace}, nil
		}
		return preTokenizer{}, fmt.Errorf("tokenizer: pre_tokenizer Split regex %q is not supported (tern implements GPT-2's and LLaMA-3's)", clip(re))
	}
	return preTokenizer{}, fmt.Errorf("tokenizer: pre_tokenizer must be ByteLevel or Sequence[Split, ByteLevel], got %s", clip(string(raw)))
}

// parsePostProcessor returns the ids TemplateProcessing's "single" template puts before and after
// the sequence; ByteLevel (offsets only) and null add none. Sequences of these are flattened.
func parsePostProcessor(raw json.RawMessage, b *BPE) (prefix, suffix []int32, err error) {
	if s := strings.TrimSpace(string(raw)); s == "" || s == "null" {
		return nil, nil, nil
	}
	var st hfStep
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, nil, fmt.Errorf("tokenizer: post_processor %s is not an object", clip(string(raw)))
	}
	switch st.Type {
	case "ByteLevel":
		return nil, nil, nil
	case "Sequence":
		for _, p := range st.Processors {
			pre, suf, err := parsePostProcessor(p, b)
			if err != nil {
				return nil, nil, err
			}
			if len(pre)+len(suf) > 0 {
				if len(prefix)+len(suffix) > 0 {
					return nil, nil, fmt.Errorf("tokenizer: post_processor Sequence with two templates is not supported")
				}
				prefix, suffix = pre, suf
			}
		}
		return prefix, suffix, nil
	case "TemplateProcessing":
		seen := false
		for i, item := range st.Single {
			var it struct {
				SpecialToken *struct{ ID string } `json:"SpecialToken"`
				Sequence     *struct{ ID string } `json:"Sequence"`
			}
			if err := json.Unmarshal(item, &it); err != nil || (it.SpecialToken == nil) == (it.Sequence == nil) {
				return nil, nil, fmt.Errorf("tokenizer: post_processor template item %d %s is neither SpecialToken nor Sequence", i, clip(string(item)))
			}
			if it.Sequence != nil {
				if seen || it.Sequence.ID != "A" {
					return nil, nil, fmt.Errorf("tokenizer: post_processor single template must hold sequence A once")
				}
				seen = true
				continue
			}
			sp, ok := st.SpecialTokens[it.SpecialToken.ID]
			if !ok || len(sp.IDs) == 0 {
				return nil, nil, fmt.Errorf("tokenizer: post_processor template names %q, which its special_tokens do not define", it.SpecialToken.ID)
			}
			for _, id := range sp.IDs {
				if b.TokenBytes(id) == nil {
					return nil, nil, fmt.Errorf("tokenizer: post_processor special token %q has id %d, which is not a token", it.SpecialToken.ID, id)
				}
				if seen {
					suffix = append(suffix, int32(id))
				} else {
					prefix = append(prefix, int32(id))
				}
			}
		}
		if !seen {
			return nil, nil, fmt.Errorf("tokenizer: post_processor single template has no sequence")
		}
		return prefix, suffix, nil
	}
	return nil, nil, fmt.Errorf("tokenizer: post_processor %q is not supported (ByteLevel, TemplateProcessing or a Sequence of them)", st.Type)
}

// PreTokenizer names the pre-tokenizer, as GGUF's tokenizer.ggml.pre does: PreGPT2 or PreLlama3.
func (b *BPE) PreTokenizer() string {
	if b.llama3 {
		return PreLlama3
	}
	return PreGPT2
}

// AddSpecialTokens wraps ids as the tokenizer's post-processor does when Hugging Face encodes with
// add_special_tokens (LLaMA-3: BOS first); a tokenizer without a template returns ids unchanged.
func (b *BPE) AddSpecialTokens(ids []int) []int {
	if len(b.prefix)+len(b.suffix) == 0 {
		return ids
	}
	out := make([]int, 0, len(b.prefix)+len(ids)+len(b.suffix))
	for _, id := range b.prefix {
		out = append(out, int(id))
	}
	out = append(out, ids...)
	for _, id := range b.suffix {
		out = append(out, int(id))
	}
	return out
}

// marshalPipeline writes the pre_tokenizer and post_processor of b as tokenizer.json spells them.
func (b *BPE) marshalPipeline() (pre, post string) {
	q := func(s string) string { j, _ := json.Marshal(s); return string(j) }
	pre = fmt.Sprintf(`{"type": "ByteLevel", "add_prefix_space": %t, "trim_offsets": true, "use_regex": true}`, b.prefixSpc)
	if b.llama3 {
		pre = fmt.Sprintf(`{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": %s}, "behavior": "Isolated", "invert": false}, `+
			`{"type": "ByteLevel", "add_prefix_space": %t, "trim_offsets": true, "use_regex": false}]}`, q(llama3Pattern), b.prefixSpc)
	}
	post = `{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true}`
	if len(b.prefix)+len(b.suffix) > 0 {
		var single, pair, specials []string
		item := func(id int32) {
			t := q(string(b.tokens[id]))
			single = append(single, fmt.Sprintf(`{"SpecialToken": {"id": %s, "type_id": 0}}`, t))
			if !slices.Contains(specials, t) {
				specials = append(specials, t)
			}
		}
		for _, id := range b.prefix {
			item(id)
		}
		single = append(single, `{"Sequence": {"id": "A", "type_id": 0}}`)
		for _, id := range b.suffix {
			item(id)
		}
		pair = append(pair, single...) // the pair template repeats it for B, as Hugging Face writes LLaMA-3's
		for _, it := range single {
			pair = append(pair, strings.Replace(it, `{"id": "A", "type_id": 0}`, `{"id": "B", "type_id": 1}`, 1))
		}
		sp := make([]string, len(specials))
		for i, t := range specials {
			var text string
			json.Unmarshal([]byte(t), &text)
			sp[i] = fmt.Sprintf(`%s: {"id": %s, "ids": [%d], "tokens": [%s]}`, t, t, b.specialID[text], t)
		}
		post = fmt.Sprintf(`{"type": "TemplateProcessing", "single": [%s], "pair": [%s], "special_tokens": {%s}}`,
			strings.Join(single, ", "), strings.Join(pair, ", "), strings.Join(sp, ", "))
	}
	return pre, post
}
