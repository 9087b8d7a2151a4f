package chattmpl

import (
	"strings"
	"testing"
)

// TestHostileTemplates: a chat template comes from a model file, so templates that would loop for
// hours, build gigabytes, hold themselves or nest without end fail with an error (fast: the work limit
// is a few hundred milliseconds of rendering) instead of hanging or crashing the server.
func TestHostileTemplates(t *testing.T) {
	deep := strings.Repeat("(", 1000) + "1" + strings.Repeat(")", 1000)
	for name, c := range map[string]struct{ src, want string }{
		"nested loops":        {`{% for i in range(1000000) %}{% for j in range(1000000) %}x{% endfor %}{% endfor %}`, "steps"},
		"empty nested loops":  {`{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}`, "steps"},
		"string doubling ~":   {`{% set ns = namespace(s="x") %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}`, "16 MB"},
		"string doubling +":   {`{% set ns = namespace(s="x") %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}`, "16 MB"},
		"list doubling":       {`{% set ns = namespace(s=[1]) %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}`, "steps"},
		"shared tree":         {`{% set ns = namespace(a=[1]) %}{% for i in range(100) %}{% set ns.a = [ns.a, ns.a] %}{% endfor %}{{ ns.a|tojson }}`, "steps"},
		"self namespace":      {`{% set ns = namespace(a=1) %}{% set ns.a = ns %}{{ ns }}`, "nested"},
		"replace blow-up":     {`{{ ("ab"*1000)|replace("", "x"*100000) }}`, "16 MB"},
		"join blow-up":        {`{{ range(100000)|join("x"*1000) }}`, "16 MB"},
		"output":              {`{% for i in range(1000) %}{{ "x"*100000 }}{% endfor %}`, "16 MB"},
		"characters of text":  {`{% set s = "x"*10000000 %}{% for c in s %}{% endfor %}`, "steps"},
		"deep parentheses":    {"{{ " + deep + " }}", "nested"},
		"deep not":            {"{{ " + strings.Repeat("not ", 1000) + "x }}", "nested"},
		"deep minus":          {"{{ " + strings.Repeat("- ", 1000) + "1 }}", "nested"},
		"long chain":          {"{{ " + strings.Repeat("a ~ ", 10000) + "a }}", "tokens"},
		"deep blocks":         {strings.Repeat("{% if true %}", 1000) + strings.Repeat("{% endif %}", 1000), "nested"},
		"deep for blocks":     {strings.Repeat("{% for x in [1] %}", 1000) + strings.Repeat("{% endfor %}", 1000), "nested"},
		"deep list literal":   {"{{ " + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + " }}", "nested"},
		"nested list by loop": {`{% set ns = namespace(a=1) %}{% for i in range(1000) %}{% set ns.a = [ns.a] %}{% endfor %}{{ ns.a }}`, "nested"},
	} {
		tp, err := Parse(c.src)
		if err == nil {
			_, err = tp.Render(context([]map[string]string{{"role": "user", "content": "u"}}, true))
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want one mentioning %q", name, err, c.want)
		}
	}
}

// TestLongConversation: the limits leave real use alone: every built-in template renders a
// 2,000-message, 8 MB conversation (each template reads the messages list in every iteration).
func TestLongConversation(t *testing.T) {
	var msgs []map[string]string
	for i := range 2000 {
		role := []string{"user", "assistant"}[i%2]
		msgs = append(msgs, map[string]string{"role": role, "content": strings.Repeat("word ", 800)})
	}
	for name, src := range templates {
		tp, err := Parse(src)
		if err != nil {
			t.Fatal(name, err)
		}
		out, err := tp.Render(context(msgs, true))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(out) < 2000*4000 {
			t.Errorf("%s: %d bytes, want the whole conversation", name, len(out))
		}
	}
}
