package cfn

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// noValue is what Ref AWS::NoValue resolves to: the property or list element holding it
// disappears, as in CloudFormation.
type noValue struct{}

// Resolver evaluates CloudFormation intrinsic functions against local values: parameter
// values, pseudo parameters, and each resource's Ref and Fn::GetAtt values as the local
// cloud names things. It supports Ref, Fn::Sub (both forms), Fn::GetAtt, Fn::Join,
// Fn::Select, Fn::Split, Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::FindInMap and
// Condition; anything else is an error naming the function, never a silent guess.
type Resolver struct {
	// Params holds each parameter's value: a string, or []any for list types.
	Params map[string]any
	// Pseudo holds the pseudo parameters (AWS::Region, AWS::AccountId, …).
	Pseudo map[string]any
	// Ref returns a resource's Ref value; ok is false for an unknown logical ID.
	Ref func(logicalID string) (v any, ok bool, err error)
	// GetAtt returns a resource's attribute.
	GetAtt func(logicalID, attr string) (any, error)
	// Conditions are the template's Conditions section, evaluated on demand.
	Conditions map[string]any
	// Mappings is the template's Mappings section.
	Mappings map[string]any

	condCache map[string]bool
	condBusy  map[string]bool
}

// Resolve returns v with every intrinsic function evaluated.
func (r *Resolver) Resolve(v any) (any, error) {
	out, err := r.resolve(v)
	if err != nil {
		return nil, err
	}
	if _, ok := out.(noValue); ok {
		return nil, nil
	}
	return out, nil
}

// String resolves v and requires a string (numbers and booleans are written as
// CloudFormation writes them into string properties).
func (r *Resolver) String(v any) (string, error) {
	out, err := r.Resolve(v)
	if err != nil {
		return "", err
	}
	return scalarString(out)
}

func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case nil:
		return "", nil
	default:
		return "", fmt.Errorf("want a string, got %s", describe(v))
	}
}

func describe(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 120 {
		return fmt.Sprintf("%T", v)
	}
	return string(b)
}

func (r *Resolver) resolve(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
					out, err := r.intrinsic(k, arg)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", k, err)
					}
					return out, nil
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, fmt.Errorf("%s.%w", k, err)
			}
			if _, drop := rv.(noValue); drop {
				continue
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, e := range x {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if _, drop := rv.(noValue); drop {
				continue
			}
			out = append(out, rv)
		}
		return out, nil
	default:
		return v, nil
	}
}

func (r *Resolver) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("argument must be a name, got %s", describe(arg))
		}
		return r.ref(name)
	case "Fn::GetAtt":
		id, attr, err := r.getAttArgs(arg)
		if err != nil {
			return nil, err
		}
		return r.getAtt(id, attr)
	case "Fn::Sub":
		return r.sub(arg)
	case "Fn::Join":
		args, ok := arg.([]any)
		if !ok || len(args) != 2 {
			return nil, fmt.Errorf("want [delimiter, list], got %s", describe(arg))
		}
		delim, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("delimiter must be a string")
		}
		list, err := r.list(args[1])
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(list))
		for i, e := range list {
			if parts[i], err = scalarString(e); err != nil {
				return nil, err
			}
		}
		return strings.Join(parts, delim), nil
	case "Fn::Select":
		args, ok := arg.([]any)
		if !ok || len(args) != 2 {
			return nil, fmt.Errorf("want [index, list], got %s", describe(arg))
		}
		iv, err := r.resolve(args[0])
		if err != nil {
			return nil, err
		}
		is, err := scalarString(iv)
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(is)
		if err != nil {
			return nil, fmt.Errorf("index %q is not a number", is)
		}
		list, err := r.list(args[1])
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= len(list) {
			return nil, fmt.Errorf("index %d out of range of %d elements", i, len(list))
		}
		return list[i], nil
	case "Fn::Split":
		args, ok := arg.([]any)
		if !ok || len(args) != 2 {
			return nil, fmt.Errorf("want [delimiter, string], got %s", describe(arg))
		}
		delim, ok := args[0].(string)
		if !ok || delim == "" {
			return nil, fmt.Errorf("delimiter must be a non-empty string")
		}
		sv, err := r.resolve(args[1])
		if err != nil {
			return nil, err
		}
		s, err := scalarString(sv)
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(s, delim) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::If":
		args, ok := arg.([]any)
		if !ok || len(args) != 3 {
			return nil, fmt.Errorf("want [condition, then, else], got %s", describe(arg))
		}
		name, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("condition must be a name")
		}
		c, err := r.condition(name)
		if err != nil {
			return nil, err
		}
		if c {
			return r.resolve(args[1])
		}
		return r.resolve(args[2])
	case "Condition":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("condition must be a name")
		}
		return r.condition(name)
	case "Fn::Equals":
		args, ok := arg.([]any)
		if !ok || len(args) != 2 {
			return nil, fmt.Errorf("want [a, b], got %s", describe(arg))
		}
		a, err := r.resolve(args[0])
		if err != nil {
			return nil, err
		}
		b, err := r.resolve(args[1])
		if err != nil {
			return nil, err
		}
		as, aerr := scalarString(a)
		bs, berr := scalarString(b)
		if aerr == nil && berr == nil {
			return as == bs, nil
		}
		return describe(a) == describe(b), nil
	case "Fn::Not":
		args, ok := arg.([]any)
		if !ok || len(args) != 1 {
			return nil, fmt.Errorf("want [condition], got %s", describe(arg))
		}
		b, err := r.boolean(args[0])
		return !b, err
	case "Fn::And", "Fn::Or":
		args, ok := arg.([]any)
		if !ok || len(args) < 2 || len(args) > 10 {
			return nil, fmt.Errorf("want 2 to 10 conditions, got %s", describe(arg))
		}
		and := fn == "Fn::And"
		for _, a := range args {
			b, err := r.boolean(a)
			if err != nil {
				return nil, err
			}
			if and && !b {
				return false, nil
			}
			if !and && b {
				return true, nil
			}
		}
		return and, nil
	case "Fn::FindInMap":
		args, ok := arg.([]any)
		if !ok || len(args) != 3 {
			return nil, fmt.Errorf("want [map, top key, second key], got %s", describe(arg))
		}
		keys := make([]string, 3)
		for i, a := range args {
			v, err := r.resolve(a)
			if err != nil {
				return nil, err
			}
			if keys[i], err = scalarString(v); err != nil {
				return nil, err
			}
		}
		m, _ := r.Mappings[keys[0]].(map[string]any)
		top, _ := m[keys[1]].(map[string]any)
		v, ok := top[keys[2]]
		if !ok {
			return nil, fmt.Errorf("no mapping %s.%s.%s", keys[0], keys[1], keys[2])
		}
		return v, nil
	default:
		return nil, fmt.Errorf("the local cloud does not evaluate %s", fn)
	}
}

// boolean evaluates a condition operand: a nested condition function or a
// {"Condition": name} reference.
func (r *Resolver) boolean(v any) (bool, error) {
	out, err := r.resolve(v)
	if err != nil {
		return false, err
	}
	switch b := out.(type) {
	case bool:
		return b, nil
	case string:
		if b == "true" || b == "false" {
			return b == "true", nil
		}
	}
	return false, fmt.Errorf("not a condition: %s", describe(v))
}

func (r *Resolver) condition(name string) (bool, error) {
	if v, ok := r.condCache[name]; ok {
		return v, nil
	}
	def, ok := r.Conditions[name]
	if !ok {
		return false, fmt.Errorf("no condition %s", name)
	}
	if r.condBusy[name] {
		return false, fmt.Errorf("condition %s refers to itself", name)
	}
	if r.condBusy == nil {
		r.condBusy, r.condCache = map[string]bool{}, map[string]bool{}
	}
	r.condBusy[name] = true
	defer delete(r.condBusy, name)
	v, err := r.boolean(def)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	r.condCache[name] = v
	return v, nil
}

// ConditionTrue evaluates one of the template's named conditions.
func (r *Resolver) ConditionTrue(name string) (bool, error) { return r.condition(name) }

func (r *Resolver) list(v any) ([]any, error) {
	out, err := r.resolve(v)
	if err != nil {
		return nil, err
	}
	switch l := out.(type) {
	case []any:
		return l, nil
	case []string:
		res := make([]any, len(l))
		for i, s := range l {
			res[i] = s
		}
		return res, nil
	default:
		return nil, fmt.Errorf("want a list, got %s", describe(out))
	}
}

func (r *Resolver) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue{}, nil
	}
	if v, ok := r.Pseudo[name]; ok {
		return v, nil
	}
	if strings.HasPrefix(name, "AWS::") {
		return nil, fmt.Errorf("unknown pseudo parameter %s", name)
	}
	if v, ok := r.Params[name]; ok {
		return v, nil
	}
	if r.Ref != nil {
		v, ok, err := r.Ref(name)
		if err != nil {
			return nil, err
		}
		if ok {
			return v, nil
		}
	}
	return nil, fmt.Errorf("%s is neither a parameter nor a resource", name)
}

func (r *Resolver) getAttArgs(arg any) (id, attr string, err error) {
	switch a := arg.(type) {
	case string:
		id, attr, ok := strings.Cut(a, ".")
		if !ok {
			return "", "", fmt.Errorf("want Resource.Attribute, got %q", a)
		}
		return id, attr, nil
	case []any:
		if len(a) != 2 {
			return "", "", fmt.Errorf("want [resource, attribute], got %s", describe(arg))
		}
		id, ok := a[0].(string)
		if !ok {
			return "", "", fmt.Errorf("resource must be a name")
		}
		av, err := r.resolve(a[1])
		if err != nil {
			return "", "", err
		}
		attr, err := scalarString(av)
		return id, attr, err
	default:
		return "", "", fmt.Errorf("want [resource, attribute], got %s", describe(arg))
	}
}

func (r *Resolver) getAtt(id, attr string) (any, error) {
	if r.GetAtt == nil {
		return nil, fmt.Errorf("no resource %s", id)
	}
	return r.GetAtt(id, attr)
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (r *Resolver) sub(arg any) (any, error) {
	var (
		text string
		vars map[string]any
	)
	switch a := arg.(type) {
	case string:
		text = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("want [string, variables], got %s", describe(arg))
		}
		s, ok := a[0].(string)
		if !ok {
			return nil, fmt.Errorf("template must be a string")
		}
		text = s
		m, ok := a[1].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("variables must be a map")
		}
		vars = make(map[string]any, len(m))
		for k, v := range m {
			rv, err := r.resolve(v)
			if err != nil {
				return nil, fmt.Errorf("variable %s: %w", k, err)
			}
			vars[k] = rv
		}
	default:
		return nil, fmt.Errorf("want a string or [string, variables], got %s", describe(arg))
	}
	var firstErr error
	out := subVar.ReplaceAllStringFunc(text, func(m string) string {
		name := strings.TrimSpace(m[2 : len(m)-1])
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}" // ${!Literal} writes ${Literal}
		}
		v, err := r.subValue(name, vars)
		if err == nil {
			var s string
			if s, err = scalarString(v); err == nil {
				return s
			}
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("${%s}: %w", name, err)
		}
		return m
	})
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

func (r *Resolver) subValue(name string, vars map[string]any) (any, error) {
	if v, ok := vars[name]; ok {
		return v, nil
	}
	if id, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
		return r.getAtt(id, attr)
	}
	return r.ref(name)
}
