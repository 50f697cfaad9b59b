package providertest

import (
	"fmt"
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

// PayPalNVP is a fake of PayPal's classic NVP API endpoint answering RefundTransaction
// as PayPal does: form-encoded in and out, the caller's USER/PWD/SIGNATURE checked
// (error 10002 otherwise), the transaction must be a completed payment it knows (10004)
// not yet refunded (10009), and a request repeating a MSGSUBID gets the answer of the
// first one, with no second refund.
type PayPalNVP struct {
	*httptest.Server
	user, pwd, signature string

	mu       sync.Mutex
	payments map[string]*paypalPayment
	byMsg    map[string]string // MSGSUBID → first answer
	refunds  []PayPalRefund
}

// PayPalRefund is one refund the fake made.
type PayPalRefund struct {
	ID, TransactionID, MsgSubID, InvoiceID, Gross, Currency string
}

type paypalPayment struct {
	gross, currency string
	refunded        bool
}

// NewPayPalNVP starts the fake, accepting the given API credentials; it is closed when
// t ends.
func NewPayPalNVP(t testing.TB, user, pwd, signature string) *PayPalNVP {
	p := &PayPalNVP{user: user, pwd: pwd, signature: signature, payments: map[string]*paypalPayment{}, byMsg: map[string]string{}}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

// Completed registers a completed payment txnID of gross (a decimal string such as
// "120.00") in currency, as a buyer's payment makes it.
func (p *PayPalNVP) Completed(txnID, gross, currency string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.payments[txnID] = &paypalPayment{gross: gross, currency: currency}
}

// Refunds returns the refunds made so far, in order (replays are not counted).
func (p *PayPalNVP) Refunds() []PayPalRefund {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PayPalRefund(nil), p.refunds...)
}

func nvpError(code, short, long string) string {
	return url.Values{"ACK": {"Failure"}, "VERSION": {"204.0"}, "L_ERRORCODE0": {code}, "L_SHORTMESSAGE0": {short},
		"L_LONGMESSAGE0": {long}, "L_SEVERITYCODE0": {"Error"}, "CORRELATIONID": {"fake0correlation"}}.Encode()
}

func (p *PayPalNVP) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_, _ = io.WriteString(w, p.answer(r.PostForm))
}

func (p *PayPalNVP) answer(f url.Values) string {
	if f.Get("USER") != p.user || f.Get("PWD") != p.pwd || f.Get("SIGNATURE") != p.signature {
		return nvpError("10002", "Security error", "Security header is not valid")
	}
	if f.Get("METHOD") != "RefundTransaction" {
		return nvpError("81002", "Unspecified Method", "Method Specified is not Supported")
	}
	if f.Get("VERSION") == "" {
		return nvpError("10004", "Invalid request", "Version is not supported")
	}
	msg := f.Get("MSGSUBID")
	if len(msg) > 38 {
		return nvpError("10004", "Transaction refused because of an invalid argument. See additional error messages for details.", "MsgSubID is too long")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if prev, ok := p.byMsg[msg]; ok && msg != "" {
		return prev
	}
	out := p.refund(f)
	if msg != "" {
		p.byMsg[msg] = out
	}
	return out
}

func (p *PayPalNVP) refund(f url.Values) string {
	txn := f.Get("TRANSACTIONID")
	pay, ok := p.payments[txn]
	switch {
	case !ok:
		return nvpError("10004", "Transaction refused because of an invalid argument. See additional error messages for details.", "The transaction id is not valid")
	case pay.refunded:
		return nvpError("10009", "Transaction refused", "This transaction has already been fully refunded")
	case f.Get("REFUNDTYPE") != "Full":
		// Partial refunds (with AMT and CURRENCYCODE) are not what the checkout sends.
		return nvpError("10004", "Transaction refused because of an invalid argument. See additional error messages for details.", "Refund type is not supported by this fake")
	}
	pay.refunded = true
	id := fmt.Sprintf("%017d", 9000000000+len(p.refunds)+1)
	p.refunds = append(p.refunds, PayPalRefund{ID: id, TransactionID: txn, MsgSubID: f.Get("MSGSUBID"), InvoiceID: f.Get("INVOICEID"), Gross: pay.gross, Currency: pay.currency})
	return url.Values{
		"ACK": {"Success"}, "VERSION": {f.Get("VERSION")}, "REFUNDTRANSACTIONID": {id}, "GROSSREFUNDAMT": {pay.gross},
		"NETREFUNDAMT": {pay.gross}, "FEEREFUNDAMT": {"0.00"}, "TOTALREFUNDEDAMOUNT": {pay.gross}, "CURRENCYCODE": {pay.currency},
		"REFUNDSTATUS": {"instant"}, "PENDINGREASON": {"none"}, "MSGSUBID": {f.Get("MSGSUBID")}, "CORRELATIONID": {"fake0correlation"},
	}.Encode()
}
