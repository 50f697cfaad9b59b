package checkout

import (
	"bytes"
	"encoding/json"
)

// ExecutionInput is what the state machine starts with: the contract between placement
// (internal/purchase) and the workflow's tasks (internal/workflow), which is why it
// lives in the domain both import rather than in either handler. APIURL is the base URL of the
// API the order was placed through (httpapi.BaseURL), also stored on the order: what comes
// after placement builds the API's own links on it.
type ExecutionInput struct {
	TxID    string      `json:"txid"`
	Paymode string      `json:"paymode"`
	Payment PaymentPlan `json:"payment"`
	APIURL  string      `json:"apiUrl"`
	// Order is the order as it was when the execution started, which the tasks read
	// instead of the table (production, billing): what they use of it (lines,
	// customer, seats, totals) does not change after placement, and what does (the
	// status) is checked by the condition of the task's own write. It is null when the
	// order's JSON exceeds MaxInputOrderBytes: the tasks then read the order. It is the
	// order's JSON as json.Marshal writes it, encoded once by placement for the input
	// and the answer alike (OrderJSON).
	Order json.RawMessage `json:"order"`
}

// MaxInputOrderBytes bounds the order carried in an execution's input. Step
// Functions refuses an input, a state's data or a task's payload over 256 KB; half of
// it leaves room for the rest of the state (payment plan, task results, errors). A
// cart holds at most MaxLines lines, so a usual order is far below it; one
// whose catalog items are unusually large goes without.
const MaxInputOrderBytes = 128 << 10

// NewExecutionInput is the input of o's workflow in shop.
func NewExecutionInput(shop *Shop, o *Order) ExecutionInput {
	raw, _ := OrderJSON(o)
	return ExecutionInputWith(shop, o, raw)
}

// OrderJSON is o as the API answers it and the execution input carries it. Placement
// encodes it once for both, where it encoded the order three times (the input's size
// check, the input, the answer).
func OrderJSON(o *Order) (json.RawMessage, error) { return json.Marshal(o) }

// ExecutionInputWith is the input of o's workflow, carrying raw (o's JSON; nil when it
// could not be encoded) unless it is over MaxInputOrderBytes.
func ExecutionInputWith(shop *Shop, o *Order, raw json.RawMessage) ExecutionInput {
	in := ExecutionInput{TxID: o.TxID, Paymode: o.Paymode, Payment: PlanFor(shop, o.Paymode), APIURL: o.APIURL}
	if raw != nil && len(raw) <= MaxInputOrderBytes {
		in.Order = raw
	}
	return in
}

// Encode is in's JSON, the same as json.Marshal(in) writes, without the second pass
// json.Marshal makes over a RawMessage's bytes to check and compact them (as long as
// the order itself): the order was written by json.Marshal, so it is valid and compact.
// The workflow's Start encodes its input with it.
func (in ExecutionInput) Encode() (json.RawMessage, error) {
	order := in.Order
	in.Order = nil
	out, err := json.Marshal(in)
	if err != nil || order == nil {
		return out, err
	}
	// Order is the last field: the encoding ends with "order":null}.
	head := bytes.TrimSuffix(out, []byte("null}"))
	return append(append(append(make([]byte, 0, len(head)+len(order)+1), head...), order...), '}'), nil
}
