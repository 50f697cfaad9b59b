// Package iam enforces IAM on the local cloud: each function calls DynamoDB, Step
// Functions, SES v2 and Secrets Manager with its own access key, and a proxy in front
// of each local service checks the call against the identity-based policies of the
// function's role, as AWS would, before letting it through.
//
// Policies are the resolved documents of the transformed template's AWS::IAM::Role
// resources (RolePolicies reads a role's Properties; ParsePolicy one document;
// ManagedPolicy the AWS managed policies SAM attaches). Evaluation is IAM's
// identity-policy logic: an explicit Deny wins, then any Allow, else the call is
// implicitly denied. Actions match case-insensitively, resources case-sensitively, both
// with * and ? wildcards; conditions support the String*, Arn*, Bool and Null operators,
// the ForAnyValue:/ForAllValues: prefixes and the IfExists suffix. Anything the
// evaluator cannot honour (another operator, a policy variable) is refused when the
// policy is loaded, and a condition on a key the local cloud cannot compute never
// makes a call allowed: the local cloud is never more permissive than AWS.
//
// Use:
//
//	a, _ := iam.New(iam.Config{Account: "123456789012", Region: "us-east-1", SecretARN: secrets.ARN})
//	pols, _ := iam.RolePolicies(resolvedRoleProperties)
//	_ = a.AddRole("OrderFunctionRole", pols...)
//	_ = a.AddKey("AKIDORDER", "secret", "OrderFunctionRole", "OrderFunction")
//	ddb, _ := a.Proxy(iam.DynamoDB, "http://127.0.0.1:8000") // serve it; point AWS_ENDPOINT_URL_DYNAMODB at it
//	err := a.Authorize("CheckoutStateMachineRole", "lambda:InvokeFunction", functionARN)
//	report := a.Usage() // allowed (role, action, resource); statements never used
//	_ = report.WriteText(os.Stderr)
//
// A request is classified into the authorisations it needs following each service's
// page of the Service Authorization Reference: a DynamoDB transaction is authorised
// item by item as PutItem/UpdateItem/DeleteItem/ConditionCheckItem/GetItem on each
// item's table, a Query or Scan of an index on the index's ARN, Step Functions task
// tokens on "*", an SES v2 SendEmail on the sender's address identity or its domain's
// (allowed when either is allowed and neither explicitly denied) with ses:FromAddress
// and ses:Recipients, a Secrets Manager call on the secret's full ARN.
package iam
