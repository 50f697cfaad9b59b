package sfnlocal

import (
	"regexp"
	"strings"
	"testing"
)

func TestApplyTemplate(t *testing.T) {
	sc := scope{
		input: mustJSON(t, `{"name":"Ada","n":41,"cart":{"lines":[{"code":"C1"},{"code":"C2"}]},"raw":"{\"k\":[1,2]}","csv":"a,b,,c"}`),
		ctx:   mustJSON(t, `{"Execution":{"Id":"arn:exec","Name":"tx-1"},"Task":{"Token":"tok"}}`),
	}
	tests := []struct {
		name, tmpl, want, wantErr string
	}{
		{name: "literal kept", tmpl: `{"a":1,"b":{"c":[true,null]}}`, want: `{"a":1,"b":{"c":[true,null]}}`},
		{name: "input path", tmpl: `{"who.$":"$.name","first.$":"$.cart.lines[0].code"}`, want: `{"who":"Ada","first":"C1"}`},
		{name: "nested template", tmpl: `{"p":{"x.$":"$.n"},"l":[{"y.$":"$.name"}]}`, want: `{"p":{"x":41},"l":[{"y":"Ada"}]}`},
		{name: "context path", tmpl: `{"id.$":"$$.Execution.Id","token.$":"$$.Task.Token"}`, want: `{"id":"arn:exec","token":"tok"}`},
		{name: "whole input", tmpl: `{"all.$":"$.cart"}`, want: `{"all":{"lines":[{"code":"C1"},{"code":"C2"}]}}`},
		{name: "Format", tmpl: `{"s.$":"States.Format('Hello {}, you are {} \\{literal\\}', $.name, $.n)"}`, want: `{"s":"Hello Ada, you are 41 {literal}"}`},
		{name: "Format quote escape", tmpl: `{"s.$":"States.Format('it\\'s {}', $.name)"}`, want: `{"s":"it's Ada"}`},
		{name: "StringToJson", tmpl: `{"v.$":"States.StringToJson($.raw)"}`, want: `{"v":{"k":[1,2]}}`},
		{name: "JsonToString", tmpl: `{"v.$":"States.JsonToString($.cart.lines[0])"}`, want: `{"v":"{\"code\":\"C1\"}"}`},
		{name: "Array", tmpl: `{"v.$":"States.Array($.name, 1, 'x', true, null)"}`, want: `{"v":["Ada",1,"x",true,null]}`},
		{name: "MathAdd", tmpl: `{"v.$":"States.MathAdd($.n, 1)"}`, want: `{"v":42}`},
		{name: "MathAdd negative", tmpl: `{"v.$":"States.MathAdd($.n, -50)"}`, want: `{"v":-9}`},
		{name: "nested calls", tmpl: `{"v.$":"States.JsonToString(States.Array($.n, States.MathAdd(1, 2)))"}`, want: `{"v":"[41,3]"}`},
		{name: "ArrayLength", tmpl: `{"v.$":"States.ArrayLength($.cart.lines)"}`, want: `{"v":2}`},
		{name: "ArrayGetItem", tmpl: `{"v.$":"States.ArrayGetItem($.cart.lines, 1)"}`, want: `{"v":{"code":"C2"}}`},
		{name: "StringSplit", tmpl: `{"v.$":"States.StringSplit($.csv, ',')"}`, want: `{"v":["a","b","c"]}`},
		{name: "Base64 round trip", tmpl: `{"v.$":"States.Base64Decode(States.Base64Encode($.name))"}`, want: `{"v":"Ada"}`},
		{name: "missing path", tmpl: `{"v.$":"$.nope"}`, wantErr: "The JSONPath '$.nope' specified for the field 'v.$' could not be found in the input"},
		{name: "non-string path", tmpl: `{"v.$":3}`, wantErr: "must be a path"},
		{name: "unknown function", tmpl: `{"v.$":"States.Nope(1)"}`, wantErr: "unsupported intrinsic"},
		{name: "MathAdd non-integer", tmpl: `{"v.$":"States.MathAdd(1.5, 1)"}`, wantErr: "must be integers"},
		{name: "Format arity", tmpl: `{"v.$":"States.Format('{} {}', 1)"}`, wantErr: "more {} than arguments"},
		{name: "StringToJson bad", tmpl: `{"v.$":"States.StringToJson($.name)"}`, wantErr: "StringToJson"},
		{name: "unterminated", tmpl: `{"v.$":"States.Array(1, 2"}`, wantErr: "missing )"},
		{name: "trailing", tmpl: `{"v.$":"States.Array(1) x"}`, wantErr: "after intrinsic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := applyTemplate(mustJSON(t, tt.tmpl), sc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v (%v), want error containing %q", encodeJSON(got), err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if encodeJSON(got) != encodeJSON(mustJSON(t, tt.want)) {
				t.Fatalf("got %s, want %s", encodeJSON(got), tt.want)
			}
		})
	}
}

func TestIntrinsicFailureIsCatchable(t *testing.T) {
	_, err := applyTemplate(mustJSON(t, `{"v.$":"States.MathAdd('a', 1)"}`), scope{input: map[string]any{}})
	if se := asStateError(err); se.Name != "States.IntrinsicFailure" {
		t.Fatalf("error name %q, want States.IntrinsicFailure", se.Name)
	}
	_, err = applyTemplate(mustJSON(t, `{"v.$":"$.missing"}`), scope{input: map[string]any{}})
	if se := asStateError(err); se.Name != "States.Runtime" {
		t.Fatalf("error name %q, want States.Runtime", se.Name)
	}
}

func TestUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, err := evalExpr("States.UUID()", scope{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := evalExpr("States.UUID()", scope{})
	if !re.MatchString(a.(string)) || a == b {
		t.Fatalf("UUIDs %v and %v: want two distinct v4 UUIDs", a, b)
	}
}
