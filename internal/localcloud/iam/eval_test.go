package iam

import (
	"strings"
	"testing"
)

const (
	table = "arn:aws:dynamodb:us-east-1:123456789012:table/Checkout"
	index = "arn:aws:dynamodb:us-east-1:123456789012:table/Checkout/index/gsi1"
)

func mustPolicy(t *testing.T, doc string) *Policy {
	t.Helper()
	p, err := ParsePolicy("test", []byte(doc))
	if err != nil {
		t.Fatalf("ParsePolicy: %v", err)
	}
	return p
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name     string
		policies []string
		req      Request
		want     Decision
	}{
		{
			name:     "allowed action and resource",
			policies: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"` + table + `"}]}`},
			req:      Request{Action: "dynamodb:PutItem", Resource: table},
			want:     Allowed,
		},
		{
			name:     "statement as a single object",
			policies: []string{`{"Statement":{"Effect":"Allow","Action":["dynamodb:GetItem"],"Resource":["` + table + `"]}}`},
			req:      Request{Action: "dynamodb:GetItem", Resource: table},
			want:     Allowed,
		},
		{
			name:     "another action is implicitly denied",
			policies: []string{`{"Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"` + table + `"}]}`},
			req:      Request{Action: "dynamodb:PutItem", Resource: table},
			want:     ImplicitDeny,
		},
		{
			name:     "another table is implicitly denied",
			policies: []string{`{"Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"` + table + `"}]}`},
			req:      Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/Other"},
			want:     ImplicitDeny,
		},
		{
			name:     "a table grant does not cover its indexes",
			policies: []string{`{"Statement":[{"Effect":"Allow","Action":"dynamodb:Query","Resource":"` + table + `"}]}`},
			req:      Request{Action: "dynamodb:Query", Resource: index},
			want:     ImplicitDeny,
		},
		{
			name:     "index wildcard",
			policies: []string{`{"Statement":[{"Effect":"Allow","Action":"dynamodb:Query","Resource":"` + table + `/index/*"}]}`},
			req:      Request{Action: "dynamodb:Query", Resource: index},
			want:     Allowed,
		},
		{
			name: "no policies",
			req:  Request{Action: "dynamodb:GetItem", Resource: table},
			want: ImplicitDeny,
		},
		{
			name: "explicit deny wins over allow in another policy",
			policies: []string{
				`{"Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}`,
				`{"Statement":[{"Effect":"Deny","Action":"dynamodb:DeleteItem","Resource":"` + table + `"}]}`,
			},
			req:  Request{Action: "dynamodb:DeleteItem", Resource: table},
			want: ExplicitDeny,
		},
		{
			name:     "action matching is case-insensitive",
			policies: []string{`{"Statement":[{"Effect":"Allow","Action":"DynamoDB:putitem","Resource":"` + table + `"}]}`},
			req:      Request{Action: "dynamodb:PutItem", Resource: table},
			want:     Allowed,
		},
		{
			name:     "resource matching is case-sensitive",
			policies: []string{`{"Statement":[{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/checkout"}]}`},
			req:      Request{Action: "dynamodb:PutItem", Resource: table},
			want:     ImplicitDeny,
		},
		{
			name:     "action wildcards * and ?",
			policies: []string{`{"Statement":[{"Effect":"Allow","Action":["dynamodb:Get*","dynamodb:?uery"],"Resource":"*"}]}`},
			req:      Request{Action: "dynamodb:Query", Resource: table},
			want:     Allowed,
		},
		{
			name:     "? matches exactly one character",
			policies: []string{`{"Statement":[{"Effect":"Allow","Action":"dynamodb:?Query","Resource":"*"}]}`},
			req:      Request{Action: "dynamodb:Query", Resource: table},
			want:     ImplicitDeny,
		},
		{
			name:     "resource wildcard does not cross ARN parts",
			policies: []string{`{"Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:*:123456789012:table/*"}]}`},
			req:      Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:999999999999:table/Checkout"},
			want:     ImplicitDeny,
		},
		{
			name:     "secret grant with the random suffix wildcard",
			policies: []string{`{"Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:shop-settings-*"}]}`},
			req:      Request{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop-settings-AbC123"},
			want:     Allowed,
		},
		{
			name:     "a resource-less action needs Resource *",
			policies: []string{`{"Statement":[{"Effect":"Allow","Action":"states:SendTaskSuccess","Resource":"arn:aws:states:us-east-1:123456789012:stateMachine:*"}]}`},
			req:      Request{Action: "states:SendTaskSuccess", Resource: "*"},
			want:     ImplicitDeny,
		},
		{
			name:     "NotAction allows every other action",
			policies: []string{`{"Statement":[{"Effect":"Allow","NotAction":"dynamodb:DeleteItem","Resource":"*"}]}`},
			req:      Request{Action: "dynamodb:PutItem", Resource: table},
			want:     Allowed,
		},
		{
			name:     "NotAction does not allow the action it names",
			policies: []string{`{"Statement":[{"Effect":"Allow","NotAction":"dynamodb:DeleteItem","Resource":"*"}]}`},
			req:      Request{Action: "dynamodb:DeleteItem", Resource: table},
			want:     ImplicitDeny,
		},
		{
			name: "Deny with NotResource denies everything else",
			policies: []string{
				`{"Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"},{"Effect":"Deny","Action":"dynamodb:*","NotResource":"` + table + `"}]}`,
			},
			req:  Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/Other"},
			want: ExplicitDeny,
		},
		{
			name: "Deny with NotResource spares the resource it names",
			policies: []string{
				`{"Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"},{"Effect":"Deny","Action":"dynamodb:*","NotResource":"` + table + `"}]}`,
			},
			req:  Request{Action: "dynamodb:GetItem", Resource: table},
			want: Allowed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pols []*Policy
			for _, d := range tt.policies {
				pols = append(pols, mustPolicy(t, d))
			}
			got, refs := Evaluate(pols, &tt.req)
			if got != tt.want {
				t.Fatalf("Evaluate = %v, want %v", got, tt.want)
			}
			if (got == ImplicitDeny) != (len(refs) == 0) {
				t.Errorf("decision %v with matched statements %v", got, refs)
			}
		})
	}
}

func TestConditions(t *testing.T) {
	const ses = "arn:aws:ses:us-east-1:123456789012:identity/*"
	allowIf := func(cond string) string {
		return `{"Statement":[{"Effect":"Allow","Action":"ses:SendEmail","Resource":"` + ses + `","Condition":` + cond + `}]}`
	}
	denyIf := func(cond string) string {
		return `{"Statement":[{"Effect":"Allow","Action":"ses:SendEmail","Resource":"*"},{"Effect":"Deny","Action":"ses:SendEmail","Resource":"*","Condition":` + cond + `}]}`
	}
	from := func(v ...string) map[string][]string {
		return map[string][]string{"ses:FromAddress": v, "ses:Recipients": {"ada@example.com", "bob@example.org"}}
	}
	tests := []struct {
		name   string
		policy string
		ctx    map[string][]string
		want   Decision
	}{
		{"StringEquals matches", allowIf(`{"StringEquals":{"ses:FromAddress":"shop@example.com"}}`), from("shop@example.com"), Allowed},
		{"StringEquals is case-sensitive", allowIf(`{"StringEquals":{"ses:FromAddress":"Shop@example.com"}}`), from("shop@example.com"), ImplicitDeny},
		{"StringEquals other value", allowIf(`{"StringEquals":{"ses:FromAddress":"shop@example.com"}}`), from("evil@example.com"), ImplicitDeny},
		{"StringEquals one of the values", allowIf(`{"StringEquals":{"ses:FromAddress":["a@x.org","shop@example.com"]}}`), from("shop@example.com"), Allowed},
		{"condition key names are case-insensitive", allowIf(`{"StringEquals":{"SES:fromaddress":"shop@example.com"}}`), from("shop@example.com"), Allowed},
		{"StringEquals on an absent key fails", allowIf(`{"StringEquals":{"ses:FromAddress":"shop@example.com"}}`), map[string][]string{"ses:FromAddress": nil}, ImplicitDeny},
		{"StringEqualsIfExists on an absent key holds", allowIf(`{"StringEqualsIfExists":{"ses:FromAddress":"shop@example.com"}}`), map[string][]string{"ses:FromAddress": nil}, Allowed},
		{"StringEqualsIfExists on a present key still compares", allowIf(`{"StringEqualsIfExists":{"ses:FromAddress":"shop@example.com"}}`), from("evil@example.com"), ImplicitDeny},
		{"StringNotEquals other value", allowIf(`{"StringNotEquals":{"ses:FromAddress":"evil@example.com"}}`), from("shop@example.com"), Allowed},
		{"StringNotEquals same value", allowIf(`{"StringNotEquals":{"ses:FromAddress":"evil@example.com"}}`), from("evil@example.com"), ImplicitDeny},
		{"StringNotEquals on an absent key holds", allowIf(`{"StringNotEquals":{"ses:FromAddress":"evil@example.com"}}`), map[string][]string{"ses:FromAddress": nil}, Allowed},
		{"StringLike wildcard", allowIf(`{"StringLike":{"ses:FromAddress":"*@example.com"}}`), from("shop@example.com"), Allowed},
		{"StringLike no match", allowIf(`{"StringLike":{"ses:FromAddress":"*@example.com"}}`), from("shop@example.org"), ImplicitDeny},
		{"StringNotLike", allowIf(`{"StringNotLike":{"ses:FromAddress":"*@evil.com"}}`), from("shop@example.com"), Allowed},
		{"StringNotLike match", allowIf(`{"StringNotLike":{"ses:FromAddress":"*@evil.com"}}`), from("x@evil.com"), ImplicitDeny},
		{"ForAllValues:StringLike all match", allowIf(`{"ForAllValues:StringLike":{"ses:Recipients":["*@example.com","*@example.org"]}}`), from("a@b"), Allowed},
		{"ForAllValues:StringLike one outside", allowIf(`{"ForAllValues:StringLike":{"ses:Recipients":["*@example.com"]}}`), from("a@b"), ImplicitDeny},
		{"ForAllValues on an empty key holds", allowIf(`{"ForAllValues:StringLike":{"ses:Recipients":["*@example.com"]}}`), map[string][]string{"ses:Recipients": nil}, Allowed},
		{"ForAnyValue:StringEquals one matches", allowIf(`{"ForAnyValue:StringEquals":{"ses:Recipients":"bob@example.org"}}`), from("a@b"), Allowed},
		{"ForAnyValue:StringEquals none matches", allowIf(`{"ForAnyValue:StringEquals":{"ses:Recipients":"eve@example.org"}}`), from("a@b"), ImplicitDeny},
		{"ForAnyValue on an empty key fails", allowIf(`{"ForAnyValue:StringEquals":{"ses:Recipients":"eve@example.org"}}`), map[string][]string{"ses:Recipients": nil}, ImplicitDeny},
		{"Bool true", allowIf(`{"Bool":{"ses:Flag":"true"}}`), map[string][]string{"ses:Flag": {"true"}}, Allowed},
		{"Bool as a JSON boolean", allowIf(`{"Bool":{"ses:Flag":true}}`), map[string][]string{"ses:Flag": {"true"}}, Allowed},
		{"Bool false against true", allowIf(`{"Bool":{"ses:Flag":"false"}}`), map[string][]string{"ses:Flag": {"true"}}, ImplicitDeny},
		{"Null true: key absent", allowIf(`{"Null":{"ses:FeedbackAddress":"true"}}`), map[string][]string{"ses:FeedbackAddress": nil}, Allowed},
		{"Null true: key present", allowIf(`{"Null":{"ses:FeedbackAddress":"true"}}`), map[string][]string{"ses:FeedbackAddress": {"x@y"}}, ImplicitDeny},
		{"Null false: key present", allowIf(`{"Null":{"ses:FeedbackAddress":"false"}}`), map[string][]string{"ses:FeedbackAddress": {"x@y"}}, Allowed},
		{"ArnLike", allowIf(`{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/*"}}`), map[string][]string{"aws:PrincipalArn": {"arn:aws:iam::123456789012:role/R"}}, Allowed},
		{"ArnEquals other account", allowIf(`{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/R"}}`), map[string][]string{"aws:PrincipalArn": {"arn:aws:iam::999999999999:role/R"}}, ImplicitDeny},
		{"ArnNotLike", allowIf(`{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin*"}}`), map[string][]string{"aws:PrincipalArn": {"arn:aws:iam::123456789012:role/R"}}, Allowed},
		{"several keys must all hold", allowIf(`{"StringEquals":{"ses:FromAddress":"shop@example.com","ses:ApiVersion":"2"}}`), map[string][]string{"ses:FromAddress": {"shop@example.com"}, "ses:ApiVersion": {"1"}}, ImplicitDeny},
		{"unknown service key never allows", allowIf(`{"StringNotEquals":{"ses:SomethingNew":"x"}}`), from("shop@example.com"), ImplicitDeny},
		{"unknown global key never allows", allowIf(`{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}`), from("shop@example.com"), ImplicitDeny},
		{"another service's key is absent", allowIf(`{"Null":{"dynamodb:LeadingKeys":"true"}}`), from("shop@example.com"), Allowed},
		{"deny condition holds", denyIf(`{"StringNotEquals":{"ses:FromAddress":"shop@example.com"}}`), from("evil@example.com"), ExplicitDeny},
		{"deny condition does not hold", denyIf(`{"StringNotEquals":{"ses:FromAddress":"shop@example.com"}}`), from("shop@example.com"), Allowed},
		{"unknown key always lets a deny apply", denyIf(`{"StringEquals":{"ses:SomethingNew":"x"}}`), from("shop@example.com"), ExplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPolicy(t, tt.policy)
			resource := "arn:aws:ses:us-east-1:123456789012:identity/shop@example.com"
			got, _ := Evaluate([]*Policy{p}, &Request{Action: "ses:SendEmail", Resource: resource, Context: tt.ctx})
			if got != tt.want {
				t.Fatalf("Evaluate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParsePolicyRefuses(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"not JSON", `{`, "not a JSON object"},
		{"no statement", `{"Version":"2012-10-17"}`, "no Statement"},
		{"bad version", `{"Version":"2020-01-01","Statement":[]}`, "Version"},
		{"bad effect", `{"Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}`, "neither Allow nor Deny"},
		{"principal", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`, "identity-based"},
		{"no resource", `{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}`, "Resource"},
		{"both Action and NotAction", `{"Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"s3:Get*","Resource":"*"}]}`, "exactly one of Action"},
		{"unknown element", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Foo":1}]}`, "unknown element"},
		{"unresolved intrinsic", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":{"Fn::Sub":"arn:${AWS::Partition}:s3:::x"}}]}`, "not a string"},
		{"policy variable", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}"}]}`, "policy variable"},
		{"action without service", `{"Statement":[{"Effect":"Allow","Action":"PutItem","Resource":"*"}]}`, "service:action"},
		{"unsupported operator", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`, "not supported"},
		{"bad set operator", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForSomeValues:StringLike":{"k:x":"y"}}}]}`, "set operator"},
		{"Bool not boolean", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}]}`, "true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy("p", []byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParsePolicy error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestManagedPolicy(t *testing.T) {
	tests := []struct {
		arn     string
		action  string
		allowed bool
		wantErr bool
	}{
		{"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "logs:PutLogEvents", true, false},
		{"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "dynamodb:GetItem", false, false},
		{"arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess", "xray:PutTraceSegments", true, false},
		{"arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess", "xray:GetSamplingRules", true, false},
		{"arn:aws:iam::aws:policy/AdministratorAccess", "", false, true},
		{"arn:aws:iam::123456789012:policy/Mine", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.arn+" "+tt.action, func(t *testing.T) {
			p, err := ManagedPolicy(tt.arn)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ManagedPolicy error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			d, _ := Evaluate([]*Policy{p}, &Request{Action: tt.action, Resource: "arn:aws:logs:us-east-1:123456789012:log-group:x"})
			if (d == Allowed) != tt.allowed {
				t.Errorf("%s: %v, want allowed %v", tt.action, d, tt.allowed)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, value string
		resource       bool // resourceMatch rather than actionMatch
		want           bool
	}{
		{"*", "", false, true},
		{"dynamodb:*", "dynamodb:Query", false, true},
		{"dynamodb:*Item", "dynamodb:PutItem", false, true},
		{"dynamodb:*Item", "dynamodb:PutItems", false, false},
		{"dynamodb:*a*b", "dynamodb:xaab", false, true},
		{"dynamodb:Get?tem", "dynamodb:GetItem", false, true},
		{"dynamodb:Get?tem", "dynamodb:Gettem", false, false},
		{"DYNAMODB:QUERY", "dynamodb:Query", false, true},
		{"*", "*", true, true},
		{"*", "arn:aws:dynamodb:us-east-1:1:table/T", true, true},
		{"arn:aws:dynamodb:us-east-1:1:table/T", "*", true, false},
		{"arn:aws:states:*:*:execution:sm:*", "arn:aws:states:us-east-1:1:execution:sm:TX1", true, true},
		{"arn:aws:states:*:*:execution:sm:*", "arn:aws:states:us-east-1:1:execution:sm2:TX1", true, false},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b", true, false},
		{"arn:aws:s3:::b*", "arn:aws:s3:::b/k", true, true},
		{"arn:aws:dynamodb:us-east-1:1:table/T*", "arn:aws:dynamodb:us-east-1:1:table/T/index/gsi1", true, true},
		{"arn:aws:dynamodb:us-east-1:1:table/t", "arn:aws:dynamodb:us-east-1:1:table/T", true, false},
		{"arn:aws:*", "arn:aws:dynamodb:us-east-1:1:table/T", true, false},
	}
	for _, tt := range tests {
		got := actionMatch(tt.pattern, tt.value)
		if tt.resource {
			got = resourceMatch(tt.pattern, tt.value)
		}
		if got != tt.want {
			t.Errorf("match(%q, %q) = %v, want %v", tt.pattern, tt.value, got, tt.want)
		}
	}
}
