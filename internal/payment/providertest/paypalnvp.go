package providertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// PayPalNVP is a fake of PayPal's classic NVP API endpoint (api-3t.paypal.com/nvp) with
// the calls the checkout makes: TransactionSearch and GetTransactionDetails
// (reconciliation) and RefundTransaction (refunds). Like PayPal, it takes form posts
// carrying USER, PWD, SIGNATURE, VERSION and METHOD, answers form-encoded with ACK,
// refuses other credentials (10002), returns at most MaxResults transactions per search,
// newest first, with the 11002 warning when it truncated. A refund must name a completed
// payment it knows (10004) not yet refunded (10009), and a request repeating a MSGSUBID
// gets the answer of the first one, with no second refund.
type PayPalNVP struct {
	*httptest.Server
	User, Password, Signature string
	// MaxResults is how many transactions a search returns at most (PayPal: 100).
	MaxResults int

	mu       sync.Mutex
	txns     []PayPalTransaction
	calls    []url.Values
	refunded map[string]bool   // txn_id → refunded
	byMsg    map[string]string // MSGSUBID → first answer
	refunds  []PayPalRefund
}

// PayPalRefund is one refund the fake made.
type PayPalRefund struct {
	ID, TransactionID, MsgSubID, InvoiceID, Gross, Currency string
}

// PayPalTransaction is one transaction of the fake account.
type PayPalTransaction struct {
	ID       string // txn_id
	TxID     string // the order, in custom and invoice
	Gross    string // decimal, e.g. "12.34"
	Currency string
	Status   string // Completed, Pending, Refunded, …
	Receiver string // the merchant's e-mail
	At       time.Time
}

// NewPayPalNVP starts the fake with the given credentials; it is closed when t ends.
func NewPayPalNVP(t testing.TB, user, password, signature string) *PayPalNVP {
	p := &PayPalNVP{User: user, Password: password, Signature: signature, MaxResults: 100,
		refunded: map[string]bool{}, byMsg: map[string]string{}}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

// Add records a transaction on the account.
func (p *PayPalNVP) Add(tx PayPalTransaction) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.txns = append(p.txns, tx)
}

// Completed records a completed payment txnID of gross (a decimal string such as
// "120.00") in currency, made now, as a buyer's payment makes it.
func (p *PayPalNVP) Completed(txnID, gross, currency string) {
	p.Add(PayPalTransaction{ID: txnID, Gross: gross, Currency: currency, Status: "Completed", At: time.Now().UTC()})
}

// Refunds returns the refunds made so far, in order (replays are not counted).
func (p *PayPalNVP) Refunds() []PayPalRefund {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PayPalRefund(nil), p.refunds...)
}

// Calls returns the requests received, in order.
func (p *PayPalNVP) Calls() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.calls...)
}

func nvpFailure(w http.ResponseWriter, code, short, long string) {
	_, _ = w.Write([]byte(url.Values{"ACK": {"Failure"}, "L_ERRORCODE0": {code}, "L_SHORTMESSAGE0": {short},
		"L_LONGMESSAGE0": {long}, "L_SEVERITYCODE0": {"Error"}, "TIMESTAMP": {time.Now().UTC().Format(time.RFC3339)}}.Encode()))
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
	f := r.PostForm
	p.mu.Lock()
	p.calls = append(p.calls, f)
	p.mu.Unlock()
	if f.Get("USER") != p.User || f.Get("PWD") != p.Password || f.Get("SIGNATURE") != p.Signature {
		nvpFailure(w, "10002", "Security error", "Security header is not valid")
		return
	}
	if f.Get("VERSION") == "" {
		nvpFailure(w, "10008", "Security error", "Version is not supported")
		return
	}
	switch f.Get("METHOD") {
	case "TransactionSearch":
		p.search(w, f)
	case "GetTransactionDetails":
		p.details(w, f)
	case "RefundTransaction":
		_, _ = w.Write([]byte(p.refundOnce(f)))
	default:
		nvpFailure(w, "81002", "Unspecified Method", "Method Specified is not Supported")
	}
}

func (p *PayPalNVP) search(w http.ResponseWriter, f url.Values) {
	start, err := time.Parse(time.RFC3339, f.Get("STARTDATE"))
	if err != nil {
		nvpFailure(w, "10004", "Invalid argument", "STARTDATE is missing or not a valid date")
		return
	}
	end := time.Now().Add(time.Hour)
	if v := f.Get("ENDDATE"); v != "" {
		if end, err = time.Parse(time.RFC3339, v); err != nil {
			nvpFailure(w, "10004", "Invalid argument", "ENDDATE is not a valid date")
			return
		}
	}
	class := f.Get("TRANSACTIONCLASS")
	if class != "" && class != "All" && class != "Received" {
		nvpFailure(w, "10004", "Invalid argument", "the fake knows TRANSACTIONCLASS All and Received only")
		return
	}
	p.mu.Lock()
	var match []PayPalTransaction
	for _, tx := range p.txns {
		if !tx.At.Before(start) && !tx.At.After(end) {
			match = append(match, tx)
		}
	}
	max := p.MaxResults
	p.mu.Unlock()
	sort.SliceStable(match, func(i, j int) bool { return match[i].At.After(match[j].At) })
	out := url.Values{"ACK": {"Success"}, "VERSION": {f.Get("VERSION")}, "TIMESTAMP": {time.Now().UTC().Format(time.RFC3339)}}
	if len(match) > max {
		match = match[:max]
		out.Set("ACK", "SuccessWithWarning")
		out.Set("L_ERRORCODE0", "11002")
		out.Set("L_SHORTMESSAGE0", "Search warning")
		out.Set("L_LONGMESSAGE0", "The number of results were truncated. Please change your search parameters if you wish to see all your results.")
		out.Set("L_SEVERITYCODE0", "Warning")
	}
	for i, tx := range match {
		n := strconv.Itoa(i)
		out.Set("L_TIMESTAMP"+n, tx.At.UTC().Format(time.RFC3339))
		out.Set("L_TIMEZONE"+n, "GMT")
		out.Set("L_TYPE"+n, "Payment")
		out.Set("L_EMAIL"+n, "buyer@example.com")
		out.Set("L_NAME"+n, "A Buyer")
		out.Set("L_TRANSACTIONID"+n, tx.ID)
		out.Set("L_STATUS"+n, tx.Status)
		out.Set("L_AMT"+n, tx.Gross)
		out.Set("L_CURRENCYCODE"+n, tx.Currency)
		out.Set("L_FEEAMT"+n, "0.00")
		out.Set("L_NETAMT"+n, tx.Gross)
	}
	_, _ = w.Write([]byte(out.Encode()))
}

func (p *PayPalNVP) details(w http.ResponseWriter, f url.Values) {
	id := f.Get("TRANSACTIONID")
	p.mu.Lock()
	var tx *PayPalTransaction
	for i := range p.txns {
		if p.txns[i].ID == id {
			tx = &p.txns[i]
		}
	}
	p.mu.Unlock()
	if tx == nil {
		nvpFailure(w, "10004", "Invalid transaction ID value", fmt.Sprintf("The transaction id %q is not valid", id))
		return
	}
	out := url.Values{"ACK": {"Success"}, "VERSION": {f.Get("VERSION")}, "TIMESTAMP": {time.Now().UTC().Format(time.RFC3339)},
		"RECEIVEREMAIL": {tx.Receiver}, "RECEIVERBUSINESS": {tx.Receiver}, "TRANSACTIONID": {tx.ID}, "TRANSACTIONTYPE": {"web_accept"},
		"PAYMENTTYPE": {"instant"}, "ORDERTIME": {tx.At.UTC().Format(time.RFC3339)}, "AMT": {tx.Gross}, "FEEAMT": {"0.00"},
		"CURRENCYCODE": {tx.Currency}, "PAYMENTSTATUS": {tx.Status}, "PENDINGREASON": {"None"}, "REASONCODE": {"None"},
		"INVNUM": {tx.TxID}, "CUSTOM": {tx.TxID}, "EMAIL": {"buyer@example.com"}}
	_, _ = w.Write([]byte(out.Encode()))
}

func nvpError(code, short, long string) string {
	return url.Values{"ACK": {"Failure"}, "VERSION": {"204.0"}, "L_ERRORCODE0": {code}, "L_SHORTMESSAGE0": {short},
		"L_LONGMESSAGE0": {long}, "L_SEVERITYCODE0": {"Error"}, "CORRELATIONID": {"fake0correlation"}}.Encode()
}

// refundOnce answers a RefundTransaction, replaying the first answer to a repeated
// MSGSUBID as PayPal does.
func (p *PayPalNVP) refundOnce(f url.Values) string {
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
	var pay *PayPalTransaction
	for i := range p.txns {
		if p.txns[i].ID == txn && p.txns[i].Status == "Completed" {
			pay = &p.txns[i]
		}
	}
	switch {
	case pay == nil:
		return nvpError("10004", "Transaction refused because of an invalid argument. See additional error messages for details.", "The transaction id is not valid")
	case p.refunded[txn]:
		return nvpError("10009", "Transaction refused", "This transaction has already been fully refunded")
	case f.Get("REFUNDTYPE") != "Full":
		// Partial refunds (with AMT and CURRENCYCODE) are not what the checkout sends.
		return nvpError("10004", "Transaction refused because of an invalid argument. See additional error messages for details.", "Refund type is not supported by this fake")
	}
	p.refunded[txn] = true
	id := fmt.Sprintf("%017d", 9000000000+len(p.refunds)+1)
	p.refunds = append(p.refunds, PayPalRefund{ID: id, TransactionID: txn, MsgSubID: f.Get("MSGSUBID"), InvoiceID: f.Get("INVOICEID"), Gross: pay.Gross, Currency: pay.Currency})
	return url.Values{
		"ACK": {"Success"}, "VERSION": {f.Get("VERSION")}, "REFUNDTRANSACTIONID": {id}, "GROSSREFUNDAMT": {pay.Gross},
		"NETREFUNDAMT": {pay.Gross}, "FEEREFUNDAMT": {"0.00"}, "TOTALREFUNDEDAMOUNT": {pay.Gross}, "CURRENCYCODE": {pay.Currency},
		"REFUNDSTATUS": {"instant"}, "PENDINGREASON": {"none"}, "MSGSUBID": {f.Get("MSGSUBID")}, "CORRELATIONID": {"fake0correlation"},
	}.Encode()
}
