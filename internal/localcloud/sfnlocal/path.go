package sfnlocal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// JSON values inside the engine are the shapes encoding/json produces with UseNumber:
// map[string]any, []any, string, json.Number, bool and nil. Values are treated as
// immutable: every transformation copies along the path it changes, so branches of a
// Parallel or iterations of a Map can share their input safely.

// errPathNotFound is returned (inside a *notFoundError) when a path names a field or
// index the document lacks. Choice's IsPresent needs to tell it apart from a malformed
// path, and the failure's cause names the path as AWS does.
var errPathNotFound = errors.New("path not found")

// notFoundError is a definite path that selects nothing in its document.
type notFoundError struct{ path *jsonPath }

func (e *notFoundError) Error() string { return errPathNotFound.Error() + ": " + e.path.src }
func (e *notFoundError) Unwrap() error { return errPathNotFound }

// missingPath returns the path of a not-found failure inside err, if that is what err is.
func missingPath(err error) (*jsonPath, bool) {
	var nf *notFoundError
	if errors.As(err, &nf) {
		return nf.path, true
	}
	return nil, false
}

// bracketed renders the path as AWS's causes name it: $['a']['b'][0].
func (p *jsonPath) bracketed() string {
	var b strings.Builder
	b.WriteString("$")
	if p.context {
		b.WriteString("$")
	}
	for _, s := range p.segs {
		switch {
		case s.wildcard:
			b.WriteString("[*]")
		case s.isIndex:
			fmt.Fprintf(&b, "[%d]", s.index)
		default:
			fmt.Fprintf(&b, "['%s']", s.field)
		}
	}
	return b.String()
}

// segment is one step of a compiled path.
type segment struct {
	field    string // object member, when !isIndex && !wildcard
	index    int    // array index, when isIndex
	isIndex  bool
	wildcard bool // [*] or .*
}

// jsonPath is a compiled JSONPath of the subset ASL uses in practice.
type jsonPath struct {
	src     string
	context bool // starts with $$ (the context object)
	segs    []segment
}

// isDefinite reports whether the path selects at most one node (no wildcard); only
// definite paths are Reference Paths, which ResultPath and Choice Variables require.
func (p *jsonPath) isDefinite() bool {
	for _, s := range p.segs {
		if s.wildcard {
			return false
		}
	}
	return true
}

// parsePath compiles "$", "$.a.b", "$['a b'][0]", "$.items[*].id", "$$.Execution.Id".
func parsePath(src string) (*jsonPath, error) {
	p := &jsonPath{src: src}
	rest := src
	switch {
	case strings.HasPrefix(rest, "$$"):
		p.context = true
		rest = rest[2:]
	case strings.HasPrefix(rest, "$"):
		rest = rest[1:]
	default:
		return nil, fmt.Errorf("path %q must start with $", src)
	}
	for len(rest) > 0 {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			if strings.HasPrefix(rest, "*") {
				p.segs = append(p.segs, segment{wildcard: true})
				rest = rest[1:]
				continue
			}
			n := strings.IndexAny(rest, ".[")
			if n < 0 {
				n = len(rest)
			}
			name := rest[:n]
			if name == "" || strings.ContainsAny(name, "]'\"*$@?()") {
				return nil, fmt.Errorf("path %q: invalid field name %q", src, name)
			}
			p.segs = append(p.segs, segment{field: name})
			rest = rest[n:]
		case '[':
			end, seg, err := parseBracket(rest)
			if err != nil {
				return nil, fmt.Errorf("path %q: %w", src, err)
			}
			p.segs = append(p.segs, seg)
			rest = rest[end:]
		default:
			return nil, fmt.Errorf("path %q: unexpected %q", src, rest[0])
		}
	}
	return p, nil
}

// parseBracket parses "[3]", "[*]", "['name']" or "[\"name\"]" at the start of s and
// returns how many bytes it consumed.
func parseBracket(s string) (int, segment, error) {
	if len(s) < 3 {
		return 0, segment{}, fmt.Errorf("unterminated %q", s)
	}
	if q := s[1]; q == '\'' || q == '"' {
		var b strings.Builder
		for i := 2; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\' && i+1 < len(s):
				i++
				b.WriteByte(s[i])
			case c == q:
				if i+1 >= len(s) || s[i+1] != ']' {
					return 0, segment{}, fmt.Errorf("expected ] after quoted name")
				}
				return i + 2, segment{field: b.String()}, nil
			default:
				b.WriteByte(c)
			}
		}
		return 0, segment{}, fmt.Errorf("unterminated quoted name")
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return 0, segment{}, fmt.Errorf("unterminated %q", s)
	}
	body := s[1:end]
	if body == "*" {
		return end + 1, segment{wildcard: true}, nil
	}
	n, err := strconv.Atoi(body)
	if err != nil || n < 0 || body[0] == '+' {
		return 0, segment{}, fmt.Errorf("invalid index %q", body)
	}
	return end + 1, segment{index: n, isIndex: true}, nil
}

// get evaluates the path against doc (the input or, for $$ paths, the context object).
// A definite path returns the node; a path with a wildcard returns the array of matches.
func (p *jsonPath) get(doc any) (any, error) {
	if p.isDefinite() {
		cur := doc
		for _, s := range p.segs {
			next, ok := step(cur, s)
			if !ok {
				return nil, &notFoundError{path: p}
			}
			cur = next
		}
		return cur, nil
	}
	nodes := []any{doc}
	for _, s := range p.segs {
		var out []any
		for _, n := range nodes {
			if s.wildcard {
				switch v := n.(type) {
				case []any:
					out = append(out, v...)
				case map[string]any:
					for _, k := range slices.Sorted(maps.Keys(v)) {
						out = append(out, v[k])
					}
				}
				continue
			}
			if next, ok := step(n, s); ok {
				out = append(out, next)
			}
		}
		nodes = out
	}
	if nodes == nil {
		nodes = []any{}
	}
	return nodes, nil
}

func step(cur any, s segment) (any, bool) {
	if s.isIndex {
		arr, ok := cur.([]any)
		if !ok || s.index >= len(arr) {
			return nil, false
		}
		return arr[s.index], true
	}
	obj, ok := cur.(map[string]any)
	if !ok {
		return nil, false
	}
	v, ok := obj[s.field]
	return v, ok
}

// set returns a copy of doc with val placed at the path, creating missing objects on
// the way, as ResultPath does. Only definite input paths ($...) may be set.
func (p *jsonPath) set(doc, val any) (any, error) {
	if p.context || !p.isDefinite() {
		return nil, fmt.Errorf("%s is not a reference path", p.src)
	}
	return setAt(doc, p.segs, val, p.src)
}

func setAt(cur any, segs []segment, val any, src string) (any, error) {
	if len(segs) == 0 {
		return val, nil
	}
	s := segs[0]
	if s.isIndex {
		arr, ok := cur.([]any)
		if !ok || s.index >= len(arr) {
			return nil, fmt.Errorf("%s: index %d is not in an array of the input", src, s.index)
		}
		child, err := setAt(arr[s.index], segs[1:], val, src)
		if err != nil {
			return nil, err
		}
		cp := append([]any(nil), arr...)
		cp[s.index] = child
		return cp, nil
	}
	var obj map[string]any
	switch v := cur.(type) {
	case map[string]any:
		obj = v
	case nil:
		obj = nil
	default:
		return nil, fmt.Errorf("%s: cannot add field %q to a %s", src, s.field, typeName(cur))
	}
	child, err := setAt(obj[s.field], segs[1:], val, src)
	if err != nil {
		return nil, err
	}
	cp := make(map[string]any, len(obj)+1)
	for k, v := range obj {
		cp[k] = v
	}
	cp[s.field] = child
	return cp, nil
}

// decodeJSON parses b keeping numbers exact (json.Number) so that int64 money survives.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

// encodeJSON renders v compactly without HTML escaping, like Step Functions does.
func encodeJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Values come from decodeJSON, so this cannot happen; keep the failure visible.
		return fmt.Sprintf("%q", err.Error())
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number, float64, int, int64:
		return "number"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}
