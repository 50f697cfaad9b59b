package sfnlocal

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// scope is what paths inside a payload template can see: the effective input ($) and
// the context object ($$).
type scope struct {
	input any
	ctx   any
}

func (s scope) resolve(path string) (any, error) {
	p, err := parsePath(path)
	if err != nil {
		return nil, err
	}
	if p.context {
		return p.get(s.ctx)
	}
	return p.get(s.input)
}

// applyTemplate evaluates a payload template (Parameters, ResultSelector, ItemSelector):
// keys ending in ".$" take their value from a path or an intrinsic function call.
func applyTemplate(tmpl any, s scope) (any, error) {
	switch t := tmpl.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for _, k := range slices.Sorted(maps.Keys(t)) {
			v := t[k]
			if name, ok := strings.CutSuffix(k, ".$"); ok {
				expr, isStr := v.(string)
				if !isStr {
					return nil, fmt.Errorf("field %q must be a path or intrinsic function string", k)
				}
				val, err := evalExpr(expr, s)
				if p, ok := missingPath(err); ok {
					doc := s.input
					if p.context {
						doc = s.ctx
					}
					return nil, failf("States.Runtime", "The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", p.src, k, encodeJSON(doc))
				}
				if err != nil {
					return nil, fmt.Errorf("field %q: %w", k, err)
				}
				out[name] = val
				continue
			}
			val, err := applyTemplate(v, s)
			if err != nil {
				return nil, err
			}
			out[k] = val
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, v := range t {
			val, err := applyTemplate(v, s)
			if err != nil {
				return nil, err
			}
			out[i] = val
		}
		return out, nil
	default:
		return tmpl, nil
	}
}

// intrinsicError marks failures inside an intrinsic function; they surface as the
// catchable States.IntrinsicFailure instead of States.Runtime.
type intrinsicError struct{ msg string }

func (e *intrinsicError) Error() string { return e.msg }

func intrinsicf(format string, a ...any) error {
	return &intrinsicError{msg: fmt.Sprintf(format, a...)}
}

// evalExpr evaluates the value of a ".$" field: a path or an intrinsic function call.
func evalExpr(expr string, s scope) (any, error) {
	expr = strings.TrimSpace(expr)
	if strings.HasPrefix(expr, "States.") {
		p := &intrinsicParser{src: expr}
		v, err := p.call(s)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos != len(p.src) {
			return nil, intrinsicf("unexpected %q after intrinsic call", p.src[p.pos:])
		}
		return v, nil
	}
	return s.resolve(expr)
}

// intrinsicParser is a small recursive-descent parser for
// States.Name(arg, ...) where an arg is a 'string', number, true/false/null, a path or
// a nested call.
type intrinsicParser struct {
	src string
	pos int
}

func (p *intrinsicParser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

func (p *intrinsicParser) call(s scope) (any, error) {
	open := strings.IndexByte(p.src[p.pos:], '(')
	if open < 0 {
		return nil, intrinsicf("intrinsic %q lacks (", p.src[p.pos:])
	}
	name := p.src[p.pos : p.pos+open]
	p.pos += open + 1
	var args []any
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ')' {
		p.pos++
		return callIntrinsic(name, args)
	}
	for {
		p.skipSpace()
		arg, err := p.arg(s)
		if err != nil {
			return nil, err
		}
		args = append(args, arg)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, intrinsicf("%s: missing )", name)
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case ')':
			p.pos++
			return callIntrinsic(name, args)
		default:
			return nil, intrinsicf("%s: unexpected %q", name, p.src[p.pos])
		}
	}
}

func (p *intrinsicParser) arg(s scope) (any, error) {
	rest := p.src[p.pos:]
	switch {
	case strings.HasPrefix(rest, "'"):
		var b strings.Builder
		for i := 1; i < len(rest); i++ {
			c := rest[i]
			if c == '\\' && i+1 < len(rest) {
				i++
				// \{ and \} stay escaped so States.Format can tell them from placeholders.
				if rest[i] == '{' || rest[i] == '}' {
					b.WriteByte('\\')
				}
				b.WriteByte(rest[i])
				continue
			}
			if c == '\'' {
				p.pos += i + 1
				return b.String(), nil
			}
			b.WriteByte(c)
		}
		return nil, intrinsicf("unterminated string in %q", p.src)
	case strings.HasPrefix(rest, "States."):
		return p.call(s)
	case strings.HasPrefix(rest, "$"):
		end := p.argEnd()
		v, err := s.resolve(p.src[p.pos:end])
		if err != nil {
			return nil, err
		}
		p.pos = end
		return v, nil
	default:
		end := p.argEnd()
		tok := strings.TrimSpace(p.src[p.pos:end])
		p.pos = end
		switch tok {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		if _, err := strconv.ParseFloat(tok, 64); err == nil {
			return json.Number(tok), nil
		}
		return nil, intrinsicf("invalid argument %q", tok)
	}
}

// argEnd finds the end of an unquoted argument, honouring quoted names inside paths.
func (p *intrinsicParser) argEnd() int {
	depth := 0
	var quote byte
	for i := p.pos; i < len(p.src); i++ {
		c := p.src[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case depth == 0 && (c == ',' || c == ')'):
			return i
		}
	}
	return len(p.src)
}

func callIntrinsic(name string, args []any) (any, error) {
	want := func(n int) error {
		if len(args) != n {
			return intrinsicf("%s takes %d argument(s), got %d", name, n, len(args))
		}
		return nil
	}
	str := func(i int) (string, error) {
		v, ok := args[i].(string)
		if !ok {
			return "", intrinsicf("%s: argument %d must be a string, got %s", name, i+1, typeName(args[i]))
		}
		return v, nil
	}
	switch name {
	case "States.Format":
		if len(args) == 0 {
			return nil, intrinsicf("States.Format needs a template")
		}
		tmpl, err := str(0)
		if err != nil {
			return nil, err
		}
		return format(tmpl, args[1:])
	case "States.StringToJson":
		if err := want(1); err != nil {
			return nil, err
		}
		s, err := str(0)
		if err != nil {
			return nil, err
		}
		v, err := decodeJSON([]byte(s))
		if err != nil {
			return nil, intrinsicf("States.StringToJson: %v", err)
		}
		return v, nil
	case "States.JsonToString":
		if err := want(1); err != nil {
			return nil, err
		}
		return encodeJSON(args[0]), nil
	case "States.Array":
		return append([]any{}, args...), nil
	case "States.ArrayLength":
		if err := want(1); err != nil {
			return nil, err
		}
		arr, ok := args[0].([]any)
		if !ok {
			return nil, intrinsicf("States.ArrayLength: argument must be an array")
		}
		return json.Number(strconv.Itoa(len(arr))), nil
	case "States.ArrayGetItem":
		if err := want(2); err != nil {
			return nil, err
		}
		arr, ok := args[0].([]any)
		idx, err := toInt(args[1])
		if !ok || err != nil || idx < 0 || idx >= int64(len(arr)) {
			return nil, intrinsicf("States.ArrayGetItem: needs an array and an index within it")
		}
		return arr[idx], nil
	case "States.UUID":
		if err := want(0); err != nil {
			return nil, err
		}
		return newUUID(), nil
	case "States.MathAdd":
		if err := want(2); err != nil {
			return nil, err
		}
		a, errA := toInt(args[0])
		b, errB := toInt(args[1])
		if errA != nil || errB != nil {
			return nil, intrinsicf("States.MathAdd: arguments must be integers")
		}
		return json.Number(strconv.FormatInt(a+b, 10)), nil
	case "States.StringSplit":
		if err := want(2); err != nil {
			return nil, err
		}
		s, err := str(0)
		if err != nil {
			return nil, err
		}
		sep, err := str(1)
		if err != nil {
			return nil, err
		}
		out := []any{}
		// Like AWS, every character of the separator splits and empty parts are dropped.
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(sep, r) }) {
			out = append(out, part)
		}
		return out, nil
	case "States.Base64Encode":
		if err := want(1); err != nil {
			return nil, err
		}
		s, err := str(0)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "States.Base64Decode":
		if err := want(1); err != nil {
			return nil, err
		}
		s, err := str(0)
		if err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, intrinsicf("States.Base64Decode: %v", err)
		}
		return string(b), nil
	}
	return nil, intrinsicf("unsupported intrinsic function %s", name)
}

// format implements States.Format: each {} takes the next argument; \{ and \} are literal.
func format(tmpl string, args []any) (string, error) {
	var b strings.Builder
	next := 0
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c == '\\' && i+1 < len(tmpl) {
			i++
			b.WriteByte(tmpl[i])
			continue
		}
		if c == '{' && i+1 < len(tmpl) && tmpl[i+1] == '}' {
			if next >= len(args) {
				return "", intrinsicf("States.Format: more {} than arguments")
			}
			switch v := args[next].(type) {
			case string:
				b.WriteString(v)
			default:
				b.WriteString(encodeJSON(v))
			}
			next++
			i++
			continue
		}
		b.WriteByte(c)
	}
	if next != len(args) {
		return "", intrinsicf("States.Format: %d argument(s) but %d placeholder(s)", len(args), next)
	}
	return b.String(), nil
}

// toInt accepts a JSON number that is an exact integer.
func toInt(v any) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("not a number: %s", typeName(v))
	}
	if i, err := n.Int64(); err == nil {
		return i, nil
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, fmt.Errorf("not an integer: %s", n)
	}
	return r.Num().Int64(), nil
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
