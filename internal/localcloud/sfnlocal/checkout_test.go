package sfnlocal

import (
	"context"
	"encoding/json"
	"errors"
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
	scenario string // "instant", "refused-then-paid", "never-paid"
	starts   int
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
	switch name {
	case "bill":
		return []byte(`{"invoice":"F-2026-0001"}`), nil
	case "payment":
	default:
		return []byte(`{"done":true}`), nil
	}
	switch in.Action {
	case "start":
		f.mu.Lock()
		f.starts++
		first := f.starts == 1
		f.mu.Unlock()
		switch {
		case f.scenario == "instant":
			return []byte(`{}`), f.e.SendTaskSuccess(in.Token, `{"mode":"free"}`)
		case f.scenario == "refused-then-paid" && first:
			return []byte(`{}`), f.e.SendTaskFailure(in.Token, "PaymentRefused", "card declined")
		case f.scenario == "refused-then-paid":
			return []byte(`{}`), f.e.SendTaskSuccess(in.Token, `{"mode":"transfer"}`)
		}
	case "awaitRetry":
		// The retry's answer replaces $.payment, so it carries the new mode's delays.
		return []byte(`{}`), f.e.SendTaskSuccess(in.Token, `{"kind":"offline","timeoutSeconds":900,"retrySeconds":900}`)
	}
	return []byte(`{}`), nil // never-paid: the token is left to time out
}

// TestRealCheckoutDefinition runs statemachine/checkout.asl.json itself.
func TestRealCheckoutDefinition(t *testing.T) {
	raw, err := os.ReadFile("../../../statemachine/checkout.asl.json")
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("statemachine/checkout.asl.json not present")
	}
	if err != nil {
		t.Fatal(err)
	}
	arn := func(n string) string { return "arn:aws:lambda:eu-west-1:111122223333:function:" + n }
	def, err := Substitute(raw, map[string]string{
		"ProduceFunctionArn": arn("produce"), "PaymentFunctionArn": arn("payment"),
		"BillFunctionArn": arn("bill"), "NotifyFunctionArn": arn("notify"),
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		scenario    string
		wantStatus  string
		wantActions []string
	}{
		{scenario: "instant", wantStatus: StatusSucceeded,
			wantActions: []string{"produce.prepay", "payment.start", "produce.postpay", "bill.invoice", "notify.delivered"}},
		{scenario: "refused-then-paid", wantStatus: StatusSucceeded,
			wantActions: []string{"produce.prepay", "payment.start", "payment.awaitRetry", "payment.start", "produce.postpay", "bill.invoice", "notify.delivered"}},
		{scenario: "never-paid", wantStatus: StatusSucceeded,
			wantActions: []string{"produce.prepay", "payment.start", "payment.cancel"}},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			fns := &checkoutFunctions{scenario: tt.scenario}
			ft := newFakeTime()
			// Only the unpaid order lets the payment mode's delay elapse.
			ft.fire[900*time.Second] = tt.scenario == "never-paid"
			e := newEngine(t, fns, ft)
			fns.e = e
			smArn, err := e.CreateStateMachine("checkout", def)
			if err != nil {
				t.Fatalf("the real definition does not load: %v", err)
			}
			x, _, err := e.StartExecution(smArn, "tx-"+tt.scenario,
				`{"txid":"tx-1","paymode":"card","payment":{"kind":"online","timeoutSeconds":900,"retrySeconds":900}}`)
			if err != nil {
				t.Fatal(err)
			}
			info := waitFor(t, e, x)
			if info.Status != tt.wantStatus {
				t.Fatalf("status %s %s %s", info.Status, info.Error, info.Cause)
			}
			if got := strings.Join(fns.actions, " "); got != strings.Join(tt.wantActions, " ") {
				t.Fatalf("functions ran %q, want %q", got, strings.Join(tt.wantActions, " "))
			}
			// Every task is one state entered here (no retries), plus the final Succeed.
			if want := len(tt.wantActions) + 1; info.StateTransitions != want {
				t.Fatalf("%d state transitions, want %d", info.StateTransitions, want)
			}
			t.Logf("%s: %d state transitions", tt.scenario, info.StateTransitions)
		})
	}
}
