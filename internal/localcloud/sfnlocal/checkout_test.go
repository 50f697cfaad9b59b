package sfnlocal

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSubstitute(t *testing.T) {
	tests := []struct {
		name, def, want, wantErr string
		values                   map[string]string
	}{
		{name: "replaces every occurrence", def: `{"a":"${Fn}","b":"x-${Fn}-${Other}"}`, values: map[string]string{"Fn": "arn:f", "Other": "o"}, want: `{"a":"arn:f","b":"x-arn:f-o"}`},
		{name: "escapes for JSON", def: `{"a":"${V}"}`, values: map[string]string{"V": `q"\`}, want: `{"a":"q\"\\"}`},
		{name: "leaves other dollars alone", def: `{"a.$":"$.x","b":"$${"}`, values: nil, want: `{"a.$":"$.x","b":"$${"}`},
		{name: "reports every missing value", def: `{"a":"${B}","b":"${A}"}`, values: map[string]string{}, wantErr: "A, B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Substitute([]byte(tt.def), tt.values)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want error mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

// checkoutFunctions fakes the checkout's Lambda functions well enough to drive the real
// statemachine/checkout.asl.json: the payment function answers its own task token the
// way each scenario's payment would.
type checkoutFunctions struct {
	e        *Engine
	mu       sync.Mutex
	actions  []string
	scenario string // "instant", "refused-then-paid", "never-paid", "paid-at-timeout", "error-but-paid", "error-unpaid", "prepay-fails", "billing-fails", "deliver-cannot-start"
	starts   int
	waiting  chan struct{} // never-paid: signalled once the payment has started
}

func (f *checkoutFunctions) ran() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.actions, " ")
}

func (f *checkoutFunctions) Invoke(_ context.Context, function string, payload []byte) ([]byte, error) {
	var in struct {
		Action, Event, Token string
	}
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, err
	}
	name := function[strings.LastIndex(function, ":")+1:]
	f.mu.Lock()
	f.actions = append(f.actions, name+"."+in.Action+in.Event)
	f.mu.Unlock()
	switch {
	case in.Action == "fault":
	case name == "produce" && in.Action == "prepay" && f.scenario == "prepay-fails",
		name == "bill" && f.scenario == "billing-fails":
		return nil, &FunctionError{Type: "TaskFailed", Message: "LMS refused"}
	}
	switch name {
	case "bill":
		if in.Action == "fault" {
			return []byte(`{"traced":true,"paid":true}`), nil
		}
		return []byte(`{"invoice":"F-2026-0001"}`), nil
	case "payment":
	default:
		return []byte(`{"done":true,"products":null}`), nil
	}
	switch in.Action {
	case "start":
		f.mu.Lock()
		f.starts++
		first := f.starts == 1
		f.mu.Unlock()
		switch {
		case f.scenario == "instant" || f.scenario == "billing-fails" || f.scenario == "deliver-cannot-start":
			return []byte(`{}`), f.e.SendTaskSuccess(in.Token, `{"mode":"free"}`)
		case f.scenario == "refused-then-paid" && first:
			return []byte(`{}`), f.e.SendTaskFailure(in.Token, "PaymentRefused", "card declined")
		case f.scenario == "refused-then-paid":
			return []byte(`{}`), f.e.SendTaskSuccess(in.Token, `{"mode":"transfer"}`)
		case strings.HasPrefix(f.scenario, "error-"):
			// The start itself fails (not a payment refusal): PaymentError.
			return nil, &FunctionError{Type: "TaskFailed", Message: "provider unreachable"}
		}
	case "cancel":
		// The payment function answers from the order's real status: a payment that
		// landed between the timeout and this task left the order paid.
		if f.scenario == "paid-at-timeout" {
			return []byte(`{"cancelled":false,"paid":true}`), nil
		}
		return []byte(`{"cancelled":true,"paid":false}`), nil
	case "fault":
		if f.scenario == "error-but-paid" {
			return []byte(`{"traced":true,"paid":true}`), nil
		}
		return []byte(`{"traced":true,"paid":false}`), nil
	case "awaitRetry":
		// The retry's answer replaces $.payment, so it carries the new mode's delays.
		return []byte(`{}`), f.e.SendTaskSuccess(in.Token, `{"kind":"offline","timeoutSeconds":900,"retrySeconds":900}`)
	}
	f.waiting <- struct{}{}
	return []byte(`{}`), nil // never-paid: the token is left to time out
}

// checkoutMachines creates the real statemachine/*.asl.json on e, each with its type as
// template.yaml declares it, and returns the checkout's ARN and the Express ones'.
// Substitutions in override replace the real ones in the checkout's definition.
func checkoutMachines(tb testing.TB, e *Engine, override map[string]string) (checkout string, express []string) {
	tb.Helper()
	fn := func(n string) string { return "arn:aws:lambda:eu-west-1:111122223333:function:" + n }
	values := map[string]string{
		"ProduceFunctionArn": fn("produce"), "PaymentFunctionArn": fn("payment"),
		"BillFunctionArn": fn("bill"), "NotifyFunctionArn": fn("notify"),
	}
	for _, m := range []struct{ file, key string }{{"prepare", "PrepareStateMachineArn"}, {"deliver", "DeliverStateMachineArn"}} {
		def := realDefinition(tb, m.file, values)
		arn, err := e.CreateMachine(Machine{Name: m.file, Definition: def, Type: TypeExpress})
		if err != nil {
			tb.Fatalf("the real %s definition does not load as an Express machine: %v", m.file, err)
		}
		values[m.key] = arn
		express = append(express, arn)
	}
	for k, v := range override {
		values[k] = v
	}
	checkout, err := e.CreateStateMachine("checkout", realDefinition(tb, "checkout", values))
	if err != nil {
		tb.Fatalf("the real checkout definition does not load: %v", err)
	}
	return checkout, express
}

func realDefinition(tb testing.TB, name string, values map[string]string) []byte {
	tb.Helper()
	raw, err := os.ReadFile("../../../statemachine/" + name + ".asl.json")
	if err != nil {
		tb.Fatal(err)
	}
	def, err := Substitute(raw, values)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return def
}

// TestRealCheckoutDefinition runs statemachine/checkout.asl.json itself, with the
// Express machines it starts.
func TestRealCheckoutDefinition(t *testing.T) {
	tests := []struct {
		scenario    string
		wantStatus  string
		wantActions []string
		// Standard states entered (billed transitions) and Express runs (prepare, deliver).
		transitions int
		runs        []int
		wantError   string
	}{
		// A paid order: two Standard transitions, Payment and Deliver.
		{scenario: "instant", wantStatus: StatusSucceeded, transitions: 2, runs: []int{1, 1},
			wantActions: []string{"produce.prepay", "payment.start", "produce.postpay", "bill.invoice", "notify.delivered"}},
		{scenario: "refused-then-paid", wantStatus: StatusSucceeded, transitions: 4, runs: []int{2, 1},
			wantActions: []string{"produce.prepay", "payment.start", "payment.awaitRetry", "produce.prepay", "payment.start", "produce.postpay", "bill.invoice", "notify.delivered"}},
		{scenario: "never-paid", wantStatus: StatusSucceeded, transitions: 4, runs: []int{1, 0},
			wantActions: []string{"produce.prepay", "payment.start", "payment.cancel"}},
		// A payment landing after the wait timed out but before CancelUnpaid ran: the
		// order is paid, so it is produced and billed, not left undelivered.
		{scenario: "paid-at-timeout", wantStatus: StatusSucceeded, transitions: 4, runs: []int{1, 1},
			wantActions: []string{"produce.prepay", "payment.start", "payment.cancel", "produce.postpay", "bill.invoice", "notify.delivered"}},
		{scenario: "error-but-paid", wantStatus: StatusSucceeded, transitions: 4, runs: []int{1, 1},
			wantActions: []string{"produce.prepay", "payment.start", "payment.fault", "produce.postpay", "bill.invoice", "notify.delivered"}},
		{scenario: "error-unpaid", wantStatus: StatusFailed, transitions: 4, runs: []int{1, 0},
			wantActions: []string{"produce.prepay", "payment.start", "payment.fault"}},
		// Prepay production keeps failing: its fault is traced and the checkout fails,
		// as when ProducePrepay ran in the Standard machine.
		{scenario: "prepay-fails", wantStatus: StatusFailed, transitions: 2, runs: []int{1, 0},
			wantActions: []string{"produce.prepay", "produce.fault"}},
		// Billing keeps failing: the deliver run traces it and fails; the checkout fails
		// without tracing it twice.
		{scenario: "billing-fails", wantStatus: StatusFailed, transitions: 4, runs: []int{1, 1},
			wantActions: []string{"produce.prepay", "payment.start", "produce.postpay", "bill.invoice", "bill.fault"}},
		// The deliver run never ran (here its machine is gone; in AWS also a run past
		// Express's five minutes): nothing traced the fault, so DeliveryFault does.
		{scenario: "deliver-cannot-start", wantStatus: StatusFailed, transitions: 5, runs: []int{1, 0},
			wantActions: []string{"produce.prepay", "payment.start", "produce.fault"}},
		// An input without the order (every start must carry it, null when too large): the
		// Payment state's Parameters select nothing, so the execution fails at once with
		// States.Runtime, which its Catch on States.ALL does not take; nothing runs.
		{scenario: "input-without-order", wantStatus: StatusFailed, wantError: "States.Runtime", transitions: 1, runs: []int{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			fns := &checkoutFunctions{scenario: tt.scenario, waiting: make(chan struct{}, 1)}
			ft := newFakeTime()
			e := newEngine(t, fns, ft)
			fns.e = e
			var override map[string]string
			if tt.scenario == "deliver-cannot-start" {
				override = map[string]string{"DeliverStateMachineArn": "arn:aws:states:eu-west-1:111122223333:stateMachine:gone"}
			}
			smArn, express := checkoutMachines(t, e, override)
			input := `{"txid":"tx-1","paymode":"card","payment":{"kind":"online","timeoutSeconds":900,"retrySeconds":900},"order":null}`
			if tt.scenario == "input-without-order" {
				input = strings.Replace(input, `,"order":null`, "", 1)
			}
			x, _, err := e.StartExecution(smArn, "tx-"+tt.scenario, input)
			if err != nil {
				t.Fatal(err)
			}
			if tt.scenario == "never-paid" || tt.scenario == "paid-at-timeout" {
				// Let the payment mode's delay elapse once the payment has started.
				<-fns.waiting
				for r := range ft.requests {
					if r.d == 900*time.Second {
						r.ch <- time.Time{}
						break
					}
				}
			}
			info := waitFor(t, e, x)
			if info.Status != tt.wantStatus || (tt.wantError != "" && info.Error != tt.wantError) {
				t.Fatalf("status %s %s %s", info.Status, info.Error, info.Cause)
			}
			if got := fns.ran(); got != strings.Join(tt.wantActions, " ") {
				t.Fatalf("functions ran %q, want %q", got, strings.Join(tt.wantActions, " "))
			}
			if info.StateTransitions != tt.transitions {
				t.Fatalf("%d Standard state transitions, want %d", info.StateTransitions, tt.transitions)
			}
			for i, arn := range express {
				if n := len(e.Executions(arn)); n != tt.runs[i] {
					t.Fatalf("%d runs of %s, want %d", n, arn, tt.runs[i])
				}
			}
			t.Logf("%s: %d state transitions", tt.scenario, info.StateTransitions)
		})
	}
}

// BenchmarkRealCheckout measures the engine's own cost per checkout (instant payment)
// with functions that answer at once; it reports state transitions per order.
func BenchmarkRealCheckout(b *testing.B) {
	fns := &checkoutFunctions{scenario: "instant", waiting: make(chan struct{}, 1)}
	e := New(Options{Invoker: fns})
	defer e.Close()
	fns.e = e
	smArn, _ := checkoutMachines(b, e, nil)
	transitions := 0
	for i := 0; b.Loop(); i++ {
		x, _, err := e.StartExecution(smArn, fmt.Sprintf("tx-%d", i), `{"txid":"tx","payment":{"timeoutSeconds":900},"order":null}`)
		if err != nil {
			b.Fatal(err)
		}
		info, err := e.WaitExecution(context.Background(), x)
		if err != nil || info.Status != StatusSucceeded {
			b.Fatalf("%v %s %s", err, info.Status, info.Error)
		}
		transitions += info.StateTransitions
	}
	b.ReportMetric(float64(transitions)/float64(b.N), "transitions/order")
}
