package iam

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
)

// Service is a local service the proxies front, named by its SigV4 signing name (which
// is also its IAM action prefix, except SES v2, whose actions are "ses:").
type Service string

// The services with an enforcing proxy.
const (
	DynamoDB       Service = "dynamodb"
	StepFunctions  Service = "states"
	SESv2          Service = "ses"
	SecretsManager Service = "secretsmanager"
)

// targetPrefix is the X-Amz-Target prefix of each JSON-protocol service.
var targetPrefix = map[Service]string{
	DynamoDB:       "DynamoDB_20120810.",
	StepFunctions:  "AWSStepFunctions.",
	SecretsManager: "secretsmanager.",
}

// classifyError is a request the classifier cannot read: answered as the service
// answers a malformed request, and never forwarded.
type classifyError struct {
	code    string // SerializationException, UnknownOperationException, NotFoundException…
	status  int
	message string
}

func (e *classifyError) Error() string { return e.code + ": " + e.message }

func badRequest(format string, args ...any) *classifyError {
	return &classifyError{code: "SerializationException", status: http.StatusBadRequest, message: fmt.Sprintf(format, args...)}
}

// classify turns a request to svc into the authorisations it needs, following each
// service's "Actions, resources, and condition keys" page of the Service Authorization
// Reference.
func (a *Authorizer) classify(svc Service, r *http.Request, body []byte) ([]check, error) {
	if svc == SESv2 {
		return a.classifySES(r, body)
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, targetPrefix[svc])
	if !ok || op == "" || strings.ContainsAny(op, ".:/ ") {
		return nil, &classifyError{code: "UnknownOperationException", status: http.StatusBadRequest, message: fmt.Sprintf("unknown operation %q", target)}
	}
	var in map[string]json.RawMessage
	if len(bytes.TrimSpace(body)) == 0 {
		in = map[string]json.RawMessage{}
	} else if err := json.Unmarshal(body, &in); err != nil || in == nil {
		return nil, badRequest("the request body is not a JSON object")
	}
	switch svc {
	case DynamoDB:
		return a.classifyDynamoDB(op, in)
	case StepFunctions:
		return a.classifyStepFunctions(op, in)
	case SecretsManager:
		return a.classifySecretsManager(op, in)
	}
	return nil, &classifyError{code: "UnknownOperationException", status: http.StatusBadRequest, message: "unknown service " + string(svc)}
}

func (a *Authorizer) arn(service, resource string) string {
	return "arn:" + a.cfg.Partition + ":" + service + ":" + a.cfg.Region + ":" + a.cfg.Account + ":" + resource
}

// str reads a string member of a request ("" when absent); a member of another type is
// an error.
func str(in map[string]json.RawMessage, key string) (string, error) {
	raw, ok := in[key]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", badRequest("%s is not a string", key)
	}
	return s, nil
}

// tableARN is the ARN of a table given by name or, as DynamoDB also accepts, by ARN.
func (a *Authorizer) tableARN(name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return a.arn("dynamodb", "table/"+name)
}

// dynamoContext holds the DynamoDB condition keys read from a request's own members.
// dynamodb:LeadingKeys and dynamodb:Attributes are not computed (they need the table's
// key schema and the expressions parsed): a condition on them is read the safe way.
func dynamoContext(in map[string]json.RawMessage) map[string][]string {
	ctx := map[string][]string{}
	for key, member := range map[string]string{
		"dynamodb:ReturnValues":           "ReturnValues",
		"dynamodb:ReturnConsumedCapacity": "ReturnConsumedCapacity",
		"dynamodb:Select":                 "Select",
	} {
		v, _ := str(in, member)
		if v != "" {
			ctx[key] = []string{v}
		} else {
			ctx[key] = nil
		}
	}
	return ctx
}

func (a *Authorizer) classifyDynamoDB(op string, in map[string]json.RawMessage) ([]check, error) {
	action := "dynamodb:" + op
	switch op {
	case "TransactWriteItems", "TransactGetItems":
		// No IAM action of their own: each item is authorised as the single-item
		// operation it performs, on its own table.
		var items []map[string]map[string]json.RawMessage
		if err := json.Unmarshal(in["TransactItems"], &items); err != nil || len(items) == 0 {
			return nil, badRequest("TransactItems is not a non-empty array of items")
		}
		kinds := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
			"ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
		var checks []check
		for i, item := range items {
			if len(item) != 1 {
				return nil, badRequest("TransactItems[%d] must hold exactly one operation", i)
			}
			for kind, member := range item {
				single, ok := kinds[kind]
				if !ok || (op == "TransactGetItems") != (kind == "Get") {
					return nil, badRequest("TransactItems[%d]: %s has no place in %s", i, kind, op)
				}
				table, err := str(member, "TableName")
				if err != nil || table == "" {
					return nil, badRequest("TransactItems[%d].%s.TableName is missing", i, kind)
				}
				checks = append(checks, check{action: "dynamodb:" + single, resources: []string{a.tableARN(table)}, context: dynamoContext(member)})
			}
		}
		return checks, nil
	case "BatchGetItem", "BatchWriteItem":
		var items map[string]json.RawMessage
		if err := json.Unmarshal(in["RequestItems"], &items); err != nil || len(items) == 0 {
			return nil, badRequest("RequestItems is not a non-empty map of tables")
		}
		tables := slices.Sorted(maps.Keys(items))
		var checks []check
		for _, t := range tables {
			checks = append(checks, check{action: action, resources: []string{a.tableARN(t)}, context: dynamoContext(in)})
		}
		return checks, nil
	}
	table, err := str(in, "TableName")
	if err != nil {
		return nil, err
	}
	resource := "*"
	switch {
	case table != "":
		resource = a.tableARN(table)
		if op == "Query" || op == "Scan" {
			index, err := str(in, "IndexName")
			if err != nil {
				return nil, err
			}
			if index != "" {
				resource += "/index/" + index
			}
		}
	default:
		// Tagging and resource-policy operations name their resource by ARN; the
		// rest (ListTables, DescribeLimits, DescribeEndpoints…) have none.
		if arn, _ := str(in, "ResourceArn"); arn != "" {
			resource = arn
		}
	}
	return []check{{action: action, resources: []string{resource}, context: dynamoContext(in)}}, nil
}

func (a *Authorizer) classifyStepFunctions(op string, in map[string]json.RawMessage) ([]check, error) {
	action := "states:" + op
	resource := "*"
	switch op {
	case "SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat":
		// Resource-less in IAM: a task token names no resource a policy could scope.
	case "CreateStateMachine":
		name, err := str(in, "name")
		if err != nil {
			return nil, err
		}
		if name != "" {
			resource = a.arn("states", "stateMachine:"+name)
		}
	default:
		for _, member := range []string{"executionArn", "stateMachineArn", "resourceArn", "activityArn", "mapRunArn"} {
			v, err := str(in, member)
			if err != nil {
				return nil, err
			}
			if v != "" {
				resource = v
				break
			}
		}
	}
	return []check{{action: action, resources: []string{resource}}}, nil
}

func (a *Authorizer) classifySecretsManager(op string, in map[string]json.RawMessage) ([]check, error) {
	action := "secretsmanager:" + op
	id, err := str(in, "SecretId")
	if err != nil {
		return nil, err
	}
	ctx := map[string][]string{}
	for key, member := range map[string]string{
		"secretsmanager:VersionId":    "VersionId",
		"secretsmanager:VersionStage": "VersionStage",
	} {
		v, err := str(in, member)
		if err != nil {
			return nil, err
		}
		ctx[key] = nil
		if v != "" {
			ctx[key] = []string{v}
		}
	}
	if id == "" {
		return []check{{action: action, resources: []string{"*"}, context: ctx}}, nil
	}
	resource, ok := "", false
	if a.cfg.SecretARN != nil {
		resource, ok = a.cfg.SecretARN(id)
	}
	if !ok {
		resource = id
		if !strings.HasPrefix(id, "arn:") {
			resource = a.arn("secretsmanager", "secret:"+id)
		}
	}
	ctx["secretsmanager:SecretId"] = []string{resource}
	return []check{{action: action, resources: []string{resource}, context: ctx}}, nil
}

// sesSend is the part of an SES v2 SendEmail (or SendBulkEmail) request that
// authorisation reads.
type sesSend struct {
	FromEmailAddress            string
	FromEmailAddressIdentityArn string
	ConfigurationSetName        string
	Destination                 *struct {
		ToAddresses, CcAddresses, BccAddresses []string
	}
	BulkEmailEntries []struct {
		Destination struct {
			ToAddresses, CcAddresses, BccAddresses []string
		}
	}
	FeedbackForwardingEmailAddress string
	Content                        struct {
		Raw *struct{ Data string }
	}
}

func (a *Authorizer) classifySES(r *http.Request, body []byte) ([]check, error) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	var action string
	switch {
	case r.Method == http.MethodPost && path == "/v2/email/outbound-emails":
		action = "ses:SendEmail"
	case r.Method == http.MethodPost && path == "/v2/email/outbound-bulk-emails":
		action = "ses:SendBulkEmail"
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/v2/email/identities/"):
		id, err := url.PathUnescape(strings.TrimPrefix(path, "/v2/email/identities/"))
		if err != nil || id == "" || strings.Contains(id, "/") {
			return nil, &classifyError{code: "NotFoundException", status: http.StatusNotFound, message: "no such route"}
		}
		return []check{{action: "ses:GetEmailIdentity", resources: []string{a.arn("ses", "identity/"+id)}}}, nil
	default:
		return nil, &classifyError{code: "NotFoundException", status: http.StatusNotFound,
			message: fmt.Sprintf("the local IAM proxy does not know the SES v2 operation %s %s", r.Method, r.URL.Path)}
	}
	var in sesSend
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &classifyError{code: "BadRequestException", status: http.StatusBadRequest, message: "the request body is not a valid SendEmail request: " + err.Error()}
	}
	from := in.FromEmailAddress
	if from == "" && in.Content.Raw != nil {
		// A raw message may carry its sender only in its From header.
		if raw, err := base64.StdEncoding.DecodeString(in.Content.Raw.Data); err == nil {
			if msg, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
				from = msg.Header.Get("From")
			}
		}
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, &classifyError{code: "BadRequestException", status: http.StatusBadRequest, message: fmt.Sprintf("FromEmailAddress %q is not an e-mail address", from)}
	}
	var recipients []string
	add := func(lists ...[]string) {
		for _, l := range lists {
			for _, s := range l {
				if a, err := mail.ParseAddress(s); err == nil {
					recipients = append(recipients, a.Address)
				} else {
					recipients = append(recipients, s)
				}
			}
		}
	}
	if d := in.Destination; d != nil {
		add(d.ToAddresses, d.CcAddresses, d.BccAddresses)
	}
	for _, e := range in.BulkEmailEntries {
		add(e.Destination.ToAddresses, e.Destination.CcAddresses, e.Destination.BccAddresses)
	}
	ctx := map[string][]string{
		"ses:FromAddress":     {addr.Address},
		"ses:FromDisplayName": nil,
		"ses:Recipients":      recipients,
		"ses:FeedbackAddress": nil,
		"ses:ApiVersion":      {"2"},
	}
	if addr.Name != "" {
		ctx["ses:FromDisplayName"] = []string{addr.Name}
	}
	if in.FeedbackForwardingEmailAddress != "" {
		ctx["ses:FeedbackAddress"] = []string{in.FeedbackForwardingEmailAddress}
	}
	// SES authorises the send on the identity it sends as: the one named by
	// FromEmailAddressIdentityArn, else the address's own identity if verified, else
	// its domain's. Which is verified is not known here, so both are candidates.
	var identities []string
	if in.FromEmailAddressIdentityArn != "" {
		identities = []string{in.FromEmailAddressIdentityArn}
	} else {
		_, domain, _ := strings.Cut(addr.Address, "@")
		identities = []string{a.arn("ses", "identity/"+addr.Address), a.arn("ses", "identity/"+domain)}
	}
	checks := []check{{action: action, resources: identities, context: ctx}}
	if in.ConfigurationSetName != "" {
		checks = append(checks, check{action: action, resources: []string{a.arn("ses", "configuration-set/"+in.ConfigurationSetName)}, context: ctx})
	}
	return checks, nil
}
