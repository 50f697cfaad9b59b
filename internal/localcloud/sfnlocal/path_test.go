package sfnlocal

import (
	"errors"
	"strings"
	"testing"
)

func TestPathGet(t *testing.T) {
	doc := mustJSON(t, `{"a":{"b":[10,{"c":"x"}]},"list":[{"id":1},{"id":2},{"n":3}],"odd key":true,"n":null}`)
	tests := []struct {
		path    string
		want    string
		wantErr string
	}{
		{path: "$", want: encodeJSON(doc)},
		{path: "$.a.b[0]", want: `10`},
		{path: "$.a.b[1].c", want: `"x"`},
		{path: "$['odd key']", want: `true`},
		{path: `$["a"]["b"][0]`, want: `10`},
		{path: "$.n", want: `null`},
		{path: "$.list[*].id", want: `[1,2]`},
		{path: "$.list.*.n", want: `[3]`},
		{path: "$.missing[*]", want: `[]`},
		{path: "$.missing", wantErr: "path not found"},
		{path: "$.a.b[5]", wantErr: "path not found"},
		{path: "$.a.b.c", wantErr: "path not found"},
		{path: "a.b", wantErr: "must start with $"},
		{path: "$.a[", wantErr: "unterminated"},
		{path: "$.a[x]", wantErr: "invalid index"},
		{path: "$.a[-1]", wantErr: "invalid index"},
		{path: "$..a", wantErr: "invalid field name"},
		{path: "$.a b", wantErr: "path not found"}, // dot names may hold spaces; this one is absent
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p, err := parsePath(tt.path)
			if err == nil {
				var v any
				v, err = p.get(doc)
				if err == nil {
					if tt.wantErr != "" {
						t.Fatalf("got %s, want error %q", encodeJSON(v), tt.wantErr)
					}
					if encodeJSON(v) != tt.want {
						t.Fatalf("got %s, want %s", encodeJSON(v), tt.want)
					}
					return
				}
			}
			if tt.wantErr == "" {
				t.Fatalf("unexpected error: %v", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q does not mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestContextPath(t *testing.T) {
	p, err := parsePath("$$.Execution.Id")
	if err != nil {
		t.Fatal(err)
	}
	if !p.context {
		t.Fatal("$$ path not marked as context path")
	}
	v, err := p.get(map[string]any{"Execution": map[string]any{"Id": "arn:x"}})
	if err != nil || v != "arn:x" {
		t.Fatalf("got %v, %v", v, err)
	}
}

func TestPathSet(t *testing.T) {
	tests := []struct {
		name, doc, path, val, want, wantErr string
	}{
		{name: "root replaces", doc: `{"a":1}`, path: "$", val: `{"r":2}`, want: `{"r":2}`},
		{name: "adds field", doc: `{"a":1}`, path: "$.b", val: `2`, want: `{"a":1,"b":2}`},
		{name: "creates objects", doc: `{"a":1}`, path: "$.x.y.z", val: `true`, want: `{"a":1,"x":{"y":{"z":true}}}`},
		{name: "overwrites", doc: `{"a":{"b":1,"c":2}}`, path: "$.a.b", val: `"n"`, want: `{"a":{"b":"n","c":2}}`},
		{name: "into array", doc: `{"a":[1,2]}`, path: "$.a[1]", val: `9`, want: `{"a":[1,9]}`},
		{name: "through scalar", doc: `{"a":1}`, path: "$.a.b", val: `2`, wantErr: "cannot add field"},
		{name: "index out of range", doc: `{"a":[1]}`, path: "$.a[3]", val: `2`, wantErr: "index 3"},
		{name: "wildcard", doc: `{"a":[1]}`, path: "$.a[*]", val: `2`, wantErr: "not a reference path"},
		{name: "context", doc: `{}`, path: "$$.Execution", val: `2`, wantErr: "not a reference path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustJSON(t, tt.doc)
			before := encodeJSON(doc)
			p, err := parsePath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.set(doc, mustJSON(t, tt.val))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if encodeJSON(got) != encodeJSON(mustJSON(t, tt.want)) {
				t.Fatalf("got %s, want %s", encodeJSON(got), tt.want)
			}
			if encodeJSON(doc) != before {
				t.Fatalf("set mutated its input: %s", encodeJSON(doc))
			}
		})
	}
}

func mustJSON(t testing.TB, s string) any {
	t.Helper()
	v, err := decodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("bad test JSON %q: %v", s, err)
	}
	return v
}

// FuzzPath checks that any path either fails to parse or evaluates without panicking,
// and that for definite input paths, a value set at the path reads back unchanged.
func FuzzPath(f *testing.F) {
	for _, seed := range [][2]string{
		{"$", `{"a":1}`},
		{"$.a.b[0]", `{"a":{"b":[1,2]}}`},
		{"$['x y'][1]", `{"x y":[0,{"k":"v"}]}`},
		{"$.items[*].id", `{"items":[{"id":1},{"id":2}]}`},
		{"$$.Execution.Id", `{}`},
		{"$.a[", `{}`},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, path, doc string) {
		p, err := parsePath(path)
		if err != nil {
			return
		}
		v, err := decodeJSON([]byte(doc))
		if err != nil {
			return
		}
		if _, err := p.get(v); err != nil && p.isDefinite() && !errors.Is(err, errPathNotFound) {
			t.Fatalf("get(%q) returned a non-not-found error: %v", path, err)
		}
		if p.context || !p.isDefinite() {
			return
		}
		marker := map[string]any{"fuzz": "marker"}
		out, err := p.set(v, marker)
		if err != nil {
			return
		}
		got, err := p.get(out)
		if err != nil {
			t.Fatalf("value set at %q cannot be read back: %v", path, err)
		}
		if encodeJSON(got) != encodeJSON(marker) {
			t.Fatalf("read back %s at %q, want the marker", encodeJSON(got), path)
		}
	})
}
