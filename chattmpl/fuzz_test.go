package chattmpl

import "testing"

// FuzzParse: any template source parses or fails with an error, and whatever parses renders or fails
// with an error: no panics (a template comes from a model file).
func FuzzParse(f *testing.F) {
	for _, src := range templates {
		f.Add(src)
	}
	f.Add("{{ x[1:2:3] }}{% for a, b in c if d %}{% break %}{% else %}{% endfor %}")
	f.Fuzz(func(t *testing.T, src string) {
		tp, err := Parse(src)
		if err != nil {
			return
		}
		tp.Render(context([]map[string]string{{"role": "system", "content": "s"}, {"role": "user", "content": "u"}}, true))
	})
}
