package finetune

// Tokenization into model features. The tokenizer returns ids only, so offsets are computed here:
// text is cut into segments (a whitespace run plus the non-space run after it, which is how the GPT-2
// pre-tokenizer groups " word"), each segment is encoded on its own, and each token's byte span is
// found by decoding the segment's tokens one prefix at a time. Byte-level BPE never merges across
// such a segment boundary, so the ids equal those of encoding the whole text; a segment whose
// decoding does not reproduce it (a char tokenizer missing a character) gives all its tokens the
// segment's span.

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tokenizer is what features need; tokenizer.Adapter satisfies it.
type Tokenizer interface {
	Encode32(text string) []int32
	Decode(ids []int) string
}

// Feature is one model input built from an Item.
type Feature struct {
	IDs   []int32 // (T)
	Types []int32 // (T) segment ids: 0 first segment / question, 1 second / context
	Item  int     // index of the Item it came from

	Label int32   // sequence tasks
	Tags  []int32 // token tasks: (T) tag of a word's first subtoken, -1 elsewhere

	// token tasks: the position of each word's first subtoken, -1 for words cut by MaxLen
	WordPos []int

	// span tasks: Start, End are answer token positions (-1 when the answer is not in this window);
	// Off is each position's byte span in the Item's Context ({-1, -1} outside the context).
	Start, End int32
	Off        [][2]int
}

// Options control featurization.
type Options struct {
	MaxLen      int     // T cap, e.g. 128; at most the model's max_pos
	Sep         []int32 // ids placed between two segments (e.g. the encoding of "\n")
	MaxQuestion int     // span tasks: question tokens kept, e.g. 64
	Stride      int     // span tasks: context tokens between window starts, e.g. MaxLen/2
}

// tokSpan is one token and its byte span in the text it came from.
type tokSpan struct {
	id         int32
	start, end int
}

// encodeOffsets encodes text segment by segment and returns each token with its byte span.
func encodeOffsets(tok Tokenizer, text string) []tokSpan {
	var out []tokSpan
	for i := 0; i < len(text); {
		j := i
		for j < len(text) { // whitespace run
			r, n := utf8.DecodeRuneInString(text[j:])
			if !unicode.IsSpace(r) {
				break
			}
			j += n
		}
		for j < len(text) { // then the non-space run
			r, n := utf8.DecodeRuneInString(text[j:])
			if unicode.IsSpace(r) {
				break
			}
			j += n
		}
		seg := text[i:j]
		ids := tok.Encode32(seg)
		pos, ok := i, true
		ints := make([]int, 0, len(ids))
		spans := make([]tokSpan, len(ids))
		for k, id := range ids {
			ints = append(ints, int(id))
			end := i + len(tok.Decode(ints))
			if end < pos || end > j {
				ok = false
			}
			spans[k] = tokSpan{id, pos, end}
			pos = end
		}
		if !ok || pos != j || tok.Decode(ints) != seg {
			for k := range spans {
				spans[k].start, spans[k].end = i, j
			}
		}
		out = append(out, spans...)
		i = j
	}
	return out
}

// SequenceFeature encodes a sentence or a pair: ids(a) [Sep ids(b)], truncating the longer side.
func SequenceFeature(tok Tokenizer, it Item, idx int, o Options) Feature {
	a := tok.Encode32(it.Text)
	var b []int32
	if it.Text2 != "" {
		b = tok.Encode32(it.Text2)
	}
	room := o.MaxLen
	if b != nil {
		room -= len(o.Sep)
		for len(a)+len(b) > room {
			if len(a) >= len(b) {
				a = a[:len(a)-1]
			} else {
				b = b[:len(b)-1]
			}
		}
	} else if len(a) > room {
		a = a[:room]
	}
	f := Feature{Item: idx, Label: int32(it.Label)}
	f.IDs = append(f.IDs, a...)
	f.Types = make([]int32, len(a))
	if b != nil {
		f.IDs = append(append(f.IDs, o.Sep...), b...)
		for range len(o.Sep) + len(b) {
			f.Types = append(f.Types, 1)
		}
	}
	if len(f.IDs) == 0 { // an empty sentence still needs one position to pool
		f.IDs, f.Types = append(f.IDs, o.Sep...), make([]int32, len(o.Sep))
	}
	return f
}

// TokenFeature encodes words one by one (" word" after the first, as the words sat in running text)
// and labels each word's first subtoken; the other subtokens get -1 (ignored). Words that do not fit
// MaxLen get WordPos -1: they have no prediction.
func TokenFeature(tok Tokenizer, it Item, idx int, o Options) Feature {
	f := Feature{Item: idx, WordPos: make([]int, len(it.Words))}
	for w, word := range it.Words {
		f.WordPos[w] = -1
		if w > 0 {
			word = " " + word
		}
		ids := tok.Encode32(word)
		if len(ids) == 0 || len(f.IDs)+len(ids) > o.MaxLen {
			if len(f.IDs)+len(ids) > o.MaxLen {
				break
			}
			continue
		}
		f.WordPos[w] = len(f.IDs)
		f.IDs = append(f.IDs, ids...)
		f.Tags = append(f.Tags, int32(it.Tags[w]))
		for range len(ids) - 1 {
			f.Tags = append(f.Tags, -1)
		}
	}
	f.Types = make([]int32, len(f.IDs))
	if len(f.IDs) == 0 {
		f.IDs, f.Types, f.Tags = append(f.IDs, o.Sep...), make([]int32, len(o.Sep)), make([]int32, len(o.Sep))
		for i := range f.Tags {
			f.Tags[i] = -1
		}
	}
	return f
}

// SpanFeatures encodes question Sep context-window for every window of the context (windows start
// every Stride context tokens until one reaches the end). ctx is encodeOffsets(tok, it.Context),
// passed in so paragraphs shared by several questions are encoded once.
func SpanFeatures(tok Tokenizer, it Item, idx int, ctx []tokSpan, o Options) ([]Feature, error) {
	q := tok.Encode32(it.Question)
	if len(q) > o.MaxQuestion {
		q = q[:o.MaxQuestion]
	}
	room := o.MaxLen - len(q) - len(o.Sep)
	if room < 8 {
		return nil, fmt.Errorf("finetune: question %s leaves %d context tokens (max length %d)", it.ID, room, o.MaxLen)
	}
	stride := min(max(o.Stride, 1), room)
	// gold span (first answer) in bytes
	as, ae := -1, -1
	if len(it.Answers) > 0 {
		as, ae = it.Answers[0].ByteStart, it.Answers[0].ByteEnd
		if as < 0 || ae > len(it.Context) || as >= ae {
			return nil, fmt.Errorf("finetune: question %s: answer span [%d, %d) outside its context of %d bytes", it.ID, as, ae, len(it.Context))
		}
	}
	var out []Feature
	for w := 0; ; w += stride {
		end := min(w+room, len(ctx))
		f := Feature{Item: idx, Start: -1, End: -1}
		f.IDs = append(append(f.IDs, q...), o.Sep...)
		f.Types = make([]int32, len(f.IDs))
		for range f.IDs {
			f.Off = append(f.Off, [2]int{-1, -1})
		}
		for k := w; k < end; k++ {
			p := int32(len(f.IDs))
			f.IDs = append(f.IDs, ctx[k].id)
			f.Types = append(f.Types, 1)
			f.Off = append(f.Off, [2]int{ctx[k].start, ctx[k].end})
			if as >= 0 && f.Start < 0 && ctx[k].end > as {
				f.Start = p
			}
			if as >= 0 && ctx[k].start < ae {
				f.End = p
			}
		}
		// the answer must lie wholly inside the window
		if f.Start < 0 || f.End < f.Start || f.Off[f.Start][0] > as || f.Off[f.End][1] < ae {
			f.Start, f.End = -1, -1
		}
		out = append(out, f)
		if end >= len(ctx) {
			break
		}
	}
	return out, nil
}

// Featurize turns items into features for a task.
func Featurize(t *Task, tok Tokenizer, items []Item, o Options) ([]Feature, error) {
	var fs []Feature
	ctxCache := map[string][]tokSpan{}
	for i, it := range items {
		switch t.Kind {
		case "sequence":
			if it.Label < 0 || it.Label >= len(t.Labels) {
				return nil, fmt.Errorf("finetune: %s item %d: label %d outside [0, %d)", t.Name, i+1, it.Label, len(t.Labels))
			}
			fs = append(fs, SequenceFeature(tok, it, i, o))
		case "token":
			if len(it.Tags) != len(it.Words) {
				return nil, fmt.Errorf("finetune: %s item %d: %d words but %d tags", t.Name, i+1, len(it.Words), len(it.Tags))
			}
			fs = append(fs, TokenFeature(tok, it, i, o))
		case "span":
			ctx, ok := ctxCache[it.Context]
			if !ok {
				ctx = encodeOffsets(tok, it.Context)
				ctxCache = map[string][]tokSpan{it.Context: ctx} // consecutive questions share a paragraph
			}
			f, err := SpanFeatures(tok, it, i, ctx, o)
			if err != nil {
				return nil, err
			}
			fs = append(fs, f...)
		default:
			return nil, fmt.Errorf("finetune: task %s has unknown kind %q", t.Name, t.Kind)
		}
	}
	return fs, nil
}

// AnswerText returns the context text of token positions [s, e] of a span feature, without the
// leading whitespace a byte-level token carries (" Denver" -> "Denver").
func AnswerText(context string, f *Feature, s, e int) string {
	a, b := f.Off[s][0], f.Off[e][1]
	if a < 0 || b < a {
		return ""
	}
	return strings.TrimSpace(context[a:b])
}
