package chattmpl

import (
	"errors"
	"fmt"
	"math"

	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Values are nil (none), undefined, bool, int64, float64, string, []any and *Map.
type undefined struct{}

// Map is an ordered mapping (a JSON object, a message, a namespace).
type Map struct {
	Keys []string
	M    map[string]any
}

// NewMap returns a Map of the pairs k1, v1, k2, v2, ... in order.
func NewMap(kv ...any) *Map {
	m := &Map{M: map[string]any{}}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Set(kv[i].(string), kv[i+1])
	}
	return m
}

// Set adds or replaces key.
func (m *Map) Set(k string, v any) {
	if _, ok := m.M[k]; !ok {
		m.Keys = append(m.Keys, k)
	}
	m.M[k] = v
}

// Exception is the error raise_exception raises: the template's own message.
type Exception struct{ Msg string }

func (e *Exception) Error() string { return e.Msg }

type expr interface{}

type (
	lit      struct{ v any }
	nameExpr struct{ n string }
	attrExpr struct {
		x expr
		n string
	}
	indexExpr  struct{ x, i expr }
	sliceExpr  struct{ x, a, b, c expr }
	methodExpr struct {
		x    expr
		n    string
		args []expr
	}
	callExpr struct {
		fn   string
		args []expr
		kw   []kwArg
	}
	kwArg struct {
		name string
		v    expr
	}
	filterExpr struct {
		x    expr
		name string
		args []expr
		kw   []kwArg
	}
	testExpr struct {
		x    expr
		name string
		neg  bool
		args []expr
	}
	binExpr struct {
		op   string
		a, b expr
	}
	unaryExpr struct {
		op string
		x  expr
	}
	condExpr struct{ c, a, b expr }
	listExpr struct{ items []expr }
	dictExpr struct{ keys, vals []expr }
)

// Render runs the template with vars as its globals (messages, bos_token, eos_token,
// add_generation_prompt, ...).
func (t *Template) Render(vars map[string]any) (string, error) {
	r := &renderer{scopes: []map[string]any{vars, {}}}
	if err := r.nodes(t.body); err != nil {
		return "", err
	}
	return r.out.String(), nil
}

type renderer struct {
	out    strings.Builder
	scopes []map[string]any
	work   int // work units spent (charge)
}

// A template comes from a model file, so rendering is bounded like any other hostile input: every
// node, loop iteration and computed value costs work units (a value one per list or dict entry and
// one per 16 bytes of its strings, counted over the whole tree so shared sublists count each time),
// at most maxWork per render; one value holds at most maxStr bytes of strings and nests at most
// maxDepth lists/dicts (so printing or comparing it recurses a bounded depth and cannot loop on a
// namespace that contains itself); the output is at most maxStr bytes.
const (
	maxWork  = 1 << 23
	maxStr   = 16 << 20
	maxDepth = 64
)

var errWork = fmt.Errorf("template needs more than %d steps to render", maxWork)

// charge spends n work units.
func (r *renderer) charge(n int) error {
	if r.work += n; r.work > maxWork {
		return errWork
	}
	return nil
}

// chargeValue spends v's weight (see maxWork) and checks its size and depth, walking at most the
// units left: a huge or cyclic value stops the walk early.
func (r *renderer) chargeValue(v any) error {
	var bytes int
	var walk func(v any, depth int) error
	walk = func(v any, depth int) error {
		if depth > maxDepth {
			return fmt.Errorf("template value nested more than %d deep", maxDepth)
		}
		if err := r.charge(1); err != nil {
			return err
		}
		switch x := v.(type) {
		case string:
			if bytes += len(x); bytes > maxStr {
				return fmt.Errorf("template value over %d MB of text", maxStr>>20)
			}
			return r.charge(len(x) / 16)
		case []any:
			for _, it := range x {
				if err := walk(it, depth+1); err != nil {
					return err
				}
			}
		case *Map:
			for _, k := range x.Keys {
				if err := walk(k, depth+1); err != nil {
					return err
				}
				if err := walk(x.M[k], depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(v, 0)
}

// checkLen fails when a string about to be built would exceed maxStr bytes.
func checkLen(n int) error {
	if n > maxStr || n < 0 {
		return errLong
	}
	return nil
}

var errLong = fmt.Errorf("template string over %d MB", maxStr>>20)

type loopSignal struct{ brk bool }

func (loopSignal) Error() string { return "loop control" }

func (r *renderer) lookup(n string) any {
	for i := len(r.scopes) - 1; i >= 0; i-- {
		if v, ok := r.scopes[i][n]; ok {
			return v
		}
	}
	return undefined{}
}

func (r *renderer) nodes(ns []node) error {
	for _, n := range ns {
		if err := r.node(n); err != nil {
			return err
		}
	}
	return nil
}

func (r *renderer) node(n node) error {
	if err := r.charge(1); err != nil {
		return err
	}
	switch n := n.(type) {
	case textNode:
		if err := checkLen(r.out.Len() + len(n.s)); err != nil {
			return err
		}
		r.out.WriteString(n.s)
	case outNode:
		v, err := r.eval(n.e)
		if err != nil {
			return err
		}
		t := str(v)
		if err := checkLen(r.out.Len() + len(t)); err != nil {
			return err
		}
		r.out.WriteString(t)
	case ifNode:
		for i, c := range n.conds {
			v, err := r.eval(c)
			if err != nil {
				return err
			}
			if truth(v) {
				return r.nodes(n.bodies[i])
			}
		}
		return r.nodes(n.els)
	case setNode:
		v, err := r.eval(n.e)
		if err != nil {
			return err
		}
		if n.attr == "" {
			r.scopes[len(r.scopes)-1][n.name] = v
			return nil
		}
		ns, ok := r.lookup(n.name).(*Map)
		if !ok {
			return fmt.Errorf("set %s.%s: %s is not a namespace", n.name, n.attr, n.name)
		}
		ns.Set(n.attr, v)
		return r.chargeValue(ns) // after the set: a namespace that now holds itself fails here
	case forNode:
		return r.forLoop(n)
	case loopCtl:
		return loopSignal{n.brk}
	}
	return nil
}

func (r *renderer) forLoop(n forNode) error {
	it, err := r.eval(n.iter)
	if err != nil {
		return err
	}
	var items []any
	switch v := it.(type) {
	case []any:
		items = v
	case *Map:
		for _, k := range v.Keys {
			items = append(items, k)
		}
	case string:
		if err := r.charge(len(v)); err != nil { // before making a list of its characters
			return err
		}
		items = chars(v)
	case undefined, nil:
	default:
		return fmt.Errorf("for: %s is not iterable", typeName(it))
	}
	bind := func(scope map[string]any, item any) error {
		if len(n.vars) == 1 {
			scope[n.vars[0]] = item
			return nil
		}
		l, ok := item.([]any)
		if !ok || len(l) != len(n.vars) {
			return fmt.Errorf("for %s: cannot unpack %s", strings.Join(n.vars, ", "), typeName(item))
		}
		for i, name := range n.vars {
			scope[name] = l[i]
		}
		return nil
	}
	if n.cond != nil { // the inline filter runs before loop.* is known
		var kept []any
		for _, item := range items {
			scope := map[string]any{}
			if err := bind(scope, item); err != nil {
				return err
			}
			r.scopes = append(r.scopes, scope)
			v, err := r.eval(n.cond)
			r.scopes = r.scopes[:len(r.scopes)-1]
			if err != nil {
				return err
			}
			if truth(v) {
				kept = append(kept, item)
			}
		}
		items = kept
	}
	if len(items) == 0 {
		return r.nodes(n.els)
	}
	for i, item := range items {
		if err := r.charge(64); err != nil { // the loop variable's dict and scope
			return err
		}
		L := len(items)
		loop := NewMap("index", int64(i+1), "index0", int64(i), "first", i == 0, "last", i == L-1, "length", int64(L),
			"revindex", int64(L-i), "revindex0", int64(L-i-1))
		if i > 0 {
			loop.Set("previtem", items[i-1])
		}
		if i+1 < L {
			loop.Set("nextitem", items[i+1])
		}
		scope := map[string]any{"loop": loop}
		if err := bind(scope, item); err != nil {
			return err
		}
		r.scopes = append(r.scopes, scope)
		err := r.nodes(n.body)
		r.scopes = r.scopes[:len(r.scopes)-1]
		var sig loopSignal
		if errors.As(err, &sig) {
			if sig.brk {
				break
			}
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// eval evaluates e and charges the value it computed (chargeValue), so no value the template makes
// escapes the limits. Names, attributes, items and conditionals only pick an existing value: they are
// not charged again (a template that reads a long conversation in every iteration stays cheap).
func (r *renderer) eval(e expr) (any, error) {
	v, err := r.eval1(e)
	if err != nil {
		return nil, err
	}
	switch e.(type) {
	case lit, nameExpr, attrExpr, indexExpr, condExpr:
		return v, nil
	}
	if err := r.chargeValue(v); err != nil {
		return nil, err
	}
	return v, nil
}

func (r *renderer) eval1(e expr) (any, error) {
	switch e := e.(type) {
	case lit:
		return e.v, nil
	case nameExpr:
		return r.lookup(e.n), nil
	case attrExpr:
		x, err := r.eval(e.x)
		if err != nil {
			return nil, err
		}
		return getItem(x, e.n), nil
	case indexExpr:
		x, err := r.eval(e.x)
		if err != nil {
			return nil, err
		}
		i, err := r.eval(e.i)
		if err != nil {
			return nil, err
		}
		return index(x, i)
	case sliceExpr:
		return r.slice(e)
	case listExpr:
		l := []any{}
		for _, it := range e.items {
			v, err := r.eval(it)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case dictExpr:
		m := NewMap()
		for i := range e.keys {
			k, err := r.eval(e.keys[i])
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("dict keys must be strings, not %s", typeName(k))
			}
			v, err := r.eval(e.vals[i])
			if err != nil {
				return nil, err
			}
			m.Set(ks, v)
		}
		return m, nil
	case condExpr:
		c, err := r.eval(e.c)
		if err != nil {
			return nil, err
		}
		if truth(c) {
			return r.eval(e.a)
		}
		return r.eval(e.b)
	case unaryExpr:
		x, err := r.eval(e.x)
		if err != nil {
			return nil, err
		}
		switch e.op {
		case "not":
			return !truth(x), nil
		case "-":
			switch v := x.(type) {
			case int64:
				return -v, nil
			case float64:
				return -v, nil
			}
			return nil, fmt.Errorf("cannot negate %s", typeName(x))
		}
		return x, nil
	case binExpr:
		return r.binary(e)
	case filterExpr:
		return r.filter(e)
	case testExpr:
		return r.test(e)
	case callExpr:
		return r.call(e)
	case methodExpr:
		return r.method(e)
	}
	return nil, fmt.Errorf("internal: unknown expression %T", e)
}

func (r *renderer) evalAll(es []expr) ([]any, error) {
	out := make([]any, len(es))
	for i, x := range es {
		v, err := r.eval(x)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (r *renderer) slice(e sliceExpr) (any, error) {
	x, err := r.eval(e.x)
	if err != nil {
		return nil, err
	}
	var bounds [3]*int64
	for i, p := range []expr{e.a, e.b, e.c} {
		if p == nil {
			continue
		}
		v, err := r.eval(p)
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("slice bounds must be integers, not %s", typeName(v))
		}
		bounds[i] = &n
	}
	var items []any
	_, isStr := x.(string)
	switch v := x.(type) {
	case []any:
		items = v
	case string:
		items = chars(v)
	default:
		return nil, fmt.Errorf("cannot slice %s", typeName(x))
	}
	L := int64(len(items))
	step := int64(1)
	if bounds[2] != nil {
		step = *bounds[2]
	}
	if step == 0 {
		return nil, fmt.Errorf("slice step cannot be zero")
	}
	clamp := func(p *int64, def int64, lo, hi int64) int64 {
		if p == nil {
			return def
		}
		v := *p
		if v < 0 {
			v += L
		}
		return min(max(v, lo), hi)
	}
	var out []any
	if step > 0 {
		for i := clamp(bounds[0], 0, 0, L); i < clamp(bounds[1], L, 0, L); i += step {
			out = append(out, items[i])
		}
	} else {
		for i := clamp(bounds[0], L-1, -1, L-1); i > clamp(bounds[1], -1, -1, L-1); i += step {
			out = append(out, items[i])
		}
	}
	if isStr {
		var b strings.Builder
		for _, c := range out {
			b.WriteString(c.(string))
		}
		return b.String(), nil
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

func getItem(x any, k string) any {
	if m, ok := x.(*Map); ok {
		if v, ok := m.M[k]; ok {
			return v
		}
	}
	return undefined{}
}

func index(x, i any) (any, error) {
	switch v := x.(type) {
	case *Map:
		k, ok := i.(string)
		if !ok {
			return undefined{}, nil
		}
		return getItem(v, k), nil
	case []any:
		n, ok := i.(int64)
		if !ok {
			return nil, fmt.Errorf("list indices must be integers, not %s", typeName(i))
		}
		if n < 0 {
			n += int64(len(v))
		}
		if n < 0 || n >= int64(len(v)) {
			return undefined{}, nil
		}
		return v[n], nil
	case string:
		n, ok := i.(int64)
		if !ok {
			return nil, fmt.Errorf("string indices must be integers, not %s", typeName(i))
		}
		rs := []rune(v)
		if n < 0 {
			n += int64(len(rs))
		}
		if n < 0 || n >= int64(len(rs)) {
			return undefined{}, nil
		}
		return string(rs[n]), nil
	case undefined:
		return nil, fmt.Errorf("cannot index an undefined value")
	}
	return nil, fmt.Errorf("cannot index %s", typeName(x))
}

func (r *renderer) binary(e binExpr) (any, error) {
	a, err := r.eval(e.a)
	if err != nil {
		return nil, err
	}
	switch e.op { // short-circuit: Python's and/or return an operand
	case "and":
		if !truth(a) {
			return a, nil
		}
		return r.eval(e.b)
	case "or":
		if truth(a) {
			return a, nil
		}
		return r.eval(e.b)
	}
	b, err := r.eval(e.b)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "~":
		as, bs := str(a), str(b)
		if err := checkLen(len(as) + len(bs)); err != nil {
			return nil, err
		}
		return as + bs, nil
	case "==":
		return equal(a, b), nil
	case "!=":
		return !equal(a, b), nil
	case "in", "not in":
		in, err := contains(b, a)
		if err != nil {
			return nil, err
		}
		return in == (e.op == "in"), nil
	case "<", ">", "<=", ">=":
		c, err := compare(a, b)
		if err != nil {
			return nil, err
		}
		return map[string]bool{"<": c < 0, ">": c > 0, "<=": c <= 0, ">=": c >= 0}[e.op], nil
	case "+":
		switch av := a.(type) {
		case string:
			if bv, ok := b.(string); ok {
				if err := checkLen(len(av) + len(bv)); err != nil {
					return nil, err
				}
				return av + bv, nil
			}
		case []any:
			if bv, ok := b.([]any); ok {
				return append(append([]any{}, av...), bv...), nil
			}
		}
	}
	return arith(e.op, a, b)
}

func arith(op string, a, b any) (any, error) {
	ai, aInt := a.(int64)
	bi, bInt := b.(int64)
	if aInt && bInt {
		switch op {
		case "+":
			return ai + bi, nil
		case "-":
			return ai - bi, nil
		case "*":
			return ai * bi, nil
		case "/":
			if bi == 0 {
				return nil, fmt.Errorf("division by zero")
			}
			return float64(ai) / float64(bi), nil
		case "//", "%":
			if bi == 0 {
				return nil, fmt.Errorf("division by zero")
			}
			q, m := ai/bi, ai%bi
			if m != 0 && (m < 0) != (bi < 0) { // Python floors
				q, m = q-1, m+bi
			}
			if op == "//" {
				return q, nil
			}
			return m, nil
		}
	}
	af, aNum := num(a)
	bf, bNum := num(b)
	if !aNum || !bNum {
		if s, ok := a.(string); ok && op == "*" && bInt {
			if bi > 0 && int64(len(s))*bi > 1<<24 {
				return nil, fmt.Errorf("string repetition over 16 MB")
			}
			return strings.Repeat(s, int(max(bi, 0))), nil
		}
		return nil, fmt.Errorf("unsupported operand types for %s: %s and %s", op, typeName(a), typeName(b))
	}
	switch op {
	case "+":
		return af + bf, nil
	case "-":
		return af - bf, nil
	case "*":
		return af * bf, nil
	case "/":
		return af / bf, nil
	case "//":
		return math.Floor(af / bf), nil
	case "%":
		return af - bf*math.Floor(af/bf), nil
	}
	return nil, fmt.Errorf("unsupported operator %s", op)
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func equal(a, b any) bool {
	if af, ok := num(a); ok {
		if bf, ok := num(b); ok {
			_, ab := a.(bool)
			_, bb := b.(bool)
			return ab == bb && af == bf || !ab && !bb && af == bf
		}
		return false
	}
	switch av := a.(type) {
	case nil:
		return b == nil
	case undefined:
		_, ok := b.(undefined)
		return ok
	case string:
		bv, ok := b.(string)
		return ok && av == bv
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !equal(av[i], bv[i]) {
				return false
			}
		}
		return true
	case *Map:
		bv, ok := b.(*Map)
		if !ok || len(av.Keys) != len(bv.Keys) {
			return false
		}
		for k, v := range av.M {
			w, ok := bv.M[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

func compare(a, b any) (int, error) {
	if af, ok := num(a); ok {
		if bf, ok := num(b); ok {
			switch {
			case af < bf:
				return -1, nil
			case af > bf:
				return 1, nil
			}
			return 0, nil
		}
	}
	if as, ok := a.(string); ok {
		if bs, ok := b.(string); ok {
			return strings.Compare(as, bs), nil
		}
	}
	return 0, fmt.Errorf("cannot compare %s and %s", typeName(a), typeName(b))
}

func contains(container, x any) (bool, error) {
	switch c := container.(type) {
	case string:
		s, ok := x.(string)
		if !ok {
			return false, fmt.Errorf("'in <string>' needs a string, not %s", typeName(x))
		}
		return strings.Contains(c, s), nil
	case []any:
		for _, v := range c {
			if equal(v, x) {
				return true, nil
			}
		}
		return false, nil
	case *Map:
		s, ok := x.(string)
		if !ok {
			return false, nil
		}
		_, in := c.M[s]
		return in, nil
	case undefined, nil:
		return false, nil
	}
	return false, fmt.Errorf("'in' needs a string, list or mapping, not %s", typeName(container))
}

// truth is Python's truthiness.
func truth(v any) bool {
	switch x := v.(type) {
	case nil, undefined:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case *Map:
		return len(x.Keys) > 0
	}
	return true
}

// str is how a value prints in output and with ~ (Python's str; undefined prints as nothing).
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case undefined:
		return ""
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return pyFloat(x)
	case string:
		return x
	case []any, *Map:
		return pyRepr(v)
	}
	return fmt.Sprint(v)
}

func pyFloat(x float64) string {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return map[bool]string{true: "inf", false: "-inf"}[x > 0]
	}
	if x == math.Trunc(x) && math.Abs(x) < 1e16 {
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// chars is a string as the list of its characters (what iterating, slicing or listing it sees).
func chars(s string) []any {
	var out []any
	for _, c := range s {
		out = append(out, string(c))
	}
	return out
}

// pyRepr prints lists and dicts as Python does ({'a': 1, 'b': [True, None]}).
func pyRepr(v any) string {
	switch x := v.(type) {
	case string:
		return "'" + strings.ReplaceAll(strings.ReplaceAll(x, `\`, `\\`), "'", `\'`) + "'"
	case []any:
		parts := make([]string, len(x))
		for i, it := range x {
			parts[i] = pyRepr(it)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *Map:
		parts := make([]string, len(x.Keys))
		for i, k := range x.Keys {
			parts[i] = pyRepr(k) + ": " + pyRepr(x.M[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return str(v)
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "none"
	case undefined:
		return "undefined"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case string:
		return "a string"
	case []any:
		return "a list"
	case *Map:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

func length(v any) (int64, error) {
	switch x := v.(type) {
	case string:
		return int64(utf8.RuneCountInString(x)), nil
	case []any:
		return int64(len(x)), nil
	case *Map:
		return int64(len(x.Keys)), nil
	case undefined:
		return 0, nil
	}
	return 0, fmt.Errorf("%s has no length", typeName(v))
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + strings.ToLower(s[n:])
}

func title(s string) string {
	var b strings.Builder
	prev := ' '
	for _, c := range s {
		if unicode.IsLetter(prev) || unicode.IsDigit(prev) || prev == '\'' {
			b.WriteRune(unicode.ToLower(c))
		} else {
			b.WriteRune(unicode.ToUpper(c))
		}
		prev = c
	}
	return b.String()
}

func (r *renderer) filter(e filterExpr) (any, error) {
	x, err := r.eval(e.x)
	if err != nil {
		return nil, err
	}
	args, err := r.evalAll(e.args)
	if err != nil {
		return nil, err
	}
	kw := map[string]any{}
	for _, k := range e.kw {
		if kw[k.name], err = r.eval(k.v); err != nil {
			return nil, err
		}
	}
	arg := func(i int, name string) (any, bool) {
		if i < len(args) {
			return args[i], true
		}
		v, ok := kw[name]
		return v, ok
	}
	s, isStr := x.(string)
	needStr := func() error {
		if !isStr {
			return fmt.Errorf("filter %s needs a string, not %s", e.name, typeName(x))
		}
		return nil
	}
	switch e.name {
	case "trim":
		if err := needStr(); err != nil {
			return nil, err
		}
		return strings.TrimSpace(s), nil
	case "upper", "lower", "capitalize", "title":
		if err := needStr(); err != nil {
			return nil, err
		}
		return map[string]func(string) string{"upper": strings.ToUpper, "lower": strings.ToLower, "capitalize": capitalize, "title": title}[e.name](s), nil
	case "length", "count":
		return length(x)
	case "string":
		return str(x), nil
	case "safe":
		return x, nil
	case "int":
		switch v := x.(type) {
		case int64:
			return v, nil
		case float64:
			return int64(v), nil
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return int64(0), nil
			}
			return n, nil
		case bool:
			if v {
				return int64(1), nil
			}
		}
		return int64(0), nil
	case "float":
		if f, ok := num(x); ok {
			return f, nil
		}
		if isStr {
			if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				return f, nil
			}
		}
		return 0.0, nil
	case "default", "d":
		def, _ := arg(0, "default_value")
		useFalse, _ := arg(1, "boolean")
		if _, undef := x.(undefined); undef || truth(useFalse) && !truth(x) {
			if def == nil && len(args) == 0 {
				return "", nil
			}
			return def, nil
		}
		return x, nil
	case "first", "last":
		var items []any
		switch v := x.(type) {
		case []any:
			items = v
		case string:
			items = chars(v)
		default:
			return nil, fmt.Errorf("filter %s needs a list or string, not %s", e.name, typeName(x))
		}
		if len(items) == 0 {
			return undefined{}, nil
		}
		if e.name == "first" {
			return items[0], nil
		}
		return items[len(items)-1], nil
	case "join":
		sep := ""
		if v, ok := arg(0, "d"); ok {
			sep = str(v)
		}
		l, ok := x.([]any)
		if !ok {
			return nil, fmt.Errorf("filter join needs a list, not %s", typeName(x))
		}
		parts := make([]string, len(l))
		n := len(sep) * max(len(l)-1, 0) // the separators first, then each part as it is made
		if err := checkLen(n); err != nil {
			return nil, err
		}
		for i, it := range l {
			parts[i] = str(it)
			if n += len(parts[i]); n > maxStr {
				return nil, errLong
			}
		}
		return strings.Join(parts, sep), nil
	case "list":
		switch v := x.(type) {
		case []any:
			return v, nil
		case string:
			return chars(v), nil
		case *Map:
			out := []any{}
			for _, k := range v.Keys {
				out = append(out, k)
			}
			return out, nil
		}
		return nil, fmt.Errorf("filter list needs a sequence, not %s", typeName(x))
	case "reverse":
		switch v := x.(type) {
		case []any:
			out := make([]any, len(v))
			for i, it := range v {
				out[len(v)-1-i] = it
			}
			return out, nil
		case string:
			rs := []rune(v)
			for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
				rs[i], rs[j] = rs[j], rs[i]
			}
			return string(rs), nil
		}
		return nil, fmt.Errorf("filter reverse needs a list or string, not %s", typeName(x))
	case "replace":
		if err := needStr(); err != nil {
			return nil, err
		}
		if len(args) < 2 {
			return nil, fmt.Errorf("filter replace needs two arguments")
		}
		old, repl := str(args[0]), str(args[1])
		if c := strings.Count(s, old); c > 0 && len(repl) > len(old) && c > maxStr/(len(repl)-len(old)) {
			return nil, errLong
		}
		return strings.ReplaceAll(s, old, repl), nil
	case "items":
		return items(x)
	case "abs":
		switch v := x.(type) {
		case int64:
			if v < 0 {
				return -v, nil
			}
			return v, nil
		case float64:
			return math.Abs(v), nil
		}
		return nil, fmt.Errorf("filter abs needs a number, not %s", typeName(x))
	case "tojson":
		indent := -1
		if v, ok := arg(0, "indent"); ok && v != nil {
			n, ok := v.(int64)
			if !ok {
				return nil, fmt.Errorf("tojson: indent must be an integer")
			}
			indent = int(n)
		}
		var b strings.Builder
		if err := toJSON(&b, x, indent, 0); err != nil {
			return nil, err
		}
		return b.String(), nil
	}
	return nil, fmt.Errorf("internal: filter %s", e.name)
}

func items(x any) (any, error) {
	m, ok := x.(*Map)
	if !ok {
		return nil, fmt.Errorf("items() needs a mapping, not %s", typeName(x))
	}
	out := []any{}
	for _, k := range m.Keys {
		out = append(out, []any{k, m.M[k]})
	}
	return out, nil
}

// toJSON writes v as Python's json.dumps(v, ensure_ascii=False) does (", " and ": " separators;
// with indent, one item per line), as transformers' tojson filter.
func toJSON(b *strings.Builder, v any, indent, depth int) error {
	nl := func(d int) {
		if indent >= 0 {
			b.WriteByte('\n')
			b.WriteString(strings.Repeat(" ", indent*d))
		}
	}
	sep := ", "
	if indent >= 0 {
		sep = ","
	}
	switch x := v.(type) {
	case nil, undefined:
		b.WriteString("null")
	case bool:
		b.WriteString(map[bool]string{true: "true", false: "false"}[x])
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(pyFloat(x))
	case string:
		b.WriteByte('"')
		for _, c := range x {
			switch c {
			case '"':
				b.WriteString(`\"`)
			case '\\':
				b.WriteString(`\\`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			default:
				if c < 0x20 {
					fmt.Fprintf(b, `\u%04x`, c)
				} else {
					b.WriteRune(c)
				}
			}
		}
		b.WriteByte('"')
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, it := range x {
			if i > 0 {
				b.WriteString(sep)
			}
			nl(depth + 1)
			if err := toJSON(b, it, indent, depth+1); err != nil {
				return err
			}
		}
		nl(depth)
		b.WriteByte(']')
	case *Map:
		if len(x.Keys) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteByte('{')
		for i, k := range x.Keys {
			if i > 0 {
				b.WriteString(sep)
			}
			nl(depth + 1)
			toJSON(b, k, indent, depth+1)
			b.WriteString(": ")
			if err := toJSON(b, x.M[k], indent, depth+1); err != nil {
				return err
			}
		}
		nl(depth)
		b.WriteByte('}')
	default:
		return fmt.Errorf("tojson: cannot encode %T", v)
	}
	return nil
}

func (r *renderer) test(e testExpr) (any, error) {
	x, err := r.eval(e.x)
	if err != nil {
		return nil, err
	}
	args, err := r.evalAll(e.args)
	if err != nil {
		return nil, err
	}
	var ok bool
	switch e.name {
	case "defined":
		_, u := x.(undefined)
		ok = !u
	case "undefined":
		_, ok = x.(undefined)
	case "none":
		ok = x == nil
	case "string":
		_, ok = x.(string)
	case "number":
		_, i := x.(int64)
		_, f := x.(float64)
		ok = i || f
	case "integer":
		_, ok = x.(int64)
	case "float":
		_, ok = x.(float64)
	case "boolean":
		_, ok = x.(bool)
	case "true", "false":
		b, isB := x.(bool)
		ok = isB && b == (e.name == "true")
	case "mapping":
		_, ok = x.(*Map)
	case "iterable", "sequence":
		switch x.(type) {
		case string, []any, *Map:
			ok = true
		}
	case "odd", "even", "divisibleby":
		n, isInt := x.(int64)
		if !isInt {
			return nil, fmt.Errorf("test %s needs an integer, not %s", e.name, typeName(x))
		}
		switch e.name {
		case "odd":
			ok = n%2 != 0
		case "even":
			ok = n%2 == 0
		default:
			if len(args) != 1 {
				return nil, fmt.Errorf("divisibleby needs one argument")
			}
			d, _ := args[0].(int64)
			ok = d != 0 && n%d == 0
		}
	case "eq", "equalto", "in":
		if len(args) != 1 {
			return nil, fmt.Errorf("test %s needs one argument", e.name)
		}
		if e.name == "in" {
			if ok, err = contains(args[0], x); err != nil {
				return nil, err
			}
		} else {
			ok = equal(x, args[0])
		}
	}
	return ok != e.neg, nil
}

func (r *renderer) call(e callExpr) (any, error) {
	args, err := r.evalAll(e.args)
	if err != nil {
		return nil, err
	}
	switch e.fn {
	case "raise_exception":
		msg := ""
		if len(args) > 0 {
			msg = str(args[0])
		}
		return nil, &Exception{msg}
	case "namespace":
		m := NewMap()
		for _, k := range e.kw {
			v, err := r.eval(k.v)
			if err != nil {
				return nil, err
			}
			m.Set(k.name, v)
		}
		return m, nil
	case "range":
		var b [3]int64
		b[2] = 1
		for i, a := range args {
			n, ok := a.(int64)
			if !ok || i > 2 {
				return nil, fmt.Errorf("range() takes up to three integers")
			}
			b[i] = n
		}
		if len(args) == 1 {
			b[0], b[1] = 0, b[0]
		}
		if b[2] == 0 || (b[1]-b[0])/b[2] > 1<<20 {
			return nil, fmt.Errorf("range() step 0 or over a million items")
		}
		if err := r.charge(int(max((b[1]-b[0])/b[2], 0))); err != nil { // before building the list
			return nil, err
		}
		out := []any{}
		for i := b[0]; b[2] > 0 && i < b[1] || b[2] < 0 && i > b[1]; i += b[2] {
			out = append(out, i)
		}
		return out, nil
	}
	return nil, fmt.Errorf("internal: function %s", e.fn)
}

func (r *renderer) method(e methodExpr) (any, error) {
	x, err := r.eval(e.x)
	if err != nil {
		return nil, err
	}
	args, err := r.evalAll(e.args)
	if err != nil {
		return nil, err
	}
	if m, ok := x.(*Map); ok {
		switch e.n {
		case "items":
			return items(m)
		case "keys", "values":
			out := []any{}
			for _, k := range m.Keys {
				if e.n == "keys" {
					out = append(out, k)
				} else {
					out = append(out, m.M[k])
				}
			}
			return out, nil
		case "get":
			if len(args) < 1 {
				return nil, fmt.Errorf(".get() needs a key")
			}
			k, _ := args[0].(string)
			if v, ok := m.M[k]; ok {
				return v, nil
			}
			if len(args) > 1 {
				return args[1], nil
			}
			return nil, nil
		}
	}
	s, ok := x.(string)
	if !ok {
		return nil, fmt.Errorf(".%s() on %s", e.n, typeName(x))
	}
	strArg := func(i int) (string, error) {
		if i >= len(args) {
			return "", fmt.Errorf(".%s() needs %d arguments", e.n, i+1)
		}
		a, ok := args[i].(string)
		if !ok {
			return "", fmt.Errorf(".%s(): argument %d must be a string", e.n, i+1)
		}
		return a, nil
	}
	switch e.n {
	case "strip", "lstrip", "rstrip":
		cut := " \t\n\r\v\f"
		if len(args) > 0 && args[0] != nil {
			if cut, err = strArg(0); err != nil {
				return nil, err
			}
		}
		return map[string]func(string, string) string{"strip": strings.Trim, "lstrip": strings.TrimLeft, "rstrip": strings.TrimRight}[e.n](s, cut), nil
	case "upper":
		return strings.ToUpper(s), nil
	case "lower":
		return strings.ToLower(s), nil
	case "title":
		return title(s), nil
	case "capitalize":
		return capitalize(s), nil
	case "startswith", "endswith":
		a, err := strArg(0)
		if err != nil {
			return nil, err
		}
		if e.n == "startswith" {
			return strings.HasPrefix(s, a), nil
		}
		return strings.HasSuffix(s, a), nil
	case "replace":
		a, err := strArg(0)
		if err != nil {
			return nil, err
		}
		b, err := strArg(1)
		if err != nil {
			return nil, err
		}
		return strings.ReplaceAll(s, a, b), nil
	case "split":
		var parts []string
		if len(args) == 0 || args[0] == nil {
			parts = strings.Fields(s)
		} else {
			sep, err := strArg(0)
			if err != nil {
				return nil, err
			}
			if sep == "" {
				return nil, fmt.Errorf(".split(): empty separator")
			}
			parts = strings.Split(s, sep)
		}
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	}
	return nil, fmt.Errorf(".%s() on a string", e.n)
}
