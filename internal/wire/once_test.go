package wire

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// A client or setting is built once per Deps and key, its error included: a cold start
// that asks for the settings from two builders reads the secret once.
func TestOnceBuildsEachKeyOnce(t *testing.T) {
	d := NewDeps(Config{TableName: "t"}, aws.Config{Region: "us-east-1"}, nil)
	builds := map[string]int{}
	build := func(key string, err error) func() (any, error) {
		return func() (any, error) { builds[key]++; return key + "-value", err }
	}
	refused := errors.New("refused")
	for _, tc := range []struct {
		key     string
		err     error
		want    string
		wantErr error
	}{
		{"a", nil, "a-value", nil},
		{"a", refused, "a-value", nil}, // built already: the second build is not run
		{"b", refused, "b-value", refused},
		{"b", nil, "b-value", refused}, // the first answer stays, error included
	} {
		v, err := d.Once(tc.key, build(tc.key, tc.err))
		if v != tc.want || !errors.Is(err, tc.wantErr) {
			t.Errorf("Once(%s) = %v, %v; want %v, %v", tc.key, v, err, tc.want, tc.wantErr)
		}
	}
	if builds["a"] != 1 || builds["b"] != 1 {
		t.Errorf("builds = %v, want one per key", builds)
	}
}
