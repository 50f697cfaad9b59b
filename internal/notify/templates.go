package notify

import (
	"embed"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"text/template/parse"
)

// templateFS holds, per kind and language, a text template (which also
// defines "subject") and an HTML template, named
// templates/<kind>.<lang>.{txt,html}.tmpl, plus the shared HTML layout.
//
//go:embed templates/*.tmpl
var templateFS embed.FS

var fileBase = map[Kind]string{
	OrderPlaced:          "order_placed",
	OfflineInstructions:  "offline_instructions",
	PaymentFailed:        "payment_failed",
	ProductsDelivered:    "products_delivered",
	DeliveryReport:       "delivery_report",
	AccountCreated:       "account_created",
	PaymentFlagged:       "payment_flagged",
	ReconciliationReport: "reconciliation_report",
	Refunded:             "refunded",
}

const layoutFile = "templates/_layout.html.tmpl"

// The templates are written in text/template's syntax but executed by the small
// evaluator below, not by text/template or html/template: those call methods by name
// through reflection, which makes the linker keep every exported method of every type
// in the binary (the SDK clients' hundreds of operations: 24 MB instead of 10 MB for
// each function that sends mail). The evaluator reads struct fields only and escapes
// HTML as html/template does in the contexts these templates use (element text,
// double-quoted attributes, URLs in href); a template that puts an action anywhere else
// fails with an error naming it (TestTemplatesMatchHTMLTemplate compares the outputs
// with html/template's on hostile data).

// tset is the parsed pair of templates for one kind in one language.
type tset struct {
	text     map[string]*parse.Tree
	html     map[string]*parse.Tree
	textName string
	htmlName string
}

// funcs are the template functions the evaluator knows (see call).
var funcs = map[string]any{"eq": true, "or": true, "len": true}

// parseFiles parses files into one set of named trees, as ParseFS does.
func parseFiles(files ...string) (map[string]*parse.Tree, error) {
	trees := map[string]*parse.Tree{}
	for _, f := range files {
		src, err := templateFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(f, "templates/")
		set, err := parseSource(name, string(src))
		if err != nil {
			return nil, err
		}
		for n, t := range set {
			if _, dup := trees[n]; dup && n != name {
				return nil, fmt.Errorf("template %q defined twice", n)
			}
			trees[n] = t
		}
	}
	return trees, nil
}

func parseSource(name, src string) (map[string]*parse.Tree, error) {
	return parse.Parse(name, src, "{{", "}}", funcs)
}

// parsed parses every template once, on first use; a parse error is a
// programming error the tests catch, returned rather than panicking.
var parsed = sync.OnceValues(func() (map[string]*tset, error) {
	sets := map[string]*tset{}
	for _, k := range Kinds {
		for _, lang := range Languages {
			base := fileBase[k] + "." + lang
			s := &tset{textName: base + ".txt.tmpl", htmlName: base + ".html.tmpl"}
			var err error
			s.text, err = parseFiles("templates/" + s.textName)
			if err != nil {
				return nil, fmt.Errorf("notify: parse %s: %w", s.textName, err)
			}
			if s.text["subject"] == nil {
				return nil, fmt.Errorf("notify: %s defines no \"subject\"", s.textName)
			}
			s.html, err = parseFiles(layoutFile, "templates/"+s.htmlName)
			if err != nil {
				return nil, fmt.Errorf("notify: parse %s: %w", s.htmlName, err)
			}
			sets[string(k)+"."+lang] = s
		}
	}
	return sets, nil
})

func templateSet(k Kind, lang string) (*tset, error) {
	sets, err := parsed()
	if err != nil {
		return nil, err
	}
	s, ok := sets[string(k)+"."+lang]
	if !ok {
		return nil, fmt.Errorf("notify: no template for %s in %q", k, lang)
	}
	return s, nil
}

// render executes the subject, then the bodies, which may show the subject.
func (s *tset) render(v view) (Email, error) {
	subject, err := execute(s.text, "subject", v, false)
	if err != nil {
		return Email{}, fmt.Errorf("subject: %w", err)
	}
	v.Subject = SanitizeHeader(subject)
	text, err := execute(s.text, s.textName, v, false)
	if err != nil {
		return Email{}, fmt.Errorf("text body: %w", err)
	}
	html, err := execute(s.html, s.htmlName, v, true)
	if err != nil {
		return Email{}, fmt.Errorf("html body: %w", err)
	}
	return Email{Subject: v.Subject, Text: strings.TrimSpace(text) + "\n", HTML: html}, nil
}

// execute runs the tree name of trees on data; html escapes values by context.
func execute(trees map[string]*parse.Tree, name string, data any, html bool) (string, error) {
	e := &evaluator{trees: trees, html: html}
	if err := e.template(name, reflect.ValueOf(data)); err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	return e.out.String(), nil
}

// evaluator runs a parse tree. It knows the nodes these templates use: text, actions
// printing a field, a variable ($, $.Field) or a constant, if/else, range/else,
// with/else, template calls, and the functions eq and or.
type evaluator struct {
	trees map[string]*parse.Tree
	html  bool
	out   strings.Builder
	ctx   htmlContext
	depth int
}

func (e *evaluator) template(name string, dot reflect.Value) error {
	t := e.trees[name]
	if t == nil || t.Root == nil {
		return fmt.Errorf("no template %q", name)
	}
	if e.depth++; e.depth > 10 {
		return fmt.Errorf("template %q calls itself too deep", name)
	}
	defer func() { e.depth-- }()
	// In a called template, $ is the value it was called with, as in text/template.
	return e.list(t.Root, dot, dot)
}

func (e *evaluator) list(l *parse.ListNode, dot, root reflect.Value) error {
	if l == nil {
		return nil
	}
	for _, n := range l.Nodes {
		if err := e.node(n, dot, root); err != nil {
			return err
		}
	}
	return nil
}

func (e *evaluator) node(n parse.Node, dot, root reflect.Value) error {
	switch n := n.(type) {
	case *parse.TextNode:
		e.out.Write(n.Text)
		if e.html {
			e.ctx.advance(n.Text)
		}
		return nil
	case *parse.ActionNode:
		if len(n.Pipe.Decl) > 0 {
			return fmt.Errorf("%s: variable declarations are not supported", n)
		}
		v, err := e.pipe(n.Pipe, dot, root)
		if err != nil {
			return err
		}
		return e.print(n, v)
	case *parse.IfNode:
		return e.branch(&n.BranchNode, dot, root, false, false)
	case *parse.WithNode:
		return e.branch(&n.BranchNode, dot, root, true, false)
	case *parse.RangeNode:
		return e.branch(&n.BranchNode, dot, root, false, true)
	case *parse.TemplateNode:
		arg := dot
		if n.Pipe != nil {
			v, err := e.pipe(n.Pipe, dot, root)
			if err != nil {
				return err
			}
			arg = v
		}
		return e.template(n.Name, arg)
	case *parse.CommentNode:
		return nil
	}
	return fmt.Errorf("%s: unsupported template node", n)
}

func (e *evaluator) branch(b *parse.BranchNode, dot, root reflect.Value, with, rng bool) error {
	if len(b.Pipe.Decl) > 0 {
		return fmt.Errorf("%s: variable declarations are not supported", b)
	}
	v, err := e.pipe(b.Pipe, dot, root)
	if err != nil {
		return err
	}
	switch {
	case rng:
		v = indirect(v)
		if v.IsValid() && (v.Kind() == reflect.Slice || v.Kind() == reflect.Array) && v.Len() > 0 {
			for i := 0; i < v.Len(); i++ {
				if err := e.list(b.List, v.Index(i), root); err != nil {
					return err
				}
			}
			return nil
		}
		if v.IsValid() && v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
			return fmt.Errorf("%s: range over %s", b, v.Type())
		}
	case truth(v):
		if with {
			dot = v
		}
		return e.list(b.List, dot, root)
	}
	return e.list(b.ElseList, dot, root)
}

func (e *evaluator) pipe(p *parse.PipeNode, dot, root reflect.Value) (reflect.Value, error) {
	if p == nil || len(p.Cmds) != 1 {
		return reflect.Value{}, fmt.Errorf("%s: only single commands are supported", p)
	}
	c := p.Cmds[0]
	if id, ok := c.Args[0].(*parse.IdentifierNode); ok {
		return e.call(c, id.Ident, dot, root)
	}
	if len(c.Args) != 1 {
		return reflect.Value{}, fmt.Errorf("%s: arguments to a non-function", c)
	}
	return e.arg(c.Args[0], dot, root)
}

// call runs eq (two comparable basic values), or (the first true argument, else the
// last) and len (of a slice, map or string), as text/template defines them.
func (e *evaluator) call(c *parse.CommandNode, name string, dot, root reflect.Value) (reflect.Value, error) {
	var args []reflect.Value
	for _, a := range c.Args[1:] {
		v, err := e.arg(a, dot, root)
		if err != nil {
			return reflect.Value{}, err
		}
		args = append(args, v)
	}
	switch {
	case name == "eq" && len(args) == 2:
		a, b := indirect(args[0]), indirect(args[1])
		if !a.IsValid() || !b.IsValid() || a.Kind() != b.Kind() || !a.Comparable() {
			return reflect.Value{}, fmt.Errorf("%s: incompatible types for comparison", c)
		}
		return reflect.ValueOf(a.Interface() == b.Interface()), nil
	case name == "or" && len(args) > 0:
		for _, a := range args {
			if truth(a) {
				return a, nil
			}
		}
		return args[len(args)-1], nil
	case name == "len" && len(args) == 1:
		switch a := indirect(args[0]); a.Kind() {
		case reflect.Slice, reflect.Map, reflect.String, reflect.Array:
			return reflect.ValueOf(a.Len()), nil
		}
		return reflect.Value{}, fmt.Errorf("%s: len of a value that has no length", c)
	}
	return reflect.Value{}, fmt.Errorf("%s: unsupported function call", c)
}

func (e *evaluator) arg(n parse.Node, dot, root reflect.Value) (reflect.Value, error) {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot, nil
	case *parse.FieldNode:
		return fields(dot, n.Ident, n)
	case *parse.VariableNode:
		if n.Ident[0] != "$" {
			return reflect.Value{}, fmt.Errorf("%s: unknown variable", n)
		}
		return fields(root, n.Ident[1:], n)
	case *parse.StringNode:
		return reflect.ValueOf(n.Text), nil
	case *parse.BoolNode:
		return reflect.ValueOf(n.True), nil
	}
	return reflect.Value{}, fmt.Errorf("%s: unsupported argument", n)
}

// fields follows a chain of exported struct fields (through pointers).
func fields(v reflect.Value, names []string, n parse.Node) (reflect.Value, error) {
	for _, name := range names {
		v = indirect(v)
		if !v.IsValid() {
			return reflect.Value{}, fmt.Errorf("%s: nil pointer evaluating .%s", n, name)
		}
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, fmt.Errorf("%s: can't evaluate field %s in type %s", n, name, v.Type())
		}
		f, ok := v.Type().FieldByName(name)
		if !ok || !f.IsExported() {
			return reflect.Value{}, fmt.Errorf("%s: can't evaluate field %s in type %s", n, name, v.Type())
		}
		v = v.FieldByIndex(f.Index)
	}
	return v, nil
}

func indirect(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

// truth is text/template's: the zero value, a nil pointer and an empty slice are false.
func truth(v reflect.Value) bool {
	if !v.IsValid() {
		return false
	}
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() > 0
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil()
	case reflect.Struct:
		return true
	}
	return !v.IsZero()
}

// print writes v as text/template prints it, escaped as html/template would in the
// current context of an HTML template.
func (e *evaluator) print(n parse.Node, v reflect.Value) error {
	v = indirect(v)
	s := "<no value>"
	if v.IsValid() {
		if v.Kind() == reflect.String {
			s = v.String()
		} else {
			s = fmt.Sprint(v.Interface())
		}
	}
	if !e.html {
		e.out.WriteString(s)
		return nil
	}
	esc, err := e.ctx.escape(s)
	if err != nil {
		return fmt.Errorf("%s: %w", n, err)
	}
	e.out.WriteString(esc)
	e.ctx.advance([]byte(esc))
	return nil
}
