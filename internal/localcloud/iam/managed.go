package iam

import (
	"embed"
	"fmt"
	"strings"
)

// The AWS managed policies a SAM-transformed template attaches to the roles it makes,
// as AWS publishes them (default versions): AWSLambdaBasicExecutionRole on every
// function, AWSXrayWriteOnlyAccess (partition aws) or AWSXRayDaemonWriteAccess (other
// partitions) with Tracing: Active.
//
//go:embed managed/*.json
var managedFS embed.FS

// managedPaths maps the part of a managed policy's ARN after "policy/" to its file.
var managedPaths = map[string]string{
	"service-role/AWSLambdaBasicExecutionRole": "managed/AWSLambdaBasicExecutionRole.json",
	"AWSXrayWriteOnlyAccess":                   "managed/AWSXrayWriteOnlyAccess.json",
	"AWSXRayDaemonWriteAccess":                 "managed/AWSXRayDaemonWriteAccess.json",
}

// ManagedPolicy returns the AWS managed policy of that ARN
// (arn:<partition>:iam::aws:policy/<path>). A policy this package does not hold is an
// error: granting nothing for it silently could hide a role that works in AWS, and
// guessing its content could allow what AWS refuses.
func ManagedPolicy(arn string) (*Policy, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "iam" || parts[4] != "aws" {
		return nil, &Error{Op: "iam.managed", Kind: KindInvalid, Message: fmt.Sprintf("%q is not an AWS managed policy ARN", arn)}
	}
	path, ok := strings.CutPrefix(parts[5], "policy/")
	file, known := managedPaths[path]
	if !ok || !known {
		return nil, &Error{Op: "iam.managed", Kind: KindNotFound, Message: fmt.Sprintf("AWS managed policy %s is not known to the local cloud", arn)}
	}
	doc, err := managedFS.ReadFile(file)
	if err != nil {
		return nil, &Error{Op: "iam.managed", Kind: KindNotFound, Message: err.Error()}
	}
	p, err := ParsePolicy(arn, doc)
	if err != nil {
		return nil, err
	}
	p.Managed = true
	return p, nil
}
