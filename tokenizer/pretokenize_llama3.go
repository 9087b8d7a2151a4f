// pretokenize_llama3.go: LLaMA-3's pre-tokenizer (tiktoken's cl100k_base family), the regular
// expression of its tokenizer.json Split step
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// written out by hand, alternative by alternative, with the result a backtracking engine (Hugging
// Face tokenizers uses Oniguruma) gives: Go's regexp has no lookahead, and the hand scanner shares
// the GPT-2 scanner's class table (pretokenize.go: \s is Unicode White_Space, which is what
// Oniguruma's \s is too; an invalid UTF-8 byte is one "other" character, as U+FFFD would be). It is
// also llama.cpp's "llama-bpe" pre-tokenizer, so GGUF files naming it use this scanner as well.

package tokenizer

// Pre-tokenizer kinds a BPE can use, named as GGUF's tokenizer.ggml.pre names them.
const (
	PreGPT2   = "gpt-2"     // GPT-2 / r50k_base
	PreLlama3 = "llama-bpe" // LLaMA-3
)

// llama3Pattern is the Split regex of LLaMA-3's tokenizer.json, exactly as the file spells it; a
// tokenizer.json whose Split step names another pattern is refused.
const llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// gpt2Pattern is GPT-2's regex as a Split step spells it (the same split as ByteLevel's use_regex).
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// llama3End returns the end of the pre-token that starts at s[i] (i < len(s)).
func llama3End(s string, i int) int {
	n := len(s)
	c := s[i]
	// (?i:'s|'t|'re|'ve|'m|'ll|'d): ASCII letters in either case.
	if c == '\'' && i+1 < n {
		switch s[i+1] | 0x20 {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v':
			if i+2 < n && s[i+2]|0x20 == 'e' {
				return i + 3
			}
		case 'l':
			if i+2 < n && s[i+2]|0x20 == 'l' {
				return i + 3
			}
		}
	}
	cls, w := classAt(s, i)
	switch cls {
	case clsLetter: // [^\r\n\p{L}\p{N}]?\p{L}+ without the optional character
		return classRunEnd(s, i+w, clsLetter)
	case clsNumber: // \p{N}{1,3}
		j := i + w
		for k := 1; k < 3 && j < n; k++ {
			c2, w2 := classAt(s, j)
			if c2 != clsNumber {
				break
			}
			j += w2
		}
		return j
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+ with the optional character: any space or other character but CR/LF.
	if c != '\r' && c != '\n' && i+w < n {
		if c2, w2 := classAt(s, i+w); c2 == clsLetter {
			return classRunEnd(s, i+w+w2, clsLetter)
		}
	}
	// ` ?[^\s\p{L}\p{N}]+[\r\n]*`
	j := i
	if c == ' ' && i+1 < n {
		if c2, _ := classAt(s, i+1); c2 == clsOther {
			j = i + 1
		}
	}
	if c2, w2 := classAt(s, j); c2 == clsOther {
		j = classRunEnd(s, j+w2, clsOther)
		for j < n && (s[j] == '\r' || s[j] == '\n') {
			j++
		}
		return j
	}
	// s[i] is whitespace. \s*[\r\n]+: the longest whitespace run's last CR/LF ends the match (the
	// greedy \s* gives characters back until [\r\n]+ can match). Else \s+(?!\S): the run whole if it
	// ends the text, else without its last character when one stays. Else \s+: the lone character.
	end, last, lastNL := i, i, -1
	for end < n {
		c2, w2 := classAt(s, end)
		if c2 != clsSpace {
			break
		}
		if s[end] == '\r' || s[end] == '\n' {
			lastNL = end
		}
		last = end
		end += w2
	}
	switch {
	case lastNL >= 0:
		return lastNL + 1
	case end < n && last > i:
		return last
	}
	return end
}

// classRunEnd extends a run of class cls from j.
func classRunEnd(s string, j int, cls uint8) int {
	for j < len(s) {
		k, w := classAt(s, j)
		if k != cls {
			break
		}
		j += w
	}
	return j
}

// PretokenizeLlama3 splits s into LLaMA-3 pre-tokens; their concatenation is s.
func PretokenizeLlama3(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		j := llama3End(s, i)
		out = append(out, s[i:j])
		i = j
	}
	return out
}
