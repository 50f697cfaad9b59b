package payment

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
)

// Received is a payment as its provider's own records show it: what reconciliation
// compares with the orders. Reference is the reference the provider's notification
// carries too (a Stripe Checkout Session ID, a PayPal txn_id), so a payment stored from
// a webhook and the same payment read from the provider's list have one PaymentKey.
type Received struct {
	Provider  string
	TxID      string // the order the payment names; "" when it names none
	Reference string
	Amount    int64  // minor units of Currency
	Currency  string // ISO 4217, upper case
	At        time.Time
}

// Lister lists the payments a provider received since a time, from the provider's API.
type Lister interface {
	Name() string
	ListPayments(ctx context.Context, since time.Time) ([]Received, error)
}

var (
	_ Lister = (*Stripe)(nil)
	_ Lister = (*PayPal)(nil)
)

// Listers are the configured modes whose provider can list its payments: Stripe, and
// PayPal when its API credentials are set. The other modes have no provider to ask
// (cheques and transfers are recorded by an operator, the test mode pays nothing) or
// no listing this checkout speaks (Systempay).
func Listers(modes map[string]Mode) map[string]Lister {
	out := map[string]Lister{}
	for name, m := range modes {
		switch l := m.(type) {
		case *Stripe:
			out[name] = l
		case *PayPal:
			if l.cfg.APIURL != "" {
				out[name] = l
			}
		}
	}
	return out
}

// ListPayments implements Lister: the Checkout Sessions created since since that are
// complete and paid, page by page (Stripe's list API: created[gte], status, limit,
// starting_after while has_more). A session is what the webhook records too, under
// its ID; an asynchronous method's session counts once its payment_status is paid.
func (s *Stripe) ListPayments(ctx context.Context, since time.Time) ([]Received, error) {
	q := url.Values{"created[gte]": {strconv.FormatInt(since.Unix(), 10)}, "status": {"complete"}, "limit": {"100"}}
	var out []Received
	for range 10000 { // bounded: ten thousand pages of 100 sessions
		var page struct {
			Data []struct {
				ID                string            `json:"id"`
				ClientReferenceID string            `json:"client_reference_id"`
				PaymentStatus     string            `json:"payment_status"`
				AmountTotal       int64             `json:"amount_total"`
				Currency          string            `json:"currency"`
				Created           int64             `json:"created"`
				Metadata          map[string]string `json:"metadata"`
			} `json:"data"`
			HasMore bool `json:"has_more"`
		}
		if err := s.call(ctx, http.MethodGet, "/v1/checkout/sessions", q, "", &page); err != nil {
			return nil, fmt.Errorf("payment: stripe checkout sessions since %s: %w", since.Format(time.RFC3339), err)
		}
		for _, sess := range page.Data {
			if sess.PaymentStatus != "paid" {
				continue
			}
			r := Received{Provider: checkout.PaymodeStripe, TxID: sess.ClientReferenceID, Reference: sess.ID,
				Amount: sess.AmountTotal, Currency: strings.ToUpper(sess.Currency), At: time.Unix(sess.Created, 0).UTC()}
			if r.TxID == "" {
				r.TxID = sess.Metadata["txid"]
			}
			out = append(out, r)
		}
		if !page.HasMore || len(page.Data) == 0 {
			return out, nil
		}
		q.Set("starting_after", page.Data[len(page.Data)-1].ID)
	}
	return nil, fmt.Errorf("payment: stripe checkout sessions since %s: more pages than a run reads", since.Format(time.RFC3339))
}

// PayPalAPIVersion is the classic API version the NVP calls name.
const PayPalAPIVersion = "204.0"

// ListPayments implements Lister with the classic API the _xclick/IPN integration
// belongs to: TransactionSearch (STARTDATE, TRANSACTIONCLASS=Received) lists the
// account's received transactions, L_*n fields, at most 100 per answer; then
// GetTransactionDetails gives each completed one's invoice and custom fields, which
// name the order (TransactionSearch does not return them). A search PayPal truncated
// (warning 11002) is searched again from the oldest time it returned, so every
// transaction is read however many there are.
func (p *PayPal) ListPayments(ctx context.Context, since time.Time) ([]Received, error) {
	if p.cfg.APIURL == "" {
		return nil, fmt.Errorf("payment: paypal API credentials are not set: the account cannot be searched")
	}
	end := time.Time{}
	seen := map[string]bool{}
	var out []Received
	for range 1000 { // bounded: a thousand answers of 100 transactions each
		q := url.Values{"METHOD": {"TransactionSearch"}, "STARTDATE": {since.UTC().Format(time.RFC3339)},
			"TRANSACTIONCLASS": {"Received"}}
		if !end.IsZero() {
			q.Set("ENDDATE", end.UTC().Format(time.RFC3339))
		}
		v, err := p.nvp(ctx, q)
		if err != nil {
			return nil, err
		}
		var oldest time.Time
		fresh := 0
		for i := 0; ; i++ {
			n := strconv.Itoa(i)
			id := v.Get("L_TRANSACTIONID" + n)
			if id == "" {
				break
			}
			at, err := time.Parse(time.RFC3339, v.Get("L_TIMESTAMP"+n))
			if err != nil {
				return nil, fmt.Errorf("payment: paypal TransactionSearch L_TIMESTAMP%s: %w", n, err)
			}
			if oldest.IsZero() || at.Before(oldest) {
				oldest = at
			}
			if seen[id] {
				continue
			}
			seen[id], fresh = true, fresh+1
			if v.Get("L_STATUS"+n) != "Completed" {
				continue
			}
			r, ok, err := p.details(ctx, id)
			if err != nil {
				return nil, err
			}
			if ok {
				r.At = at.UTC()
				out = append(out, r)
			}
		}
		if !truncated(v) || oldest.IsZero() {
			break
		}
		// The next search ends at the oldest time this one reached (ENDDATE is
		// inclusive: what was read again is skipped); an answer with nothing new is a
		// second holding more than a page, which is left behind rather than looped on.
		end = oldest
		if fresh == 0 {
			end = oldest.Add(-time.Second)
		}
		if end.Before(since) {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

// truncated reports PayPal's "more than 100 results" warning.
func truncated(v url.Values) bool {
	for i := 0; ; i++ {
		code := v.Get("L_ERRORCODE" + strconv.Itoa(i))
		if code == "" {
			return false
		}
		if code == "11002" {
			return true
		}
	}
}

// details reads one transaction: a completed payment to this account's business, with
// the order it names; ok is false for anything else (a payment to another receiver).
func (p *PayPal) details(ctx context.Context, id string) (Received, bool, error) {
	v, err := p.nvp(ctx, url.Values{"METHOD": {"GetTransactionDetails"}, "TRANSACTIONID": {id}})
	if err != nil {
		return Received{}, false, err
	}
	if v.Get("PAYMENTSTATUS") != "Completed" {
		return Received{}, false, nil
	}
	if !strings.EqualFold(v.Get("RECEIVEREMAIL"), p.cfg.Business) && !strings.EqualFold(v.Get("RECEIVERBUSINESS"), p.cfg.Business) {
		return Received{}, false, nil // another receiver of the account: not this shop's
	}
	r := Received{Provider: checkout.PaymodePayPal, Reference: id, TxID: v.Get("CUSTOM"), Currency: v.Get("CURRENCYCODE")}
	if r.TxID == "" {
		r.TxID = v.Get("INVNUM")
	}
	if !accepted(r.Currency) {
		return Received{}, false, fmt.Errorf("payment: paypal transaction %s currency %q unsupported", id, r.Currency)
	}
	if r.Amount, err = ParseAmount(v.Get("AMT"), r.Currency); err != nil {
		return Received{}, false, fmt.Errorf("payment: paypal transaction %s AMT: %w", id, err)
	}
	return r, true, nil
}

// nvp posts one classic API call with the signature credentials and returns its answer,
// or an error when PayPal did not answer Success (or SuccessWithWarning).
func (p *PayPal) nvp(ctx context.Context, q url.Values) (url.Values, error) {
	q.Set("USER", p.cfg.APIUser)
	q.Set("PWD", p.cfg.APIPassword)
	q.Set("SIGNATURE", p.cfg.APISignature)
	q.Set("VERSION", PayPalAPIVersion)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.APIURL, strings.NewReader(q.Encode()))
	if err != nil {
		return nil, fmt.Errorf("payment: paypal %s: %w", q.Get("METHOD"), err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("payment: paypal %s: %w", q.Get("METHOD"), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("payment: paypal %s answer: %w", q.Get("METHOD"), err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("payment: paypal %s: HTTP %d", q.Get("METHOD"), resp.StatusCode)
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("payment: paypal %s answer: %w", q.Get("METHOD"), err)
	}
	switch v.Get("ACK") {
	case "Success", "SuccessWithWarning":
		return v, nil
	}
	return nil, fmt.Errorf("payment: paypal %s: %s %s: %s", q.Get("METHOD"), v.Get("ACK"), v.Get("L_ERRORCODE0"), v.Get("L_LONGMESSAGE0"))
}
