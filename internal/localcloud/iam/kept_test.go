package iam

import (
	"strings"
	"testing"
)

func TestKeptReason(t *testing.T) {
	tests := []struct {
		sid  string
		want bool
	}{
		{"MoodleOnlySettings", true},
		{"FailurePathReleaseClaim", true},
		{"MoodleOnly", true},
		{"", false},
		{"Settings", false},
		{"NotMoodleOnly", false},      // the marker starts the Sid
		{"moodleonlySettings", false}, // Sids are case-sensitive, so is the marker
	}
	for _, tt := range tests {
		t.Run(tt.sid, func(t *testing.T) {
			reason, ok := KeptReason(tt.sid)
			if ok != tt.want || (ok && reason == "") || (!ok && reason != "") {
				t.Errorf("KeptReason(%q) = %q, %v; want ok %v with a reason when ok", tt.sid, reason, ok, tt.want)
			}
		})
	}
}

// authorizerWithRoleR returns an authorizer of account 123456789012 with one role, R,
// whose one policy, P, is doc.
func authorizerWithRoleR(t *testing.T, doc []byte) *Authorizer {
	t.Helper()
	pol, err := ParsePolicy("P", doc)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{Account: "123456789012", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddRole("R", pol); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestUsageKept: a statement marked with a kept Sid that no call used (wholly or in
// part) is listed as kept, with its reason, and is not a violation; an unmarked one is.
func TestUsageKept(t *testing.T) {
	const table = "arn:aws:dynamodb:us-east-1:123456789012:table/t"
	a := authorizerWithRoleR(t, []byte(`{"Version":"2012-10-17","Statement":[
		{"Sid":"Table","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:UpdateItem"],"Resource":"`+table+`"},
		{"Sid":"FailurePathRelease","Effect":"Allow","Action":"dynamodb:DeleteItem","Resource":"`+table+`"},
		{"Sid":"MoodleOnlySettings","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:s-*"},
		{"Sid":"FailurePathPartly","Effect":"Allow","Action":["dynamodb:PutItem","dynamodb:BatchWriteItem"],"Resource":"`+table+`"},
		{"Effect":"Allow","Action":"dynamodb:Scan","Resource":"`+table+`"}
	]}`))
	for _, action := range []string{"dynamodb:GetItem", "dynamodb:PutItem"} {
		if err := a.Authorize("R", action, table); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
	}
	rep := a.Usage()

	type row struct {
		sid     string
		unused  bool
		actions string
	}
	var kept []row
	for _, k := range rep.Kept {
		if k.Reason == "" {
			t.Errorf("kept statement %s has no reason", k.Sid)
		}
		kept = append(kept, row{k.Sid, k.Unused, strings.Join(k.UnusedActions, ",")})
	}
	want := []row{
		{"FailurePathRelease", true, ""},
		{"MoodleOnlySettings", true, ""},
		{"FailurePathPartly", false, "dynamodb:BatchWriteItem"},
	}
	if len(kept) != len(want) {
		t.Fatalf("kept = %+v, want %+v", kept, want)
	}
	for i := range want {
		if kept[i] != want[i] {
			t.Errorf("kept[%d] = %+v, want %+v", i, kept[i], want[i])
		}
	}

	violations := rep.Violations()
	if len(violations) != 2 ||
		!strings.Contains(violations[0], "statement 4 Allow") || !strings.HasPrefix(violations[0], "unused: ") ||
		!strings.Contains(violations[1], "(Table)") || !strings.Contains(violations[1], "dynamodb:UpdateItem") {
		t.Errorf("violations = %q, want the unmarked Scan statement unused and Table's UpdateItem", violations)
	}

	TextReportHas(t, rep,
		"IAM: 3 statements kept although no local call used them (all or part)\n",
		"R  P  statement 1 (FailurePathRelease) Allow  kept: used only when a call fails",
		"R  P  statement 2 (MoodleOnlySettings) Allow  kept: used only with LmsAdapter=moodle",
		"R  P  statement 3 (FailurePathPartly) Allow  unused actions: dynamodb:BatchWriteItem  kept: ",
	)
}

// TextReportHas fails t unless rep's text report contains each of wants. It is
// exported so that the package's external tests (proxy_test.go) check the report the
// same way.
func TextReportHas(t *testing.T, rep Report, wants ...string) {
	t.Helper()
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range wants {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
}

// TestViolationsManaged: AWS managed policies' statements are never violations (the
// local cloud sees no CloudWatch Logs or X-Ray calls).
func TestViolationsManaged(t *testing.T) {
	rep := Report{Unused: []StatementRef{{Role: "R", Policy: "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess", Managed: true}}}
	if v := rep.Violations(); len(v) != 0 {
		t.Errorf("violations = %q, want none", v)
	}
}

// TestAbsorb: the usage of a second cloud of the same template counts in the first's
// report, its resources matched by position (a secret's ARN differs between clouds);
// a cloud whose roles differ is refused and changes nothing.
func TestAbsorb(t *testing.T) {
	const table = "arn:aws:dynamodb:us-east-1:123456789012:table/t"
	doc := func(secret, extra string) []byte {
		return []byte(`{"Version":"2012-10-17","Statement":[
			{"Sid":"Table","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem"],"Resource":"` + table + `"},
			{"Sid":"Settings","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:` + secret + `"}` + extra + `
		]}`)
	}
	cloud := func(secret, extra string) *Authorizer {
		t.Helper()
		return authorizerWithRoleR(t, doc(secret, extra))
	}
	a, b := cloud("s-AAAAAA", ""), cloud("s-BBBBBB", "")
	if err := a.Authorize("R", "dynamodb:GetItem", table); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ action, resource string }{
		{"dynamodb:PutItem", table},
		{"secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-BBBBBB"},
	} {
		if err := b.Authorize("R", c.action, c.resource); err != nil {
			t.Fatal(err)
		}
	}
	before := a.Usage()
	if len(before.Unused) != 1 || len(before.Partial) != 1 {
		t.Fatalf("before: unused %+v, partial %+v; want Settings unused and Table's PutItem", before.Unused, before.Partial)
	}

	other := cloud("s-CCCCCC", `,{"Effect":"Allow","Action":"dynamodb:Scan","Resource":"`+table+`"}`)
	if err := other.Authorize("R", "dynamodb:Scan", table); err != nil {
		t.Fatal(err)
	}
	if err := a.Absorb(other); err == nil {
		t.Error("absorbing a cloud of another template succeeded")
	}
	if after := a.Usage(); len(after.Unused) != 1 || len(after.Partial) != 1 || len(after.Allowed) != 1 {
		t.Errorf("a refused absorb changed the report: %+v", after)
	}

	if err := a.Absorb(b); err != nil {
		t.Fatal(err)
	}
	rep := a.Usage()
	if len(rep.Unused) != 0 || len(rep.Partial) != 0 || len(rep.Violations()) != 0 {
		t.Errorf("after absorbing: unused %+v, partial %+v; want every grant used", rep.Unused, rep.Partial)
	}
	if len(rep.Allowed) != 3 {
		t.Errorf("allowed = %+v, want GetItem, PutItem and the secret", rep.Allowed)
	}
}
