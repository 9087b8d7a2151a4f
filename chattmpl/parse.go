package chattmpl

import (
	"fmt"
	"strconv"
	"strings"
)

// Template is a parsed chat template.
type Template struct {
	body []node
}

type node interface{}

type (
	textNode struct{ s string }
	outNode  struct{ e expr }
	ifNode   struct {
		conds  []expr
		bodies [][]node
		els    []node
	}
	forNode struct {
		vars []string
		iter expr
		cond expr // inline "if", or nil
		body []node
		els  []node
	}
	setNode struct {
		name, attr string // attr: {% set ns.attr = ... %}
		e          expr
	}
	loopCtl struct{ brk bool } // break / continue
)

// Parse parses src. Constructs outside the subset are errors naming them and their line.
func Parse(src string) (*Template, error) {
	ps, err := split(src)
	if err != nil {
		return nil, err
	}
	p := &parser{pieces: ps}
	body, end, err := p.block()
	if err != nil {
		return nil, err
	}
	if end != "" {
		return nil, fmt.Errorf("line %d: {%% %s %%} without its opening statement", p.line, end)
	}
	return &Template{body: body}, nil
}

type parser struct {
	pieces []piece
	pos    int
	line   int
	depth  int // for loops around (break/continue need one)
	nest   int // blocks around (if/for), bounded by maxNest
}

// Limits on what a template (which comes from a model file) may nest, so that parsing and rendering
// recurse a bounded depth: maxNest blocks inside each other, maxTokens tokens in one tag (which also
// bounds the depth of its expression tree: left-deep chains like a ~ a ~ ... are built by loops), and
// maxNest parentheses, brackets or prefix operators inside each other.
const (
	maxNest   = 64
	maxTokens = 4096
)

// block parses nodes until a statement that ends or continues a block (endif, elif, else, endfor,
// endgeneration) and returns that statement's source ("" at the end of the template).
func (p *parser) block() ([]node, string, error) {
	var out []node
	for p.pos < len(p.pieces) {
		pc := p.pieces[p.pos]
		p.pos++
		p.line = pc.line
		switch pc.kind {
		case 't':
			out = append(out, textNode{pc.src})
		case 'e':
			e, err := p.expression(pc.src)
			if err != nil {
				return nil, "", err
			}
			out = append(out, outNode{e})
		case 's':
			word, rest, _ := strings.Cut(pc.src, " ")
			rest = strings.TrimSpace(rest)
			switch word {
			case "endif", "elif", "else", "endfor", "endgeneration":
				return out, pc.src, nil
			case "if":
				n, err := p.ifStmt(rest)
				if err != nil {
					return nil, "", err
				}
				out = append(out, n)
			case "for":
				n, err := p.forStmt(rest)
				if err != nil {
					return nil, "", err
				}
				out = append(out, n)
			case "set":
				n, err := p.setStmt(rest)
				if err != nil {
					return nil, "", err
				}
				out = append(out, n)
			case "generation": // transformers' marker of assistant text: renders its body
				body, end, err := p.block()
				if err != nil {
					return nil, "", err
				}
				if end != "endgeneration" {
					return nil, "", p.errf("{%% generation %%} closed by %q", end)
				}
				out = append(out, body...)
			case "break", "continue":
				if p.depth == 0 || rest != "" {
					return nil, "", p.errf("{%% %s %%} outside a for loop", pc.src)
				}
				out = append(out, loopCtl{word == "break"})
			default:
				return nil, "", p.errf("unsupported statement {%% %s %%} (chat templates may use if, for, set, generation)", word)
			}
		}
	}
	return out, "", nil
}

func (p *parser) errf(format string, a ...any) error {
	return fmt.Errorf("line %d: "+format, append([]any{p.line}, a...)...)
}

func (p *parser) ifStmt(cond string) (node, error) {
	if p.nest++; p.nest > maxNest {
		return nil, p.errf("blocks nested more than %d deep", maxNest)
	}
	defer func() { p.nest-- }()
	n := ifNode{}
	for {
		c, err := p.expression(cond)
		if err != nil {
			return nil, err
		}
		body, end, err := p.block()
		if err != nil {
			return nil, err
		}
		n.conds, n.bodies = append(n.conds, c), append(n.bodies, body)
		word, rest, _ := strings.Cut(end, " ")
		switch word {
		case "elif":
			cond = rest
			continue
		case "else":
			els, end, err := p.block()
			if err != nil {
				return nil, err
			}
			if end != "endif" {
				return nil, p.errf("{%% if %%} ... {%% else %%} closed by {%% %s %%}", end)
			}
			n.els = els
			return n, nil
		case "endif":
			return n, nil
		}
		return nil, p.errf("{%% if %%} not closed (found %q)", end)
	}
}

func (p *parser) forStmt(src string) (node, error) {
	if p.nest++; p.nest > maxNest {
		return nil, p.errf("blocks nested more than %d deep", maxNest)
	}
	defer func() { p.nest-- }()
	toks, err := lex(src)
	if err != nil {
		return nil, p.errf("%v", err)
	}
	if len(toks) > maxTokens {
		return nil, p.errf("for: %d tokens (limit %d)", len(toks), maxTokens)
	}
	n := forNode{}
	i := 0
	for ; i < len(toks); i++ {
		if toks[i].kind != 'n' || toks[i].s == "in" {
			return nil, p.errf("for: want a variable name, found %q", toks[i].s)
		}
		n.vars = append(n.vars, toks[i].s)
		if i+1 < len(toks) && toks[i+1].s == "," {
			i++
			continue
		}
		i++
		break
	}
	if i >= len(toks) || toks[i].s != "in" {
		return nil, p.errf("for: want 'in' in %q", src)
	}
	e := &exprParser{toks: toks[i+1:], p: p}
	if n.iter, err = e.or(); err != nil { // no ternary here: "if" starts the loop's filter
		return nil, err
	}
	if e.peek().kind == 'n' && e.peek().s == "if" {
		e.next()
		if n.cond, err = e.ternary(); err != nil {
			return nil, err
		}
	}
	if e.peek().kind == 'n' && e.peek().s == "recursive" {
		return nil, p.errf("unsupported: recursive for loops")
	}
	if e.pos < len(e.toks) {
		return nil, p.errf("for: unexpected %q", e.toks[e.pos].s)
	}
	p.depth++
	body, end, err := p.block()
	p.depth--
	if err != nil {
		return nil, err
	}
	if end == "else" {
		if n.els, end, err = p.block(); err != nil {
			return nil, err
		}
	}
	if end != "endfor" {
		return nil, p.errf("{%% for %%} not closed (found %q)", end)
	}
	n.body = body
	return n, nil
}

func (p *parser) setStmt(src string) (node, error) {
	lhs, rhs, ok := strings.Cut(src, "=")
	if !ok || strings.HasPrefix(rhs, "=") {
		return nil, p.errf("unsupported: {%% set %s %%} (block set; want set name = expression)", src)
	}
	lhs = strings.TrimSpace(lhs)
	n := setNode{name: lhs}
	if a, b, ok := strings.Cut(lhs, "."); ok {
		n.name, n.attr = a, b
	}
	if !isName(n.name) || n.attr != "" && !isName(n.attr) {
		return nil, p.errf("unsupported set target %q", lhs)
	}
	e, err := p.expression(rhs)
	if err != nil {
		return nil, err
	}
	n.e = e
	return n, nil
}

func isName(s string) bool {
	toks, err := lex(s)
	return err == nil && len(toks) == 1 && toks[0].kind == 'n'
}

// expression parses a whole tag's inside as one expression.
func (p *parser) expression(src string) (expr, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, p.errf("%v", err)
	}
	if len(toks) > maxTokens {
		return nil, p.errf("expression of %d tokens (limit %d)", len(toks), maxTokens)
	}
	e := &exprParser{toks: toks, p: p}
	x, err := e.ternary()
	if err != nil {
		return nil, err
	}
	if e.pos < len(toks) {
		return nil, p.errf("unexpected %q in %q", toks[e.pos].s, src)
	}
	return x, nil
}

type exprParser struct {
	toks  []token
	pos   int
	p     *parser
	depth int // recursive descents in progress (enter)
}

// enter counts one level of recursion (a parenthesis, a bracket, a prefix operator) and fails past
// maxNest; the caller defers e.depth--.
func (e *exprParser) enter() error {
	if e.depth++; e.depth > maxNest {
		return e.p.errf("expression nested more than %d deep", maxNest)
	}
	return nil
}

func (e *exprParser) peek() token {
	if e.pos < len(e.toks) {
		return e.toks[e.pos]
	}
	return token{}
}

func (e *exprParser) next() token { t := e.peek(); e.pos++; return t }

func (e *exprParser) is(kind byte, s string) bool {
	t := e.peek()
	return t.kind == kind && t.s == s
}

func (e *exprParser) expect(s string) error {
	if t := e.next(); t.kind != 'o' || t.s != s {
		return e.p.errf("want %q, found %q", s, t.s)
	}
	return nil
}

func (e *exprParser) ternary() (expr, error) {
	defer func() { e.depth-- }()
	if err := e.enter(); err != nil {
		return nil, err
	}
	x, err := e.or()
	if err != nil {
		return nil, err
	}
	if e.is('n', "if") {
		e.next()
		c, err := e.or()
		if err != nil {
			return nil, err
		}
		var y expr = lit{undefined{}}
		if e.is('n', "else") {
			e.next()
			if y, err = e.ternary(); err != nil {
				return nil, err
			}
		}
		return condExpr{c, x, y}, nil
	}
	return x, nil
}

func (e *exprParser) or() (expr, error) {
	x, err := e.and()
	for err == nil && e.is('n', "or") {
		e.next()
		var y expr
		if y, err = e.and(); err == nil {
			x = binExpr{"or", x, y}
		}
	}
	return x, err
}

func (e *exprParser) and() (expr, error) {
	x, err := e.not()
	for err == nil && e.is('n', "and") {
		e.next()
		var y expr
		if y, err = e.not(); err == nil {
			x = binExpr{"and", x, y}
		}
	}
	return x, err
}

func (e *exprParser) not() (expr, error) {
	if e.is('n', "not") {
		e.next()
		defer func() { e.depth-- }()
		if err := e.enter(); err != nil {
			return nil, err
		}
		x, err := e.not()
		return unaryExpr{"not", x}, err
	}
	return e.compare()
}

func (e *exprParser) compare() (expr, error) {
	x, err := e.math1()
	for err == nil {
		t := e.peek()
		op := ""
		switch {
		case t.kind == 'o' && (t.s == "==" || t.s == "!=" || t.s == "<" || t.s == ">" || t.s == "<=" || t.s == ">="):
			op = t.s
			e.next()
		case t.kind == 'n' && t.s == "in":
			op = "in"
			e.next()
		case t.kind == 'n' && t.s == "not" && e.pos+1 < len(e.toks) && e.toks[e.pos+1].s == "in":
			op = "not in"
			e.pos += 2
		default:
			return x, nil
		}
		var y expr
		if y, err = e.math1(); err == nil {
			x = binExpr{op, x, y}
		}
	}
	return x, err
}

func (e *exprParser) math1() (expr, error) {
	x, err := e.concat()
	for err == nil && (e.is('o', "+") || e.is('o', "-")) {
		op := e.next().s
		var y expr
		if y, err = e.concat(); err == nil {
			x = binExpr{op, x, y}
		}
	}
	return x, err
}

func (e *exprParser) concat() (expr, error) {
	x, err := e.math2()
	for err == nil && e.is('o', "~") {
		e.next()
		var y expr
		if y, err = e.math2(); err == nil {
			x = binExpr{"~", x, y}
		}
	}
	return x, err
}

func (e *exprParser) math2() (expr, error) {
	x, err := e.unary()
	for err == nil && (e.is('o', "*") || e.is('o', "/") || e.is('o', "//") || e.is('o', "%")) {
		op := e.next().s
		var y expr
		if y, err = e.unary(); err == nil {
			x = binExpr{op, x, y}
		}
	}
	return x, err
}

func (e *exprParser) unary() (expr, error) {
	if e.is('o', "-") || e.is('o', "+") {
		op := e.next().s
		defer func() { e.depth-- }()
		if err := e.enter(); err != nil {
			return nil, err
		}
		x, err := e.unary()
		return unaryExpr{op, x}, err
	}
	x, err := e.primary()
	if err != nil {
		return nil, err
	}
	if x, err = e.postfix(x); err != nil {
		return nil, err
	}
	// filters and tests bind tighter than every binary operator, as in Jinja
	for {
		switch {
		case e.is('o', "|"):
			e.next()
			t := e.next()
			if t.kind != 'n' {
				return nil, e.p.errf("want a filter name after |, found %q", t.s)
			}
			if !filters[t.s] {
				return nil, e.p.errf("unsupported filter %q", t.s)
			}
			f := filterExpr{x: x, name: t.s}
			if e.is('o', "(") {
				e.next()
				if f.args, f.kw, err = e.args(); err != nil {
					return nil, err
				}
			}
			if x, err = e.postfix(f); err != nil {
				return nil, err
			}
		case e.is('n', "is"):
			e.next()
			neg := false
			if e.is('n', "not") {
				e.next()
				neg = true
			}
			t := e.next()
			if t.kind != 'n' || !tests[t.s] {
				return nil, e.p.errf("unsupported test \"is %s\"", t.s)
			}
			te := testExpr{x: x, name: t.s, neg: neg}
			if e.is('o', "(") {
				e.next()
				if te.args, _, err = e.args(); err != nil {
					return nil, err
				}
			} else if k := e.peek().kind; t.s != "defined" && t.s != "undefined" && (k == 's' || k == 'i' || k == 'f') {
				te.args = []expr{lit{literal(e.next())}}
			}
			x = te
		default:
			return x, nil
		}
	}
}

// args parses call arguments after "(" through ")": positional, then name=value.
func (e *exprParser) args() ([]expr, []kwArg, error) {
	var args []expr
	var kw []kwArg
	for !e.is('o', ")") {
		if e.peek().kind == 'n' && e.pos+1 < len(e.toks) && e.toks[e.pos+1].s == "=" {
			name := e.next().s
			e.next()
			v, err := e.ternary()
			if err != nil {
				return nil, nil, err
			}
			kw = append(kw, kwArg{name, v})
		} else {
			if len(kw) > 0 {
				return nil, nil, e.p.errf("a positional argument after keyword arguments")
			}
			v, err := e.ternary()
			if err != nil {
				return nil, nil, err
			}
			args = append(args, v)
		}
		if !e.is('o', ",") {
			break
		}
		e.next()
	}
	return args, kw, e.expect(")")
}

func literal(t token) any {
	switch t.kind {
	case 's':
		return t.s
	case 'i':
		v, _ := strconv.ParseInt(t.s, 10, 64)
		return v
	case 'f':
		v, _ := strconv.ParseFloat(t.s, 64)
		return v
	}
	return nil
}

func (e *exprParser) primary() (expr, error) {
	t := e.next()
	switch t.kind {
	case 's':
		s := t.s
		for e.peek().kind == 's' { // adjacent literals concatenate
			s += e.next().s
		}
		return lit{s}, nil
	case 'i', 'f':
		return lit{literal(t)}, nil
	case 'n':
		switch t.s {
		case "true", "True":
			return lit{true}, nil
		case "false", "False":
			return lit{false}, nil
		case "none", "None":
			return lit{nil}, nil
		}
		return nameExpr{t.s}, nil
	case 'o':
		switch t.s {
		case "(":
			x, err := e.ternary()
			if err != nil {
				return nil, err
			}
			if e.is('o', ",") {
				return nil, e.p.errf("unsupported: tuples")
			}
			return x, e.expect(")")
		case "[":
			var l listExpr
			for !e.is('o', "]") {
				x, err := e.ternary()
				if err != nil {
					return nil, err
				}
				l.items = append(l.items, x)
				if !e.is('o', ",") {
					break
				}
				e.next()
			}
			return l, e.expect("]")
		case "{":
			var d dictExpr
			for !e.is('o', "}") {
				k, err := e.ternary()
				if err != nil {
					return nil, err
				}
				if err := e.expect(":"); err != nil {
					return nil, err
				}
				v, err := e.ternary()
				if err != nil {
					return nil, err
				}
				d.keys, d.vals = append(d.keys, k), append(d.vals, v)
				if !e.is('o', ",") {
					break
				}
				e.next()
			}
			return d, e.expect("}")
		}
	case 0:
		return nil, e.p.errf("expression ends too early")
	}
	return nil, e.p.errf("unexpected %q", t.s)
}

func (e *exprParser) postfix(x expr) (expr, error) {
	for {
		switch {
		case e.is('o', "."):
			e.next()
			t := e.next()
			if t.kind != 'n' {
				return nil, e.p.errf("want an attribute name after '.', found %q", t.s)
			}
			if e.is('o', "(") {
				if !methods[t.s] {
					return nil, e.p.errf("unsupported method .%s()", t.s)
				}
				e.next()
				args, kw, err := e.args()
				if err != nil {
					return nil, err
				}
				if len(kw) > 0 {
					return nil, e.p.errf("unsupported: keyword arguments to .%s()", t.s)
				}
				x = methodExpr{x, t.s, args}
				continue
			}
			x = attrExpr{x, t.s}
		case e.is('o', "["):
			e.next()
			var parts [3]expr
			colons := 0
			for !e.is('o', "]") {
				if e.is('o', ":") {
					e.next()
					if colons++; colons > 2 {
						return nil, e.p.errf("a slice with more than two ':'")
					}
					continue
				}
				v, err := e.ternary()
				if err != nil {
					return nil, err
				}
				parts[colons] = v
			}
			e.next()
			if colons == 0 {
				if parts[0] == nil {
					return nil, e.p.errf("empty subscript []")
				}
				x = indexExpr{x, parts[0]}
			} else {
				x = sliceExpr{x, parts[0], parts[1], parts[2]}
			}
		case e.is('o', "("):
			n, ok := x.(nameExpr)
			if !ok || !functions[n.n] {
				return nil, e.p.errf("unsupported call of %s", describe(x))
			}
			e.next()
			args, kw, err := e.args()
			if err != nil {
				return nil, err
			}
			x = callExpr{n.n, args, kw}
		default:
			return x, nil
		}
	}
}

func describe(x expr) string {
	if n, ok := x.(nameExpr); ok {
		return n.n + "()"
	}
	return "an expression"
}

// The supported filters, tests, functions and methods: anything else is refused by Parse.
var (
	filters = set("trim", "length", "count", "tojson", "upper", "lower", "capitalize", "title", "default", "d",
		"first", "last", "join", "string", "int", "float", "list", "replace", "reverse", "items", "abs", "safe")
	tests     = set("defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "iterable", "sequence", "boolean", "true", "false", "odd", "even", "divisibleby", "eq", "equalto", "in")
	functions = set("raise_exception", "namespace", "range")
	methods   = set("strip", "lstrip", "rstrip", "upper", "lower", "title", "capitalize", "startswith", "endswith", "split", "replace", "items", "keys", "values", "get")
)

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}
