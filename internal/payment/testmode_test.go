package payment_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/payment"
)

func TestTestModeShowsButtons(t *testing.T) {
	in, err := payment.TestMode{}.Start(context.Background(), baseRequest())
	if err != nil || in.Kind != payment.InstructionsButtons {
		t.Fatalf("Start = %+v, %v; want buttons", in, err)
	}
}

func TestTestProviderVerify(t *testing.T) {
	p, err := payment.NewTestProvider(payment.TestConfig{Secret: "s3cret"}, clock)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := payment.NewTestProvider(payment.TestConfig{Secret: "other"}, clock)
	paid := payment.TestCallback{EventID: "evt_1", TxID: "TU80WKRYTI9QUMJ4", Outcome: "paid", Amount: 1999, Currency: "EUR"}
	sign := func(p *payment.TestProvider, c payment.TestCallback) ([]byte, http.Header) {
		body, h, err := p.Callback(c)
		if err != nil {
			t.Fatal(err)
		}
		return body, h
	}
	hdr := func(v string) http.Header { return http.Header{payment.TestSignatureHeader: {v}} }

	type tc struct {
		name    string
		body    []byte
		header  http.Header
		now     time.Time
		want    payment.Outcome
		wantErr error
	}
	var tests []tc
	body, h := sign(p, paid)
	tests = append(tests,
		tc{name: "valid paid", body: body, header: h, now: clock(), want: payment.Paid},
		tc{name: "just inside tolerance", body: body, header: h, now: clock().Add(5 * time.Minute), want: payment.Paid},
		tc{name: "stale", body: body, header: h, now: clock().Add(5*time.Minute + time.Second), wantErr: payment.ErrStale},
		tc{name: "from the future", body: body, header: h, now: clock().Add(-6 * time.Minute), wantErr: payment.ErrStale},
		tc{name: "tampered amount", body: []byte(`{"id":"evt_1","txid":"TU80WKRYTI9QUMJ4","outcome":"paid","amount":1,"currency":"EUR"}`), header: h, now: clock(), wantErr: payment.ErrSignature},
		tc{name: "no header", body: body, header: http.Header{}, now: clock(), wantErr: payment.ErrSignature},
		tc{name: "garbled header", body: body, header: hdr("nonsense"), now: clock(), wantErr: payment.ErrSignature},
		tc{name: "timestamp moved", body: body, header: hdr(strings.Replace(h.Get(payment.TestSignatureHeader), strconv.FormatInt(clock().Unix(), 10), strconv.FormatInt(clock().Unix()+1, 10), 1)), now: clock(), wantErr: payment.ErrSignature},
	)
	fb, fh := sign(other, paid)
	tests = append(tests, tc{name: "wrong secret", body: fb, header: fh, now: clock(), wantErr: payment.ErrSignature})
	for _, c := range []struct {
		outcome string
		want    payment.Outcome
	}{{"failed", payment.Failed}, {"refused", payment.Refused}, {"pending", payment.Pending}} {
		cb := paid
		cb.Outcome = c.outcome
		b, h := sign(p, cb)
		tests = append(tests, tc{name: c.outcome, body: b, header: h, now: clock(), want: c.want})
	}
	badOutcome := paid
	badOutcome.Outcome = "maybe"
	b, bh := sign(p, badOutcome)
	tests = append(tests, tc{name: "unknown outcome", body: b, header: bh, now: clock(), wantErr: payment.ErrMalformed})
	notJSON := []byte("pay me")
	tests = append(tests, tc{name: "malformed body", body: notJSON, header: hdr(p.Sign(notJSON, clock())), now: clock(), wantErr: payment.ErrMalformed})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := p.Verify(context.Background(), payment.Webhook{Header: tt.header, Body: tt.body, Now: tt.now})
			if !verified(t, err, tt.wantErr) {
				return
			}
			if n.Outcome != tt.want || n.Provider != "test" || n.EventID != "evt_1" || n.TxID != "TU80WKRYTI9QUMJ4" || n.Amount != 1999 || n.Currency != "EUR" {
				t.Errorf("notification %+v, want outcome %v", n, tt.want)
			}
		})
	}
}

func TestTestProviderCallbackEventIDsAreUnique(t *testing.T) {
	p, _ := payment.NewTestProvider(payment.TestConfig{Secret: "s"}, clock)
	seen := map[string]bool{}
	for range 3 {
		body, h, err := p.Callback(payment.TestCallback{TxID: "T", Outcome: "paid", Amount: 1, Currency: "EUR"})
		if err != nil {
			t.Fatal(err)
		}
		n, err := p.Verify(context.Background(), payment.Webhook{Header: h, Body: body, Now: clock()})
		if err != nil {
			t.Fatal(err)
		}
		if n.EventID == "" || seen[n.EventID] {
			t.Errorf("event id %q empty or repeated", n.EventID)
		}
		seen[n.EventID] = true
	}
}
