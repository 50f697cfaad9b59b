package sfnlocal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// choiceRule is a Choice rule: either a boolean combination (And/Or/Not) or a single
// comparison of Variable with a literal or, for ...Path operators, another path.
type choiceRule struct {
	Next     string
	Variable *jsonPath
	Op       string // e.g. "StringEquals", "NumericLessThanPath", "IsPresent"
	Operand  any    // literal value, or *jsonPath for ...Path operators
	And, Or  []*choiceRule
	Not      *choiceRule
}

var comparisonOps = map[string]string{} // operator -> kind ("string", "numeric", "boolean", "timestamp", "type")

func init() {
	for _, kind := range []string{"String", "Numeric", "Timestamp"} {
		for _, rel := range []string{"Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"} {
			comparisonOps[kind+rel] = strings.ToLower(kind)
			comparisonOps[kind+rel+"Path"] = strings.ToLower(kind)
		}
	}
	comparisonOps["BooleanEquals"] = "boolean"
	comparisonOps["BooleanEqualsPath"] = "boolean"
	comparisonOps["StringMatches"] = "string"
	for _, op := range []string{"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"} {
		comparisonOps[op] = "type"
	}
}

func (r *choiceRule) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for k, v := range raw {
		switch k {
		case "Next":
			if err := json.Unmarshal(v, &r.Next); err != nil {
				return fmt.Errorf("field Next: %w", err)
			}
		case "Comment":
		case "Variable":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("field Variable: %w", err)
			}
			p, err := parsePath(s)
			if err != nil {
				return fmt.Errorf("field Variable: %w", err)
			}
			r.Variable = p
		case "And", "Or":
			var rules []*choiceRule
			if err := json.Unmarshal(v, &rules); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			if k == "And" {
				r.And = rules
			} else {
				r.Or = rules
			}
		case "Not":
			r.Not = new(choiceRule)
			if err := json.Unmarshal(v, r.Not); err != nil {
				return fmt.Errorf("field Not: %w", err)
			}
		default:
			kind, ok := comparisonOps[k]
			if !ok {
				return fmt.Errorf("unknown field %q in Choice rule", k)
			}
			if r.Op != "" {
				return fmt.Errorf("a Choice rule has two operators, %s and %s", r.Op, k)
			}
			r.Op = k
			if err := r.decodeOperand(k, kind, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *choiceRule) decodeOperand(op, kind string, raw json.RawMessage) error {
	if strings.HasSuffix(op, "Path") {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("%s must be a path string", op)
		}
		p, err := parsePath(s)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		r.Operand = p
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	ok := false
	switch kind {
	case "string":
		_, ok = v.(string)
	case "numeric":
		_, ok = v.(json.Number)
	case "boolean", "type":
		_, ok = v.(bool)
	case "timestamp":
		if s, isStr := v.(string); isStr {
			_, err := parseTimestamp(s)
			ok = err == nil
		}
	}
	if !ok {
		return fmt.Errorf("%s has an operand of the wrong type (%s)", op, typeName(v))
	}
	r.Operand = v
	return nil
}

// validate checks the rule's shape; top-level rules need Next, nested ones must not have it.
func (r *choiceRule) validate(top bool) error {
	if top && r.Next == "" {
		return errors.New("rule needs Next")
	}
	if !top && r.Next != "" {
		return errors.New("nested rule must not have Next")
	}
	n := 0
	if r.Op != "" {
		n++
	}
	for _, set := range []bool{r.And != nil, r.Or != nil, r.Not != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("rule needs exactly one of a comparison operator, And, Or or Not")
	}
	if r.Op != "" && r.Variable == nil {
		return fmt.Errorf("%s needs a Variable", r.Op)
	}
	if r.Op == "" && r.Variable != nil {
		return errors.New("a Variable needs a comparison operator")
	}
	for _, sub := range append(append([]*choiceRule{}, r.And...), r.Or...) {
		if sub == nil {
			return errors.New("null rule in And/Or")
		}
		if err := sub.validate(false); err != nil {
			return err
		}
	}
	if (r.And != nil && len(r.And) == 0) || (r.Or != nil && len(r.Or) == 0) {
		return errors.New("And/Or need at least one rule")
	}
	if r.Not != nil {
		return r.Not.validate(false)
	}
	return nil
}

// eval decides the rule against the state's effective input. A missing Variable is a
// States.Runtime failure (as in AWS) except for IsPresent, whose whole point it is.
func (r *choiceRule) eval(s scope) (bool, error) {
	switch {
	case r.And != nil:
		for _, sub := range r.And {
			ok, err := sub.eval(s)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.Or != nil:
		for _, sub := range r.Or {
			ok, err := sub.eval(s)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.Not != nil:
		ok, err := r.Not.eval(s)
		return !ok, err
	}
	doc := s.input
	if r.Variable.context {
		doc = s.ctx
	}
	val, err := r.Variable.get(doc)
	if r.Op == "IsPresent" {
		present := err == nil
		return present == r.Operand.(bool), nil
	}
	if _, missing := missingPath(err); missing {
		return false, failf("States.Runtime", "Invalid path '%s': The choice state's condition path references an invalid value.", r.Variable.src)
	}
	if err != nil {
		return false, fmt.Errorf("choice Variable %s: %w", r.Variable.src, err)
	}
	operand := r.Operand
	if p, ok := operand.(*jsonPath); ok {
		pdoc := s.input
		if p.context {
			pdoc = s.ctx
		}
		if operand, err = p.get(pdoc); err != nil {
			return false, noResults(r.Op, err)
		}
	}
	op := strings.TrimSuffix(r.Op, "Path")
	switch op {
	case "IsNull":
		return (val == nil) == operand.(bool), nil
	case "IsString":
		_, ok := val.(string)
		return ok == operand.(bool), nil
	case "IsNumeric":
		_, ok := val.(json.Number)
		return ok == operand.(bool), nil
	case "IsBoolean":
		_, ok := val.(bool)
		return ok == operand.(bool), nil
	case "IsTimestamp":
		str, ok := val.(string)
		if ok {
			_, err := parseTimestamp(str)
			ok = err == nil
		}
		return ok == operand.(bool), nil
	case "StringMatches":
		str, ok := val.(string)
		pat, pok := operand.(string)
		return ok && pok && wildcardMatch(pat, str), nil
	case "BooleanEquals":
		a, ok := val.(bool)
		b, bok := operand.(bool)
		return ok && bok && a == b, nil
	}
	// Ordered comparisons. A value of the wrong type makes the rule false, not an error.
	var cmp int
	switch {
	case strings.HasPrefix(op, "String"):
		a, ok := val.(string)
		b, bok := operand.(string)
		if !ok || !bok {
			return false, nil
		}
		cmp = strings.Compare(a, b)
	case strings.HasPrefix(op, "Numeric"):
		a, ok := numRat(val)
		b, bok := numRat(operand)
		if !ok || !bok {
			return false, nil
		}
		cmp = a.Cmp(b)
	case strings.HasPrefix(op, "Timestamp"):
		a, ok := timeOf(val)
		b, bok := timeOf(operand)
		if !ok || !bok {
			return false, nil
		}
		cmp = a.Compare(b)
	default:
		return false, fmt.Errorf("unsupported operator %s", r.Op)
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(op, "String"), "Numeric"), "Timestamp")
	switch rel {
	case "Equals":
		return cmp == 0, nil
	case "LessThan":
		return cmp < 0, nil
	case "GreaterThan":
		return cmp > 0, nil
	case "LessThanEquals":
		return cmp <= 0, nil
	case "GreaterThanEquals":
		return cmp >= 0, nil
	}
	return false, fmt.Errorf("unsupported operator %s", r.Op)
}

// numRat compares numbers exactly: money in minor units must not round through float64.
func numRat(v any) (*big.Rat, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, false
	}
	return new(big.Rat).SetString(string(n))
}

func timeOf(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := parseTimestamp(s)
	return t, err == nil
}

// parseTimestamp accepts the RFC 3339 timestamps ASL requires (an uppercase T and a zone).
func parseTimestamp(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q is not RFC 3339: %w", s, err)
	}
	return t.UTC(), nil
}

// wildcardMatch implements StringMatches: * matches any run of characters, \* and \\
// are literal.
func wildcardMatch(pattern, s string) bool {
	type tok struct {
		star bool
		lit  rune
	}
	var toks []tok
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch {
		case rs[i] == '\\' && i+1 < len(rs):
			i++
			toks = append(toks, tok{lit: rs[i]})
		case rs[i] == '*':
			toks = append(toks, tok{star: true})
		default:
			toks = append(toks, tok{lit: rs[i]})
		}
	}
	str := []rune(s)
	// Classic greedy matcher with backtracking to the last star.
	ti, si, starT, starS := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case ti < len(toks) && !toks[ti].star && toks[ti].lit == str[si]:
			ti++
			si++
		case ti < len(toks) && toks[ti].star:
			starT, starS = ti, si
			ti++
		case starT >= 0:
			starS++
			si = starS
			ti = starT + 1
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].star {
		ti++
	}
	return ti == len(toks)
}
