package strictjson

import (
	"strings"
	"testing"
)

type inner struct {
	N int `json:"n"`
}

type cfg struct {
	Hidden int              `json:"hidden"`
	Name   string           `json:"name,omitempty"`
	Plain  int              // key "Plain"
	Skip   int              `json:"-"`
	In     inner            `json:"in"`
	List   []inner          `json:"list"`
	Map    map[string]inner `json:"map"`
}

func TestUnmarshal(t *testing.T) {
	var c cfg
	if err := Unmarshal([]byte(` {"hidden": 64, "Plain": 1, "in": {"n": 2}, "list": [{"n": 3}], "map": {"a": {"n": 4}}} `+"\n"), &c); err != nil {
		t.Fatal(err)
	}
	if c.Hidden != 64 || c.Plain != 1 || c.In.N != 2 || c.List[0].N != 3 || c.Map["a"].N != 4 {
		t.Errorf("decoded %+v", c)
	}
	for _, bad := range []struct{ js, msg string }{
		{`{"hidden": 64, "HIDDEN": 4096}`, `"HIDDEN": keys are case-sensitive; did you mean "hidden"`},
		{`{"hidden": 64}{"hidden": 4096}`, "data after the JSON value"},
		{`{"hidden": 64} x`, "data after"},
		{`{"hiden": 64}`, `unknown key "hiden"`},
		{`{"in": {"N": 2}}`, `"N" in in: keys are case-sensitive`},
		{`{"list": [{"n": 1}, {"m": 1}]}`, `unknown key "m" in list[1]`},
		{`{"map": {"a": {"Nn": 1}}}`, `unknown key "Nn" in map.a`},
		{`{"Skip": 1}`, `unknown key "Skip"`},
		{`{"hidden": "x"}`, "cannot unmarshal"},
	} {
		var c cfg
		err := Unmarshal([]byte(bad.js), &c)
		if err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%s: %v, want %q", bad.js, err, bad.msg)
		}
	}
}
