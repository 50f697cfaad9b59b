package iam

// Kind classifies an error of this package for its caller.
type Kind string

// The kinds of error the package reports.
const (
	// KindInvalid: a policy, role or request that cannot be read.
	KindInvalid Kind = "invalid"
	// KindNotFound: an unknown role, managed policy or access key.
	KindNotFound Kind = "not_found"
	// KindConflict: a role or access key registered twice.
	KindConflict Kind = "conflict"
)

// Error is an error of the package: the operation, its kind and a message.
type Error struct {
	Op      string
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return e.Op + ": " + e.Message }

// AccessDenied is the refusal of a call by the identity-based policies of a role. Its
// message is the one AWS writes, e.g. "User: arn:aws:sts::123456789012:assumed-role/R/F
// is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:…:table/T
// because no identity-based policy allows the dynamodb:PutItem action".
type AccessDenied struct {
	// Principal is the caller's assumed-role ARN.
	Principal string
	Action    string
	Resource  string
	// Explicit is true when a Deny statement matched, false for an implicit deny.
	Explicit bool
}

func (e *AccessDenied) Error() string {
	why := "because no identity-based policy allows the " + e.Action + " action"
	if e.Explicit {
		why = "with an explicit deny in an identity-based policy"
	}
	return "User: " + e.Principal + " is not authorized to perform: " + e.Action +
		" on resource: " + e.Resource + " " + why
}
