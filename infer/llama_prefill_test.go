package infer

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"tern/gguf"
)

// TestLlamaPrefill: a prompt fed in one Prefill pass gives the logits of feeding it one Step at a time,
// bit for bit (the same int32 sums per row and the same dot-product order in attention), for prompts
// on the packed batch GEMV path (<= prefillPacked rows) and the unpacked int8 GEMM path, from an
// empty cache, after a stepped prefix, and split into chunks; greedy decoding after either agrees.
func TestLlamaPrefill(t *testing.T) {
	for _, arch := range []string{"bitnet", "llama"} {
		for _, typ := range []gguf.Type{gguf.TQ2_0, gguf.TQ1_0} {
			if arch == "llama" && typ == gguf.TQ1_0 {
				continue
			}
			path := tinyBitnetCtx(t, typ, arch, 160)
			m, err := LoadGGUF(path, 0)
			if err != nil {
				t.Fatal(err)
			}
			V := m.Cfg.Vocab
			ids := make([]int, 150)
			for i := range ids {
				ids[i] = (i*37 + 11) % V
			}
			stepped := func(ids []int) []float32 {
				var l []float32
				for _, id := range ids {
					if l, err = m.Step(id); err != nil {
						t.Fatal(err)
					}
				}
				return append([]float32(nil), l...)
			}
			same := func(what string, got, want []float32) {
				t.Helper()
				worst := 0.0
				for j := range want {
					worst = math.Max(worst, math.Abs(float64(got[j]-want[j])))
				}
				if worst != 0 {
					t.Errorf("%s %s %s: prefill logits differ from stepping by up to %.3g", arch, typ, what, worst)
				}
			}
			for _, n := range []int{1, 5, 8, 9, 40, prefillPacked, prefillPacked + 1, 150} {
				m.Reset()
				want := stepped(ids[:n])
				m.Reset()
				got, err := m.Prefill(ids[:n])
				if err != nil {
					t.Fatal(err)
				}
				same(fmt.Sprintf("prompt of %d", n), got, want)
				if m.Pos != n {
					t.Errorf("Pos %d after prefilling %d", m.Pos, n)
				}
			}
			// PrefillAll: every row's logits, after a stepped prefix of 3, in chunks of 16
			m.Reset()
			var rows [][]float32
			for _, id := range ids[:70] {
				l, err := m.Step(id)
				if err != nil {
					t.Fatal(err)
				}
				rows = append(rows, append([]float32(nil), l...))
			}
			m.Reset()
			stepped(ids[:3])
			old := llamaChunk
			llamaChunk = 16
			all, err := m.PrefillAll(ids[3:70])
			llamaChunk = old
			if err != nil {
				t.Fatal(err)
			}
			for i := 3; i < 70; i++ {
				same(fmt.Sprintf("PrefillAll row %d", i), all[(i-3)*V:(i-2)*V], rows[i])
			}
			// Rows: the last 40 rows of a 70-token window
			r, err := m.Rows(ids[:70], 40)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 40; i++ {
				same(fmt.Sprintf("Rows row %d", i), r[i*V:(i+1)*V], rows[29+i])
			}
			// after a stepped prefix, and in chunks of 16 rows (llamaChunk)
			m.Reset()
			want := stepped(ids[:120])
			m.Reset()
			stepped(ids[:7])
			got, err := m.Prefill(ids[7:120])
			if err != nil {
				t.Fatal(err)
			}
			same("after 7 steps", got, want)
			llamaChunk = 16
			m.Reset()
			got, err = m.Prefill(ids[:120])
			llamaChunk = old
			if err != nil {
				t.Fatal(err)
			}
			same("in chunks", got, want)
			// greedy continuations: GenerateLlama prefills; the stepped one feeds the last token alone
			m.Reset()
			a, err := GenerateLlama(context.Background(), m, ids[:100], 8, NewSampler(Sampling{}, 1), nil)
			if err != nil {
				t.Fatal(err)
			}
			m.Reset()
			stepped(ids[:99])
			b, err := GenerateLlama(context.Background(), m, ids[99:100], 8, NewSampler(Sampling{}, 1), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a[100:], b[1:]) {
				t.Errorf("%s %s: greedy continuations differ:\nprefilled %v\nstepped   %v", arch, typ, a[100:], b[1:])
			}
			m.Reset()
			if _, err := m.Prefill([]int{0, V}); err == nil || !strings.Contains(err.Error(), "outside vocabulary") {
				t.Errorf("bad token: %v", err)
			}
			if _, err := m.Prefill(make([]int, 161)); err == nil || !strings.Contains(err.Error(), "context") {
				t.Errorf("prompt over the context: %v", err)
			}
			if _, err := m.Prefill(nil); err == nil {
				t.Error("empty prompt: no error")
			}
			m.Close()
		}
	}
}
