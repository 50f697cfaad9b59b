package providertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// PayPalIPN is a fake PayPal IPN validation endpoint. Like PayPal, it
// answers VERIFIED only to "cmd=_notify-validate&" followed by the exact
// bytes of an IPN it issued, and INVALID to anything else.
type PayPalIPN struct {
	*httptest.Server

	mu     sync.Mutex
	issued map[string]bool
	posts  []string
}

// NewPayPalIPN starts the fake; it is closed when t ends.
func NewPayPalIPN(t testing.TB) *PayPalIPN {
	p := &PayPalIPN{issued: map[string]bool{}}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

// Issue returns the body of an IPN carrying fields and remembers it as
// genuinely sent by PayPal.
func (p *PayPalIPN) Issue(fields url.Values) []byte {
	body := PayPalIPNBody(fields)
	p.mu.Lock()
	p.issued[string(body)] = true
	p.mu.Unlock()
	return body
}

// Posts returns the validation requests received, in order.
func (p *PayPalIPN) Posts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.posts...)
}

func (p *PayPalIPN) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.posts = append(p.posts, string(b))
	rest, ok := strings.CutPrefix(string(b), "cmd=_notify-validate&")
	ok = ok && p.issued[rest]
	p.mu.Unlock()
	if ok {
		_, _ = io.WriteString(w, "VERIFIED")
		return
	}
	_, _ = io.WriteString(w, "INVALID")
}

// PayPalIPNBody form-encodes fields as PayPal posts an IPN.
func PayPalIPNBody(fields url.Values) []byte {
	return []byte(fields.Encode())
}

// PayPalPayment returns the fields of a typical web_accept IPN for a
// payment of gross (a decimal string such as "12.34") to receiver.
func PayPalPayment(receiver, txnID, txID, gross, currency, status string) url.Values {
	return url.Values{
		"txn_type":       {"web_accept"},
		"txn_id":         {txnID},
		"receiver_email": {receiver},
		"business":       {receiver},
		"payer_email":    {"buyer@example.com"},
		"custom":         {txID},
		"invoice":        {txID},
		"mc_gross":       {gross},
		"mc_currency":    {currency},
		"payment_status": {status},
		"charset":        {"UTF-8"},
		"notify_version": {"3.9"},
	}
}
