package eval

import (
	"context"
	"math"
	"testing"

	"tern/model"
	"tern/nn"
	"tern/tensor"
)

// bigramLM is a hand-made LM over ids 0..3 whose next-token logits depend only on the current token:
// after 2 it prefers 0 (logit 2), after 3 it prefers 1; otherwise uniform.
type bigramLM struct{ out []float32 }

func (m *bigramLM) Forward(ids []int32, b, t int) ([]float32, error) {
	m.out = make([]float32, len(ids)*4)
	for i, id := range ids {
		switch id {
		case 2:
			m.out[i*4] = 2
		case 3:
			m.out[i*4+1] = 2
		}
	}
	return m.out, nil
}
func (m *bigramLM) Backward([]float32)            {}
func (m *bigramLM) Params() []*nn.Param           { return nil }
func (m *bigramLM) Config() model.Config          { return model.Config{Vocab: 4, MaxPos: 8} }
func (m *bigramLM) SetTraining(bool, *tensor.RNG) {}

type abcd struct{}

func (abcd) Encode32(s string) []int32 {
	var out []int32
	for _, r := range s {
		out = append(out, int32(r-'a'))
	}
	return out
}

// TestZeroShotHandWorked: "c" -> label 0 and "d" -> label 1 by the bigram; "dc" ends in c -> 0;
// with gold [0, 1, 1] the accuracy is 2/3 and the majority baseline 2/3.
func TestZeroShotHandWorked(t *testing.T) {
	r, err := ZeroShot(context.Background(), &bigramLM{}, abcd{}, []string{"c", "d", "dc"}, []int{0, 1, 1}, []string{"a", "b"}, 8)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.Accuracy-2.0/3) > 1e-12 || math.Abs(r.Majority-2.0/3) > 1e-12 || r.Items != 3 {
		t.Errorf("got %+v, want accuracy 2/3, majority 2/3, 3 items", r)
	}
	// log softmax of [2,0,0,0] at 0 = 2 - ln(e²+3)
	if got, want := logSoftmaxAt([]float32{2, 0, 0, 0}, 0), 2-math.Log(math.Exp(2)+3); math.Abs(got-want) > 1e-12 {
		t.Errorf("logSoftmaxAt = %v, want %v", got, want)
	}
	if _, err := ZeroShot(context.Background(), &bigramLM{}, abcd{}, []string{"c"}, nil, []string{"a"}, 8); err == nil {
		t.Error("texts without labels accepted")
	}
}
