package sfnlocal

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestChoiceRules(t *testing.T) {
	input := `{"s":"beta","s2":"beta","n":10,"big":9007199254740993,"f":2.5,"b":true,"nul":null,
		"ts":"2026-03-01T12:00:00Z","ts2":"2026-03-01T13:00:00Z","obj":{"k":1},"file":"report-2026.pdf","star":"a*b"}`
	tests := []struct {
		rule    string
		want    bool
		wantErr string
	}{
		{rule: `{"Variable":"$.s","StringEquals":"beta"}`, want: true},
		{rule: `{"Variable":"$.s","StringEquals":"alpha"}`, want: false},
		{rule: `{"Variable":"$.n","StringEquals":"10"}`, want: false}, // wrong type is false, not an error
		{rule: `{"Variable":"$.s","StringEqualsPath":"$.s2"}`, want: true},
		{rule: `{"Variable":"$.s","StringLessThan":"gamma"}`, want: true},
		{rule: `{"Variable":"$.s","StringLessThanPath":"$.s2"}`, want: false},
		{rule: `{"Variable":"$.s","StringGreaterThan":"alpha"}`, want: true},
		{rule: `{"Variable":"$.s","StringGreaterThanPath":"$.s2"}`, want: false},
		{rule: `{"Variable":"$.s","StringLessThanEquals":"beta"}`, want: true},
		{rule: `{"Variable":"$.s","StringLessThanEqualsPath":"$.s2"}`, want: true},
		{rule: `{"Variable":"$.s","StringGreaterThanEquals":"beta"}`, want: true},
		{rule: `{"Variable":"$.s","StringGreaterThanEqualsPath":"$.s2"}`, want: true},
		{rule: `{"Variable":"$.file","StringMatches":"report-*.pdf"}`, want: true},
		{rule: `{"Variable":"$.file","StringMatches":"report-*.csv"}`, want: false},
		{rule: `{"Variable":"$.file","StringMatches":"*"}`, want: true},
		{rule: `{"Variable":"$.star","StringMatches":"a\\*b"}`, want: true},
		{rule: `{"Variable":"$.file","StringMatches":"a\\*b"}`, want: false},
		{rule: `{"Variable":"$.n","NumericEquals":10}`, want: true},
		{rule: `{"Variable":"$.n","NumericEquals":10.0}`, want: true},
		{rule: `{"Variable":"$.big","NumericEquals":9007199254740992}`, want: false}, // exact, no float rounding
		{rule: `{"Variable":"$.n","NumericEqualsPath":"$.n"}`, want: true},
		{rule: `{"Variable":"$.f","NumericLessThan":3}`, want: true},
		{rule: `{"Variable":"$.f","NumericLessThanPath":"$.n"}`, want: true},
		{rule: `{"Variable":"$.n","NumericGreaterThan":10}`, want: false},
		{rule: `{"Variable":"$.n","NumericGreaterThanPath":"$.f"}`, want: true},
		{rule: `{"Variable":"$.n","NumericLessThanEquals":10}`, want: true},
		{rule: `{"Variable":"$.n","NumericLessThanEqualsPath":"$.f"}`, want: false},
		{rule: `{"Variable":"$.n","NumericGreaterThanEquals":10}`, want: true},
		{rule: `{"Variable":"$.f","NumericGreaterThanEqualsPath":"$.n"}`, want: false},
		{rule: `{"Variable":"$.s","NumericEquals":1}`, want: false},
		{rule: `{"Variable":"$.b","BooleanEquals":true}`, want: true},
		{rule: `{"Variable":"$.b","BooleanEqualsPath":"$.b"}`, want: true},
		{rule: `{"Variable":"$.n","BooleanEquals":true}`, want: false},
		{rule: `{"Variable":"$.ts","TimestampEquals":"2026-03-01T13:00:00+01:00"}`, want: true},
		{rule: `{"Variable":"$.ts","TimestampEqualsPath":"$.ts2"}`, want: false},
		{rule: `{"Variable":"$.ts","TimestampLessThan":"2026-03-01T12:00:01Z"}`, want: true},
		{rule: `{"Variable":"$.ts","TimestampLessThanPath":"$.ts2"}`, want: true},
		{rule: `{"Variable":"$.ts","TimestampGreaterThan":"2026-03-01T12:00:00Z"}`, want: false},
		{rule: `{"Variable":"$.ts2","TimestampGreaterThanPath":"$.ts"}`, want: true},
		{rule: `{"Variable":"$.ts","TimestampLessThanEquals":"2026-03-01T12:00:00Z"}`, want: true},
		{rule: `{"Variable":"$.ts2","TimestampLessThanEqualsPath":"$.ts"}`, want: false},
		{rule: `{"Variable":"$.ts","TimestampGreaterThanEquals":"2026-03-01T12:00:00Z"}`, want: true},
		{rule: `{"Variable":"$.ts","TimestampGreaterThanEqualsPath":"$.ts2"}`, want: false},
		{rule: `{"Variable":"$.s","TimestampEquals":"2026-03-01T12:00:00Z"}`, want: false},
		{rule: `{"Variable":"$.nul","IsNull":true}`, want: true},
		{rule: `{"Variable":"$.n","IsNull":true}`, want: false},
		{rule: `{"Variable":"$.n","IsPresent":true}`, want: true},
		{rule: `{"Variable":"$.gone","IsPresent":true}`, want: false},
		{rule: `{"Variable":"$.gone","IsPresent":false}`, want: true},
		{rule: `{"Variable":"$.s","IsString":true}`, want: true},
		{rule: `{"Variable":"$.n","IsString":false}`, want: true},
		{rule: `{"Variable":"$.f","IsNumeric":true}`, want: true},
		{rule: `{"Variable":"$.s","IsNumeric":true}`, want: false},
		{rule: `{"Variable":"$.b","IsBoolean":true}`, want: true},
		{rule: `{"Variable":"$.ts","IsTimestamp":true}`, want: true},
		{rule: `{"Variable":"$.s","IsTimestamp":true}`, want: false},
		{rule: `{"And":[{"Variable":"$.n","NumericEquals":10},{"Variable":"$.b","BooleanEquals":true}]}`, want: true},
		{rule: `{"And":[{"Variable":"$.n","NumericEquals":10},{"Variable":"$.b","BooleanEquals":false}]}`, want: false},
		{rule: `{"Or":[{"Variable":"$.n","NumericEquals":1},{"Variable":"$.s","StringEquals":"beta"}]}`, want: true},
		{rule: `{"Or":[{"Variable":"$.n","NumericEquals":1},{"Variable":"$.s","StringEquals":"x"}]}`, want: false},
		{rule: `{"Not":{"Variable":"$.s","StringEquals":"beta"}}`, want: false},
		{rule: `{"Not":{"Variable":"$.gone","IsPresent":true}}`, want: true},
		{rule: `{"Variable":"$$.Execution.Name","StringEquals":"tx-1"}`, want: true},
		{rule: `{"Variable":"$.gone","StringEquals":"x"}`, wantErr: "Invalid path '$.gone': The choice state's condition path references an invalid value."},
		{rule: `{"Variable":"$.s","StringEqualsPath":"$.gone"}`, wantErr: "Invalid path '$.gone' : No results for path: $['gone']"},
	}
	sc := scope{input: mustJSON(t, input), ctx: mustJSON(t, `{"Execution":{"Name":"tx-1"}}`)}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			var r choiceRule
			if err := json.Unmarshal([]byte(tt.rule), &r); err != nil {
				t.Fatalf("parse: %v", err)
			}
			if err := r.validate(false); err != nil {
				t.Fatalf("validate: %v", err)
			}
			got, err := r.eval(sc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestChoiceRuleRejectsBadRules(t *testing.T) {
	tests := []struct{ rule, wantErr string }{
		{`{"Variable":"$.a","StringEquals":1}`, "wrong type"},
		{`{"Variable":"$.a","NumericEquals":"1"}`, "wrong type"},
		{`{"Variable":"$.a","TimestampEquals":"yesterday"}`, "wrong type"},
		{`{"Variable":"$.a","IsNull":"yes"}`, "wrong type"},
		{`{"Variable":"$.a","StringEquals":"x","NumericEquals":1}`, "two operators"},
		{`{"Variable":"$.a","Bogus":1}`, "unknown field"},
		{`{"Variable":"a","StringEquals":"x"}`, "must start with $"},
		{`{"Variable":"$.a","StringEqualsPath":"nope"}`, "must start with $"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			var r choiceRule
			err := json.Unmarshal([]byte(tt.rule), &r)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
	shapeTests := []struct{ rule, wantErr string }{
		{`{"StringEquals":"x","Next":"A"}`, "needs a Variable"},
		{`{"Variable":"$.a","Next":"A"}`, "exactly one"},
		{`{"Variable":"$.a","StringEquals":"x"}`, "needs Next"},
		{`{"And":[{"Variable":"$.a","StringEquals":"x","Next":"B"}],"Next":"A"}`, "must not have Next"},
		{`{"And":[],"Next":"A"}`, "at least one"},
	}
	for _, tt := range shapeTests {
		t.Run(tt.rule, func(t *testing.T) {
			var r choiceRule
			if err := json.Unmarshal([]byte(tt.rule), &r); err != nil {
				t.Fatal(err)
			}
			err := r.validate(true)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}
