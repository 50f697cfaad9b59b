package iam

import (
	"errors"
	"strings"
	"testing"
)

func TestRolePolicies(t *testing.T) {
	// A role's Properties as the SAM transform writes them, intrinsics resolved.
	const resolved = `{
	  "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}}]},
	  "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"],
	  "Policies": [
	    {"PolicyName": "OrderFunctionRolePolicy0", "PolicyDocument": {"Statement": [{"Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Effect": "Allow",
	      "Resource": ["arn:aws:dynamodb:us-east-1:123456789012:table/T", "arn:aws:dynamodb:us-east-1:123456789012:table/T/index/*"]}]}},
	    {"PolicyName": "OrderFunctionRolePolicy1", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "states:StartExecution",
	      "Resource": "arn:aws:states:us-east-1:123456789012:stateMachine:CheckoutStateMachine-abc"}]}}
	  ],
	  "Tags": [{"Key": "lambda:createdBy", "Value": "SAM"}]
	}`
	pols, err := RolePolicies([]byte(resolved))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pols {
		names = append(names, p.Name)
	}
	want := "OrderFunctionRolePolicy0,OrderFunctionRolePolicy1,arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole,arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"
	if strings.Join(names, ",") != want {
		t.Fatalf("policies = %v, want %s", names, want)
	}
	if d, _ := Evaluate(pols, &Request{Action: "dynamodb:PutItem", Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/T"}); d != Allowed {
		t.Errorf("PutItem on T: %v", d)
	}

	refused := []struct{ name, props, want string }{
		{"unknown managed policy", `{"ManagedPolicyArns":["arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"]}`, "not known to the local cloud"},
		{"unresolved intrinsic", `{"Policies":[{"PolicyName":"P","PolicyDocument":{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":{"Fn::Sub":"arn:${AWS::Partition}:s3:::b"}}]}}]}`, "not a string"},
		{"not an object", `[]`, "role properties"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RolePolicies([]byte(tt.props))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("RolePolicies error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestAuthorizerSetup(t *testing.T) {
	if _, err := New(Config{Region: "us-east-1"}); err == nil {
		t.Error("New without an account succeeded")
	}
	a, err := New(Config{Account: "123456789012", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		do   func() error
		kind Kind // "" for success
	}{
		{"add a role", func() error { return a.AddRole("R") }, ""},
		{"the same role twice", func() error { return a.AddRole("R") }, KindConflict},
		{"a role name with a slash", func() error { return a.AddRole("R/x") }, KindInvalid},
		{"a key for the role", func() error { return a.AddKey("AK", "s", "R", "F") }, ""},
		{"the same key twice", func() error { return a.AddKey("AK", "t", "R", "G") }, KindConflict},
		{"a key for an unknown role", func() error { return a.AddKey("AK2", "s", "Nope", "F") }, KindNotFound},
		{"a key without secret", func() error { return a.AddKey("AK3", "", "R", "F") }, KindConflict},
		{"a proxy for an unknown service", func() error { _, err := a.Proxy("s3", "http://127.0.0.1:1"); return err }, KindInvalid},
		{"a proxy to a relative URL", func() error { _, err := a.Proxy(DynamoDB, "127.0.0.1:1"); return err }, KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			var e *Error
			switch {
			case tt.kind == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.kind != "" && (!errors.As(err, &e) || e.Kind != tt.kind):
				t.Fatalf("err = %v, want kind %s", err, tt.kind)
			}
		})
	}
	// The refused key left the first one in place.
	if k := a.keys["AK"]; k.secret != "s" || k.session != "F" {
		t.Errorf("key AK = %+v after refused changes", k)
	}
}
