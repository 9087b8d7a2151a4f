// Package chattmpl renders chat templates: the subset of Jinja that Hugging Face and llama.cpp chat
// templates use (LLaMA-3, BitNet b1.58 2B4T, ChatML, Mistral and the like), as transformers'
// apply_chat_template runs them (trim_blocks and lstrip_blocks on). Statements: if/elif/else, for
// (loop.index, index0, first, last, length, revindex; an inline if; tuple targets), set (also
// namespace attributes), generation. Expressions: literals, lists, dicts, attribute and subscript
// access, slices, + - * / // % ~, comparisons, in, and/or/not, the ternary if/else, a fixed set of
// filters, tests, functions and methods. A template is parsed whole by Parse, so anything outside the
// subset is an error at load naming the construct, never at request time.
package chattmpl

import (
	"fmt"
	"strings"
)

// piece is a lexed part of a template: text, an expression tag {{ }}, or a statement tag {% %}.
type piece struct {
	kind byte   // 't' text, 'e' expression, 's' statement
	src  string // text, or the tag's inside
	line int
}

// split cuts src into pieces, applying whitespace control: "-" next to a tag strips all whitespace on
// that side, lstrip_blocks strips spaces and tabs before a statement or comment tag at the start of a
// line, and trim_blocks drops the first newline after one.
func split(src string) ([]piece, error) {
	var out []piece
	line := 1
	i := 0
	trimNext := false // strip leading whitespace of the next text ("-" on the previous tag's close)
	dropNL := false   // trim_blocks: drop one newline at the start of the next text
	for i < len(src) {
		j := strings.Index(src[i:], "{")
		for j >= 0 && i+j+1 < len(src) && !strings.ContainsRune("{%#", rune(src[i+j+1])) {
			k := strings.Index(src[i+j+1:], "{")
			if k < 0 {
				j = -1
			} else {
				j += k + 1
			}
		}
		if j < 0 || i+j+1 >= len(src) {
			j = len(src) - i
		}
		text := src[i : i+j]
		if dropNL {
			text = strings.TrimPrefix(text, "\n")
		}
		if trimNext {
			text = strings.TrimLeft(text, " \t\n\r")
		}
		i += j
		if i >= len(src) {
			out = appendText(out, text, line)
			break
		}
		open := src[i+1]
		strip := i+2 < len(src) && src[i+2] == '-'
		keep := i+2 < len(src) && src[i+2] == '+'
		if strip {
			text = strings.TrimRight(text, " \t\n\r")
		} else if open != '{' && !keep {
			// lstrip_blocks: spaces and tabs between the start of a source line and the tag go
			k := i
			for k > 0 && (src[k-1] == ' ' || src[k-1] == '\t') {
				k--
			}
			if k == 0 || src[k-1] == '\n' {
				text = strings.TrimRight(text, " \t")
			}
		}
		out = appendText(out, text, line)
		line += strings.Count(src[i-j:i], "\n")
		closeTag := map[byte]string{'{': "}}", '%': "%}", '#': "#}"}[open]
		body := i + 2
		if strip || keep {
			body++
		}
		end := strings.Index(src[body:], closeTag)
		if end < 0 {
			return nil, fmt.Errorf("line %d: %s%c opened but never closed with %s", line, "{", open, closeTag)
		}
		inner := src[body : body+end]
		next := body + end + 2
		trimNext = strings.HasSuffix(inner, "-")
		if trimNext {
			inner = inner[:len(inner)-1]
		}
		dropNL = open != '{'
		switch open {
		case '{':
			out = append(out, piece{'e', strings.TrimSpace(inner), line})
		case '%':
			out = append(out, piece{'s', strings.TrimSpace(inner), line})
		}
		line += strings.Count(src[i:next], "\n")
		i = next
	}
	return out, nil
}

func appendText(out []piece, text string, line int) []piece {
	if text == "" {
		return out
	}
	return append(out, piece{'t', text, line})
}

// token is one lexeme of an expression or statement.
type token struct {
	kind byte // 'n' name, 's' string, 'i' integer, 'f' float, 'o' operator, 0 end
	s    string
}

var ops = []string{"//", "==", "!=", "<=", ">=", "**", "+", "-", "*", "/", "%", "~", "<", ">", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", "="}

// lex cuts a tag's inside into tokens.
func lex(src string) ([]token, error) {
	var out []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (src[j] == '_' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			out = append(out, token{'n', src[i:j]})
			i = j
		case c >= '0' && c <= '9':
			j, kind := i, byte('i')
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.' && kind == 'i' && j+1 < len(src) && src[j+1] >= '0' && src[j+1] <= '9') {
				if src[j] == '.' {
					kind = 'f'
				}
				j++
			}
			out = append(out, token{kind, src[i:j]})
			i = j
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(src) && src[j] != c; j++ {
				if src[j] == '\\' && j+1 < len(src) {
					j++
					switch src[j] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					case 'r':
						b.WriteByte('\r')
					default:
						b.WriteByte(src[j])
					}
					continue
				}
				b.WriteByte(src[j])
			}
			if j >= len(src) {
				return nil, fmt.Errorf("unterminated string %s", src[i:])
			}
			out = append(out, token{'s', b.String()})
			i = j + 1
		default:
			found := false
			for _, op := range ops {
				if strings.HasPrefix(src[i:], op) {
					out = append(out, token{'o', op})
					i += len(op)
					found = true
					break
				}
			}
			if !found {
				return nil, fmt.Errorf("unexpected character %q", c)
			}
		}
	}
	return out, nil
}
