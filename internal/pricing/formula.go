package pricing

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultTaxFormula is the formula of a tax that declares none: the taxed
// amount is the untaxed amount plus its ratio.
const DefaultTaxFormula = "untaxed + untaxed * ratio"

// Limits that keep parsing and evaluation cheap whatever an operator types.
const (
	MaxFormulaLen   = 256 // bytes
	maxFormulaDepth = 32  // nesting of parentheses, unary signs and calls
	maxNumberDigits = 18
)

// Formula is a parsed tax formula: an arithmetic expression that gives the
// taxed amount of a line from its untaxed amount. It is parsed once into a
// syntax tree by this package's own tokenizer and parser and evaluated with
// exact rational arithmetic; it is never run as code.
//
// Grammar (whitespace is free, names are case-insensitive):
//
//	expr    = term { ("+" | "-") term }
//	term    = unary { ("*" | "/") unary }
//	unary   = ("-" | "+") unary | primary
//	primary = number | name | func "(" expr { "," expr } ")" | "(" expr ")"
//	number  = digits [ "." digits ]            (exact decimal, ≤ 18 digits)
//	name    = "untaxed" | "ratio" | "quantity"
//	func    = "min" | "max" | "round"           (round: half away from zero)
//
// "×", "÷" and "−" are accepted for "*", "/" and "-". The variables are the
// line's untaxed amount after discounts in minor units, the tax ratio as a
// fraction (2000 bp → 1/5) and the line's quantity. Division is exact; the
// only rounding is the final one to minor units, half away from zero, unless
// the formula asks for round() itself.
type Formula struct {
	src  string
	root node
}

// FormulaVars are the values a formula is evaluated with.
type FormulaVars struct {
	Untaxed  Money
	Ratio    BasisPoints
	Quantity int
}

// ParseError is a formula syntax error at a 1-based column (in characters).
type ParseError struct {
	Column  int
	Message string
}

// Error implements error.
func (e *ParseError) Error() string {
	return fmt.Sprintf("formula: column %d: %s", e.Column, e.Message)
}

// ErrDivisionByZero is returned when a formula divides by zero for the
// values it is evaluated with.
var ErrDivisionByZero = errors.New("formula: division by zero")

// ParseFormula parses src. Errors are *ParseError values that say where and
// what is wrong.
func ParseFormula(src string) (*Formula, error) {
	if len(src) > MaxFormulaLen {
		return nil, &ParseError{Column: 1, Message: fmt.Sprintf("formula is %d bytes long, at most %d allowed", len(src), MaxFormulaLen)}
	}
	if !utf8.ValidString(src) {
		return nil, &ParseError{Column: 1, Message: "formula is not valid UTF-8"}
	}
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if p.peek().kind == tokEOF {
		return nil, &ParseError{Column: 1, Message: "formula is empty"}
	}
	root, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, &ParseError{Column: t.col, Message: fmt.Sprintf("unexpected %s after the end of the expression", t)}
	}
	return &Formula{src: src, root: root}, nil
}

// MustParseFormula is ParseFormula for formulas known at compile time; it
// panics on a syntax error.
func MustParseFormula(src string) *Formula {
	f, err := ParseFormula(src)
	if err != nil {
		panic(err)
	}
	return f
}

// Source returns the text the formula was parsed from.
func (f *Formula) Source() string { return f.src }

// String returns the formula in canonical, fully parenthesised form; parsing
// it again gives the same tree.
func (f *Formula) String() string {
	var sb strings.Builder
	f.root.write(&sb)
	return sb.String()
}

// Eval evaluates the formula exactly.
func (f *Formula) Eval(v FormulaVars) (*big.Rat, error) {
	e := env{
		untaxed:  new(big.Rat).SetInt64(int64(v.Untaxed)),
		ratio:    big.NewRat(int64(v.Ratio), int64(FullRate)),
		quantity: new(big.Rat).SetInt64(int64(v.Quantity)),
	}
	return f.root.eval(&e)
}

// EvalMoney evaluates the formula and rounds the result half away from zero
// to minor units. A result beyond ±MaxLineAmount is an ErrOverflow error.
func (f *Formula) EvalMoney(v FormulaVars) (Money, error) {
	r, err := f.Eval(v)
	if err != nil {
		return 0, err
	}
	i := roundRat(r)
	limit := big.NewInt(int64(MaxLineAmount))
	if i.CmpAbs(limit) > 0 {
		return 0, fmt.Errorf("%w: formula %q gives %s, beyond ±%d", ErrOverflow, f.src, r.FloatString(2), MaxLineAmount)
	}
	return Money(i.Int64()), nil
}

// roundRat rounds r half away from zero to an integer.
func roundRat(r *big.Rat) *big.Int {
	num := new(big.Int).Abs(r.Num())
	q, rem := new(big.Int).QuoRem(num, r.Denom(), new(big.Int))
	if rem.Lsh(rem, 1).Cmp(r.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if r.Sign() < 0 {
		q.Neg(q)
	}
	return q
}

// ---- tokens ----

type tokKind int

const (
	tokEOF tokKind = iota
	tokNum
	tokName
	tokOp
	tokLParen
	tokRParen
	tokComma
)

type token struct {
	kind tokKind
	text string // normalised: operators in ASCII, names in lower case
	col  int
}

func (t token) String() string {
	if t.kind == tokEOF {
		return "end of formula"
	}
	return fmt.Sprintf("%q", t.text)
}

func tokenize(src string) ([]token, error) {
	var toks []token
	rs := []rune(src)
	for i := 0; i < len(rs); {
		c, col := rs[i], i+1
		switch {
		case unicode.IsSpace(c):
			i++
		case c >= '0' && c <= '9':
			j, digits := i, 0
			for j < len(rs) && rs[j] >= '0' && rs[j] <= '9' {
				j, digits = j+1, digits+1
			}
			if j < len(rs) && rs[j] == '.' {
				j++
				if j >= len(rs) || rs[j] < '0' || rs[j] > '9' {
					return nil, &ParseError{Column: j + 1, Message: "a decimal point must be followed by digits"}
				}
				for j < len(rs) && rs[j] >= '0' && rs[j] <= '9' {
					j, digits = j+1, digits+1
				}
			}
			if digits > maxNumberDigits {
				return nil, &ParseError{Column: col, Message: fmt.Sprintf("number has %d digits, at most %d allowed", digits, maxNumberDigits)}
			}
			toks = append(toks, token{kind: tokNum, text: string(rs[i:j]), col: col})
			i = j
		case c == '_' || (c < utf8.RuneSelf && unicode.IsLetter(c)):
			j := i
			for j < len(rs) && (rs[j] == '_' || (rs[j] < utf8.RuneSelf && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j])))) {
				j++
			}
			toks = append(toks, token{kind: tokName, text: strings.ToLower(string(rs[i:j])), col: col})
			i = j
		default:
			t := token{col: col}
			switch c {
			case '+':
				t.kind, t.text = tokOp, "+"
			case '-', '−':
				t.kind, t.text = tokOp, "-"
			case '*', '×':
				t.kind, t.text = tokOp, "*"
			case '/', '÷':
				t.kind, t.text = tokOp, "/"
			case '(':
				t.kind, t.text = tokLParen, "("
			case ')':
				t.kind, t.text = tokRParen, ")"
			case ',':
				t.kind, t.text = tokComma, ","
			default:
				return nil, &ParseError{Column: col, Message: fmt.Sprintf("unexpected character %q", c)}
			}
			toks = append(toks, t)
			i++
		}
	}
	return append(toks, token{kind: tokEOF, col: len(rs) + 1}), nil
}

// ---- parser ----

type parser struct {
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) expr() (node, error) {
	left, err := p.term()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t.kind == tokOp && (t.text == "+" || t.text == "-"); t = p.peek() {
		p.next()
		right, err := p.term()
		if err != nil {
			return nil, err
		}
		left = &binNode{op: t.text[0], l: left, r: right}
	}
	return left, nil
}

func (p *parser) term() (node, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t.kind == tokOp && (t.text == "*" || t.text == "/"); t = p.peek() {
		p.next()
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = &binNode{op: t.text[0], l: left, r: right}
	}
	return left, nil
}

func (p *parser) unary() (node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxFormulaDepth {
		return nil, &ParseError{Column: p.peek().col, Message: fmt.Sprintf("formula is nested more than %d levels deep", maxFormulaDepth)}
	}
	if t := p.peek(); t.kind == tokOp && (t.text == "-" || t.text == "+") {
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		if t.text == "+" {
			return x, nil
		}
		return &negNode{x: x}, nil
	}
	return p.primary()
}

var funcArity = map[string][2]int{ // name → min, max argument count (0 = any)
	"min":   {1, 0},
	"max":   {1, 0},
	"round": {1, 1},
}

func (p *parser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case tokNum:
		r, ok := new(big.Rat).SetString(t.text)
		if !ok { // cannot happen: the tokenizer only lets digits and one point through
			return nil, &ParseError{Column: t.col, Message: fmt.Sprintf("bad number %q", t.text)}
		}
		return &numNode{text: t.text, val: r}, nil
	case tokName:
		switch t.text {
		case "untaxed", "ratio", "quantity":
			return &varNode{name: t.text}, nil
		}
		arity, ok := funcArity[t.text]
		if !ok {
			return nil, &ParseError{Column: t.col, Message: fmt.Sprintf("unknown name %q (known: untaxed, ratio, quantity, min, max, round)", t.text)}
		}
		if p.peek().kind != tokLParen {
			return nil, &ParseError{Column: p.peek().col, Message: fmt.Sprintf("%s must be followed by \"(\"", t.text)}
		}
		p.next()
		var args []node
		for {
			a, err := p.expr()
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			sep := p.next()
			if sep.kind == tokRParen {
				break
			}
			if sep.kind != tokComma {
				return nil, &ParseError{Column: sep.col, Message: fmt.Sprintf("expected \",\" or \")\" in %s(...), found %s", t.text, sep)}
			}
		}
		if len(args) < arity[0] || (arity[1] > 0 && len(args) > arity[1]) {
			return nil, &ParseError{Column: t.col, Message: fmt.Sprintf("%s takes %s, got %d", t.text, arityText(arity), len(args))}
		}
		return &callNode{fn: t.text, args: args}, nil
	case tokLParen:
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, &ParseError{Column: c.col, Message: fmt.Sprintf("expected \")\" to close the \"(\" at column %d, found %s", t.col, c)}
		}
		return x, nil
	}
	return nil, &ParseError{Column: t.col, Message: fmt.Sprintf("expected a number, a name or \"(\", found %s", t)}
}

func arityText(a [2]int) string {
	if a[0] == a[1] {
		return fmt.Sprintf("exactly %d argument(s)", a[0])
	}
	return fmt.Sprintf("at least %d argument(s)", a[0])
}

// ---- syntax tree ----

type env struct{ untaxed, ratio, quantity *big.Rat }

type node interface {
	eval(e *env) (*big.Rat, error)
	write(sb *strings.Builder)
}

type numNode struct {
	text string
	val  *big.Rat
}

func (n *numNode) eval(*env) (*big.Rat, error) { return new(big.Rat).Set(n.val), nil }
func (n *numNode) write(sb *strings.Builder)   { sb.WriteString(n.text) }

type varNode struct{ name string }

func (n *varNode) eval(e *env) (*big.Rat, error) {
	switch n.name {
	case "untaxed":
		return new(big.Rat).Set(e.untaxed), nil
	case "ratio":
		return new(big.Rat).Set(e.ratio), nil
	}
	return new(big.Rat).Set(e.quantity), nil
}
func (n *varNode) write(sb *strings.Builder) { sb.WriteString(n.name) }

type negNode struct{ x node }

func (n *negNode) eval(e *env) (*big.Rat, error) {
	v, err := n.x.eval(e)
	if err != nil {
		return nil, err
	}
	return v.Neg(v), nil
}
func (n *negNode) write(sb *strings.Builder) {
	sb.WriteString("(-")
	n.x.write(sb)
	sb.WriteString(")")
}

type binNode struct {
	op   byte
	l, r node
}

func (n *binNode) eval(e *env) (*big.Rat, error) {
	a, err := n.l.eval(e)
	if err != nil {
		return nil, err
	}
	b, err := n.r.eval(e)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case '+':
		return a.Add(a, b), nil
	case '-':
		return a.Sub(a, b), nil
	case '*':
		return a.Mul(a, b), nil
	}
	if b.Sign() == 0 {
		return nil, ErrDivisionByZero
	}
	return a.Quo(a, b), nil
}
func (n *binNode) write(sb *strings.Builder) {
	sb.WriteString("(")
	n.l.write(sb)
	sb.WriteString(" " + string(n.op) + " ")
	n.r.write(sb)
	sb.WriteString(")")
}

type callNode struct {
	fn   string
	args []node
}

func (n *callNode) eval(e *env) (*big.Rat, error) {
	vals := make([]*big.Rat, len(n.args))
	for i, a := range n.args {
		v, err := a.eval(e)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	switch n.fn {
	case "round":
		return new(big.Rat).SetInt(roundRat(vals[0])), nil
	case "min", "max":
		best := vals[0]
		for _, v := range vals[1:] {
			if c := v.Cmp(best); (n.fn == "min" && c < 0) || (n.fn == "max" && c > 0) {
				best = v
			}
		}
		return best, nil
	}
	return nil, fmt.Errorf("formula: unknown function %q", n.fn) // the parser admits none
}
func (n *callNode) write(sb *strings.Builder) {
	sb.WriteString(n.fn + "(")
	for i, a := range n.args {
		if i > 0 {
			sb.WriteString(", ")
		}
		a.write(sb)
	}
	sb.WriteString(")")
}
