package share

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestPlanOwners(t *testing.T) {
	self6 := []int{0, 1, 2, 3, 4, 5}
	for _, c := range []struct {
		spec      Spec
		attn, ffn []int
		ln1       []int
	}{
		{Spec{}, self6, self6, self6},
		{Spec{Layers: "sequential", Interval: 2}, []int{0, 0, 2, 2, 4, 4}, []int{0, 0, 2, 2, 4, 4}, self6},
		{Spec{Layers: "sequential", Interval: 4}, []int{0, 0, 0, 0, 4, 4}, []int{0, 0, 0, 0, 4, 4}, self6},
		{Spec{Layers: "alternate", Interval: 2}, []int{0, 1, 0, 1, 0, 1}, []int{0, 1, 0, 1, 0, 1}, self6},
		{Spec{Layers: "alternate", Interval: 3, Norms: true}, []int{0, 1, 2, 0, 1, 2}, []int{0, 1, 2, 0, 1, 2}, []int{0, 1, 2, 0, 1, 2}},
		{Spec{Layers: "all", Scope: "attention"}, []int{0, 0, 0, 0, 0, 0}, self6, self6},
		{Spec{Layers: "all", Scope: "ffn", Norms: true}, self6, []int{0, 0, 0, 0, 0, 0}, self6},
		{Spec{Layers: "groups", Groups: "5,0;4,1"}, []int{0, 1, 2, 3, 1, 0}, []int{0, 1, 2, 3, 1, 0}, self6},
	} {
		p, err := c.spec.Plan(6)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if !reflect.DeepEqual(p.Attn, c.attn) || !reflect.DeepEqual(p.FFN, c.ffn) || !reflect.DeepEqual(p.Ln1, c.ln1) {
			t.Errorf("%s: attn %v ffn %v ln1 %v; want %v %v %v", c.spec, p.Attn, p.FFN, p.Ln1, c.attn, c.ffn, c.ln1)
		}
		for i, o := range p.Attn {
			if o > i || p.FFN[i] > i {
				t.Errorf("%s: owner after its user at %d", c.spec, i)
			}
		}
	}
}

func TestDecoderShared(t *testing.T) {
	got, err := Spec{Decoder: "0,2"}.DecoderShared(4, 3)
	if err != nil || !reflect.DeepEqual(got, []bool{true, false, true}) {
		t.Errorf("decoder 0,2: %v %v", got, err)
	}
	for _, c := range []struct {
		spec     Spec
		enc, dec int
		want     string
	}{
		{Spec{Decoder: "3"}, 4, 2, "decoder has layers 0..1"},
		{Spec{Decoder: "all"}, 2, 3, "encoder has 2"},
		{Spec{Decoder: "2"}, 2, 3, "encoder has layers 0..1"},
		{Spec{Decoder: "all"}, 4, 0, "encoder-decoder"},
	} {
		if _, err := c.spec.DecoderShared(c.enc, c.dec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s enc %d dec %d: %v, want %q", c.spec, c.enc, c.dec, err, c.want)
		}
	}
}

func TestSpecJSON(t *testing.T) {
	var s Spec
	if err := json.Unmarshal([]byte(`{"layers":"groups","groups":[[1,3],[0,2]],"decoder":[0,1]}`), &s); err != nil {
		t.Fatal(err)
	}
	if s.Groups != "1,3;0,2" || s.Decoder != "0,1" {
		t.Fatalf("decoded %+v", s)
	}
	b, _ := json.Marshal(s)
	if string(b) != `{"layers":"groups","groups":[[1,3],[0,2]],"decoder":[0,1]}` {
		t.Errorf("encoded %s", b)
	}
	for _, bad := range []string{`{"groups":[1,2]}`, `{"decoder":"some"}`, `{"groups":"a;b"}`} {
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
