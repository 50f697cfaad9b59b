package sfnlocal

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

var substitutionRE = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// Substitute replaces ${Name} placeholders in an ASL definition with values, as SAM's
// DefinitionSubstitutions does, so the local cloud can run statemachine/*.asl.json
// unchanged. Values are JSON-escaped because placeholders sit inside JSON strings. A
// placeholder without a value is an error: a silently unresolved ARN would only fail
// later, mid-execution.
func Substitute(definition []byte, values map[string]string) ([]byte, error) {
	missing := map[string]bool{}
	out := substitutionRE.ReplaceAllFunc(definition, func(m []byte) []byte {
		name := string(m[2 : len(m)-1])
		v, ok := values[name]
		if !ok {
			missing[name] = true
			return m
		}
		quoted, _ := json.Marshal(v) // marshalling a string cannot fail
		return quoted[1 : len(quoted)-1]
	})
	if len(missing) > 0 {
		names := slices.Sorted(maps.Keys(missing))
		return nil, fmt.Errorf("definition substitutions without a value: %s", strings.Join(names, ", "))
	}
	return out, nil
}
