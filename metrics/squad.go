// SQuAD v1.1 metrics, as the official evaluate-v1.1.py computes them: answers are normalized
// (lower case, ASCII punctuation removed, articles a/an/the removed, whitespace collapsed), then
// exact match and bag-of-tokens F1 are taken against every gold answer, the maximum kept, and the
// means printed x100. Questions without a prediction score 0 and still count in the total.
//
// This is not the SQuAD v2.0 script (no-answer handling, thresholds); XQuAD uses v1.1.

package metrics

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// pyIsSpace is Python's str.isspace, which str.split() uses: Go's unicode.IsSpace plus the
// information separators U+001C..U+001F (bidi class B/S in Python's tables).
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// pyIsWord is Python 3's re \w on str: alphanumeric (letters, digits, other numbers) or '_'.
func pyIsWord(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}

// pyIsCased / pyIsCaseIgnorable approximate the Unicode properties Python's lower() consults for
// the final-sigma rule (Cased; Case_Ignorable = Mn, Me, Cf, Lm, Sk plus the word-internal
// punctuation ' . : · etc.).
func pyIsCased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
}

func pyIsCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '^', '`', 0xb7, 0x2018, 0x2019, 0x2024, 0xfe52, 0xff07, 0xff0e:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// pyLower is Python's str.lower(): the simple per-rune mapping (Go's unicode.ToLower) plus the two
// full mappings Python applies: U+0130 -> "i\u0307", and capital sigma -> final sigma ς when it
// ends a word (preceded by a cased letter, not followed by one, case-ignorables skipped).
func pyLower(s string) string {
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range rs {
		switch r {
		case 0x130:
			b.WriteString("i\u0307")
			continue
		case 0x3a3:
			if finalSigma(rs, i) {
				b.WriteRune(0x3c2)
				continue
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func finalSigma(rs []rune, i int) bool {
	j := i - 1
	for j >= 0 && pyIsCaseIgnorable(rs[j]) {
		j--
	}
	if j < 0 || !pyIsCased(rs[j]) {
		return false
	}
	j = i + 1
	for j < len(rs) && pyIsCaseIgnorable(rs[j]) {
		j++
	}
	return j == len(rs) || !pyIsCased(rs[j])
}

// isASCIIPunct is membership in Python's string.punctuation: !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
func isASCIIPunct(r rune) bool {
	return r < utf8.RuneSelf && strings.ContainsRune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", r)
}

// NormalizeAnswer is evaluate-v1.1.py's normalize_answer:
// white_space_fix(remove_articles(remove_punc(lower(s)))).
func NormalizeAnswer(s string) string {
	s = pyLower(s)
	// remove_punc
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if !isASCIIPunct(r) {
			b.WriteRune(r)
		}
	}
	s = b.String()
	// remove_articles: re.sub(r'\b(a|an|the)\b', ' ', s). Both \b sit next to word characters, so
	// a match is exactly a maximal run of word characters equal to a, an or the.
	b.Reset()
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !pyIsWord(r) {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		j := i
		for j < len(s) {
			r, n := utf8.DecodeRuneInString(s[j:])
			if !pyIsWord(r) {
				break
			}
			j += n
		}
		if w := s[i:j]; w == "a" || w == "an" || w == "the" {
			b.WriteByte(' ')
		} else {
			b.WriteString(w)
		}
		i = j
	}
	// white_space_fix: ' '.join(s.split())
	return strings.Join(strings.FieldsFunc(b.String(), pyIsSpace), " ")
}

// SquadExactMatch is exact_match_score: 1 if the normalized strings are equal, else 0. Two answers
// that normalize to "" (e.g. "" and "The") match.
func SquadExactMatch(pred, gold string) float64 {
	if NormalizeAnswer(pred) == NormalizeAnswer(gold) {
		return 1
	}
	return 0
}

// SquadF1 is f1_score: the F1 of the multiset intersection (collections.Counter &) of the
// normalized whitespace tokens; 0 when nothing is shared (including when either side is empty).
func SquadF1(pred, gold string) float64 {
	pt := strings.FieldsFunc(NormalizeAnswer(pred), pyIsSpace)
	gt := strings.FieldsFunc(NormalizeAnswer(gold), pyIsSpace)
	count := map[string]int{}
	for _, t := range gt {
		count[t]++
	}
	same := 0
	for _, t := range pt {
		if count[t] > 0 {
			count[t]--
			same++
		}
	}
	if same == 0 {
		return 0
	}
	p := float64(same) / float64(len(pt))
	r := float64(same) / float64(len(gt))
	return 2 * p * r / (p + r)
}

// SquadScore is metric_max_over_ground_truths for both metrics: the best exact match and the best
// F1 of pred over the gold answers (each maximized separately, as the script does). With no gold
// answers both are 0 (the script would fail on max of an empty list).
func SquadScore(pred string, golds []string) (em, f1 float64) {
	for _, g := range golds {
		em = max(em, SquadExactMatch(pred, g))
		f1 = max(f1, SquadF1(pred, g))
	}
	return em, f1
}

// SquadReference is one question's id and its gold answer texts.
type SquadReference struct {
	ID      string
	Answers []string
}

// SquadResult is the official script's output: means x100 over all reference questions.
type SquadResult struct {
	ExactMatch float64 `json:"exact_match"` // 0..100
	F1         float64 `json:"f1"`          // 0..100
	Total      int     `json:"total"`       // questions in the references
	Answered   int     `json:"answered"`    // of those, how many had a prediction
}

// SquadEvaluate scores predictions (question id -> answer text) against the references, as
// evaluate-v1.1.py's evaluate(): unanswered questions score 0 but count in the total; predictions
// for ids not in the references are ignored. Sums run in reference order (deterministic).
func SquadEvaluate(refs []SquadReference, preds map[string]string) SquadResult {
	var res SquadResult
	var emSum, f1Sum float64
	for _, q := range refs {
		res.Total++
		p, ok := preds[q.ID]
		if !ok {
			continue
		}
		res.Answered++
		em, f := SquadScore(p, q.Answers)
		emSum += em
		f1Sum += f
	}
	res.ExactMatch = 100 * Ratio(emSum, float64(res.Total))
	res.F1 = 100 * Ratio(f1Sum, float64(res.Total))
	return res
}
