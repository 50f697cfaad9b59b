// Package cfntest gives tests the templates they need around the SAM transform.
package cfntest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// RefusedTemplate writes, in a test's temporary directory, the repository's template
// (under repoRoot) with one change the SAM transform refuses, and returns its path: an
// AWS_IAM route on an API that does not enable the IAM authorizer. The transform's
// message names it: "Unable to set Authorizer [AWS_IAM] on API method [any] for path
// [/ops/{proxy+}]".
func RefusedTemplate(t *testing.T, repoRoot string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(raw), "EnableIamAuthorizer: true", "EnableIamAuthorizer: false", 1)
	if broken == string(raw) {
		t.Fatal("template.yaml no longer enables the IAM authorizer; update cfntest.RefusedTemplate")
	}
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
