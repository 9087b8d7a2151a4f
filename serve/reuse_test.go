package serve

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"tern/format"
	"tern/infer"
	"tern/model"
)

// keepLog is a Batch that records the kept prefix lengths the scheduler asks it for.
type keepLog struct {
	*infer.Batch
	keeps []int
}

func (k *keepLog) ResumeMany(slots []int, keep []int, rests [][]int) ([]float32, error) {
	k.keeps = append(k.keeps, keep...)
	return k.Batch.ResumeMany(slots, keep, rests)
}

// plain hides the Batch's Resumer and ManyStarter: every request starts from an empty cache.
type plain struct{ infer.Decoder }

// letters is a model whose 62 token ids are the printable characters 'A'.. '~', so a completion's
// text is its tokens exactly.
func letters(t *testing.T, dec infer.Decoder, ctx int) Model {
	return Model{Name: "letters", MaxPos: ctx, Decoder: dec,
		Encode: func(s string) ([]int, error) {
			ids := make([]int, len(s))
			for i := range len(s) {
				if s[i] < 'A' || s[i] > '~' {
					return nil, fmt.Errorf("byte %q outside the vocabulary", s[i])
				}
				ids[i] = int(s[i] - 'A')
			}
			return ids, nil
		},
		Decode: func(ids []int) string {
			b := make([]byte, len(ids))
			for i, id := range ids {
				b[i] = byte('A' + id)
			}
			return string(b)
		},
	}
}

// TestPrefixReuse: a prompt that begins with what a slot was fed before (a conversation's next turn:
// the earlier prompt, its completion, then more) is resumed from the slot's cache, only the new tokens
// prefilled; the completion equals a server's that prefills everything, usage reports the cached
// tokens, /metrics counts them, and an unrelated prompt is prefilled whole.
func TestPrefixReuse(t *testing.T) {
	cfg, _ := model.Preset("tiny")
	cfg.Vocab, cfg.Hidden, cfg.Layers, cfg.Heads, cfg.FFN, cfg.MaxPos = 62, 64, 2, 4, 128, 96
	batch := func() *infer.Batch {
		m, err := infer.RandomPacked(cfg, 5, format.F16)
		if err != nil {
			t.Fatal(err)
		}
		b, err := infer.NewBatch(m, 2, false)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	kl := &keepLog{Batch: batch()}
	reuse := New(letters(t, kl, cfg.MaxPos), Options{})
	defer reuse.Close()
	fresh := New(letters(t, plain{batch()}, cfg.MaxPos), Options{})
	defer fresh.Close()
	complete := func(h *Server, prompt string) completion {
		t.Helper()
		w := post(t, h, fmt.Sprintf(`{"prompt": %q, "max_tokens": 6, "temperature": 0}`, prompt))
		if w.Code != 200 {
			t.Fatalf("%d: %s", w.Code, w.Body)
		}
		return decodeCompletion(t, w.Body.Bytes())
	}
	first := complete(reuse, "HELLOTHEREWORLD")
	turn := "HELLOTHEREWORLD" + *first.Choices[0].Text + "ANDMORE"
	got, want := complete(reuse, turn), complete(fresh, turn)
	if *got.Choices[0].Text != *want.Choices[0].Text {
		t.Errorf("resumed completion %q, prefilled whole %q", *got.Choices[0].Text, *want.Choices[0].Text)
	}
	// the slot was fed the 15-token prompt and 5 of the 6 generated tokens (the last is never fed)
	if d := got.Usage.PromptDetails; d == nil || d.CachedTokens != 15+5 {
		t.Errorf("usage %+v, want 20 cached prompt tokens", got.Usage)
	}
	if len(kl.keeps) != 1 || kl.keeps[0] != 20 {
		t.Errorf("kept %v, want [20]", kl.keeps)
	}
	if u := complete(reuse, "ZZZ").Usage; u.PromptDetails != nil {
		t.Errorf("an unrelated prompt reported cached tokens: %+v", u)
	}
	w := call(t, reuse, "GET", "/metrics", "")
	if !strings.Contains(w.Body.String(), "tern_prompt_tokens_cached_total 20\n") {
		t.Errorf("metrics lack the cached tokens:\n%s", w.Body)
	}
	b, _ := json.Marshal(got.Usage)
	if !strings.Contains(string(b), `"prompt_tokens_details":{"cached_tokens":20}`) {
		t.Errorf("usage JSON %s", b)
	}
}
