package payment

import (
	"context"
	"errors"
	"net/url"
	"testing"
)

// sentinel reports whether err wraps one of the package's verdicts, which is
// all a webhook can act on.
func sentinel(err error) bool {
	return errors.Is(err, ErrSignature) || errors.Is(err, ErrStale) ||
		errors.Is(err, ErrMalformed) || errors.Is(err, ErrMismatch)
}

// FuzzSystempayIPN feeds arbitrary bodies to the Systempay verifier: it must
// never panic, and must either reject with a verdict or return a complete
// notification. Bodies signed with the right key are generated too, so the
// fuzzer reaches the parsing behind the signature check.
func FuzzSystempayIPN(f *testing.F) {
	f.Add([]byte("vads_amount=100&vads_currency=978&vads_order_id=TX1&vads_site_id=12345678&vads_trans_status=AUTHORISED&vads_trans_uuid=u1&signature=x"), false)
	f.Add([]byte("vads_amount=100&vads_currency=978&vads_order_id=TX1&vads_site_id=12345678&vads_trans_status=AUTHORISED&vads_trans_uuid=u1"), true)
	f.Add([]byte("%zz"), false)
	s, err := NewSystempay(SystempayConfig{SiteID: "12345678", Key: "k", CtxMode: "TEST", FormURL: "https://pay.example/"}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, sign bool) {
		if sign {
			body = signSystempayBody(body, "k")
		}
		n, err := s.Verify(context.Background(), Webhook{Body: body})
		checkFuzzResult(t, n, err)
	})
}

// FuzzPayPalIPN feeds arbitrary bodies to the parser of IPNs PayPal has
// vouched for (the network check before it only echoes bytes back).
func FuzzPayPalIPN(f *testing.F) {
	f.Add([]byte("txn_id=1&receiver_email=shop%40example.com&custom=TX1&mc_gross=12.34&mc_currency=EUR&payment_status=Completed"))
	f.Add([]byte("txn_id=1&receiver_email=shop%40example.com&custom=TX1&mc_gross=-1&mc_currency=JPY&payment_status=Refunded"))
	f.Add([]byte("%zz&&=="))
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := parsePayPalIPN(body, "shop@example.com")
		checkFuzzResult(t, n, err)
	})
}

func checkFuzzResult(t *testing.T, n Notification, err error) {
	t.Helper()
	if err != nil {
		if !sentinel(err) {
			t.Fatalf("error without verdict: %v", err)
		}
		return
	}
	if n.EventID == "" || n.Outcome < Paid || n.Outcome > Ignored {
		t.Fatalf("incomplete notification %+v", n)
	}
	if n.Outcome != Ignored {
		if n.TxID == "" {
			t.Fatalf("notification without transaction: %+v", n)
		}
		if !accepted(n.Currency) {
			t.Fatalf("notification with currency %q: %+v", n.Currency, n)
		}
	}
}

// signSystempayBody re-signs whatever vads_* fields body holds, if it parses.
func signSystempayBody(body []byte, key string) []byte {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return body
	}
	fields := map[string]string{}
	for k, vals := range v {
		fields[k] = vals[0]
	}
	v.Set("signature", SystempaySignature(key, fields))
	return []byte(v.Encode())
}
