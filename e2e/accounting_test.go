package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/localcloud/cloudtest"
)

// latePaidOrder places a cheque order, has an operator cancel it (the buyer gave up),
// then has the cheque arrive all the same: the late payment must be stored on the
// cancelled order and flagged, not refused or dropped.
func latePaidOrder(t *testing.T, c *cloudtest.Cloud) *buyer {
	t.Helper()
	b := placeChequeOrder(t)
	if code, body := admin(t, c, "POST", "/admin/orders/"+b.TxID+"/cancel", "", ""); code != 200 {
		t.Fatalf("cancel = %d %s", code, body)
	}
	waitWorkflow(t, c, b.TxID)
	code, body := admin(t, c, "POST", "/admin/orders/"+b.TxID+"/payment-received",
		fmt.Sprintf(`{"mode":"check","amount":%d,"reference":"CHQ-LATE"}`, chequeTotal), "")
	if code != 202 || !strings.Contains(body, `"reason":"late"`) {
		t.Fatalf("late cheque = %d %s, want 202 with a late flag", code, body)
	}
	return b
}

type adminOrderView struct {
	Order struct {
		Status   string `json:"status"`
		Payments []struct {
			Outcome   string `json:"outcome"`
			Amount    int64  `json:"amount"`
			Reference string `json:"reference"`
		} `json:"payments"`
		InvoiceNumber string `json:"invoiceNumber"`
	} `json:"order"`
	Flags []struct {
		Reason  string `json:"reason"`
		Settled string `json:"settled"`
	} `json:"flags"`
}

func adminOrder(t *testing.T, c *cloudtest.Cloud, txid string) adminOrderView {
	t.Helper()
	code, body := admin(t, c, "GET", "/admin/orders/"+txid, "", "")
	var v adminOrderView
	if code != 200 || json.Unmarshal([]byte(body), &v) != nil {
		t.Fatalf("GET /admin/orders/%s = %d %s", txid, code, body)
	}
	return v
}

func openFlagFor(t *testing.T, c *cloudtest.Cloud, txid string) string {
	t.Helper()
	code, body := admin(t, c, "GET", "/admin/flags", "", "")
	var v struct {
		Flags []struct {
			TxID   string `json:"txid"`
			Reason string `json:"reason"`
		} `json:"flags"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &v) != nil {
		t.Fatalf("GET /admin/flags = %d %s", code, body)
	}
	for _, f := range v.Flags {
		if f.TxID == txid {
			return f.Reason
		}
	}
	return ""
}

// TestLatePaymentAfterCancellationIsFlaggedThenSettled: a payment arriving after the
// order was cancelled (here a cheque an operator records; the webhook path is the
// workflow package's TestNoPaymentIsLost) is stored and flagged "late", listed for operators, e-mailed to
// the sales managers; the operator settles it with one action. Deliver: the order
// goes on to production and billing and ends COMPLETE with an invoice. Refund: the
// refund is recorded and the order stays CANCELLED, without an invoice number.
func TestLatePaymentAfterCancellationIsFlaggedThenSettled(t *testing.T) {
	c := cloudtest.Start(t)
	tests := []struct {
		name, body, wantStatus string
		wantInvoice            bool
	}{
		{"deliver", `{"action":"deliver","note":"the buyer still wants it"}`, "COMPLETE", true},
		{"refund", `{"action":"refund","reference":"REFUND-42"}`, "CANCELLED", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := latePaidOrder(t, c)
			v := adminOrder(t, c, b.TxID)
			if v.Order.Status != "CANCELLED" || len(v.Order.Payments) == 0 || v.Order.Payments[len(v.Order.Payments)-1].Outcome != "paid" {
				t.Fatalf("after the late payment: %+v; want CANCELLED with the payment stored", v.Order)
			}
			if reason := openFlagFor(t, c, b.TxID); reason != "late" {
				t.Fatalf("open flag of %s: %q, want late", b.TxID, reason)
			}
			deadline := time.Now().Add(10 * time.Second)
			for len(mailTo(t, c, "sales@example.com", b.TxID)) == 0 || !strings.Contains(strings.Join(mailTo(t, c, "sales@example.com", b.TxID), "|"), "Payment to review") {
				if time.Now().After(deadline) {
					t.Fatalf("no 'Payment to review' e-mail to the sales managers: %v", mailTo(t, c, "sales@example.com", b.TxID))
				}
				time.Sleep(100 * time.Millisecond)
			}

			code, body := admin(t, c, "POST", "/admin/orders/"+b.TxID+"/settle", tt.body, "")
			if code != 200 {
				t.Fatalf("settle = %d %s", code, body)
			}
			b.waitStatus(tt.wantStatus)
			v = adminOrder(t, c, b.TxID)
			if (v.Order.InvoiceNumber != "") != tt.wantInvoice {
				t.Errorf("invoice number %q, want one: %v", v.Order.InvoiceNumber, tt.wantInvoice)
			}
			if len(v.Flags) != 1 || v.Flags[0].Settled != tt.name {
				t.Errorf("flags %+v: want one, settled by %s", v.Flags, tt.name)
			}
			if reason := openFlagFor(t, c, b.TxID); reason != "" {
				t.Errorf("settled flag still listed (%s)", reason)
			}
			if code, _ := admin(t, c, "POST", "/admin/orders/"+b.TxID+"/settle", tt.body, ""); code != 409 {
				t.Errorf("settling twice = %d, want 409", code)
			}
		})
	}
}

// TestLatePaymentDeliveredThenRefundedWithCreditNote: a late cheque after cancellation
// is flagged, delivered (the order is produced and invoiced), then refunded by an
// operator with one action: the refund is recorded once, the order is CANCELLED, the
// invoice gets a credit note of its own sequence, the enrolment is withdrawn, and the
// buyer's e-mail links to the printable credit note, which opens on any device. Each
// function does this as its own IAM role, so a grant missing from the template fails
// here.
func TestLatePaymentDeliveredThenRefundedWithCreditNote(t *testing.T) {
	c := cloudtest.Start(t)
	b := latePaidOrder(t, c)
	if code, body := admin(t, c, "POST", "/admin/orders/"+b.TxID+"/settle", `{"action":"deliver"}`, ""); code != 200 {
		t.Fatalf("settle = %d %s", code, body)
	}
	b.waitStatus("COMPLETE")
	invoice := adminOrder(t, c, b.TxID).Order.InvoiceNumber
	if invoice == "" {
		t.Fatal("the delivered order has no invoice number")
	}

	if code, body := admin(t, c, "POST", "/admin/orders/"+b.TxID+"/refund", `{}`, ""); code != 400 || !strings.Contains(body, "reference") {
		t.Fatalf("refund of a cheque without its reference = %d %s, want 400 naming the reference", code, body)
	}
	var answer struct {
		Order struct {
			Status           string `json:"status"`
			CreditNoteNumber string `json:"creditNoteNumber"`
		} `json:"order"`
		CreditNote string   `json:"creditNote"`
		Withdrawn  []string `json:"withdrawn"`
	}
	for try := range 2 { // the operator clicks twice: one refund, one number
		code, body := admin(t, c, "POST", "/admin/orders/"+b.TxID+"/refund", `{"reference":"CHQ-LATE returned","note":"the buyer changed their mind"}`, "")
		if code != 200 || json.Unmarshal([]byte(body), &answer) != nil {
			t.Fatalf("refund (try %d) = %d %s", try+1, code, body)
		}
	}
	wantCN := fmt.Sprintf("CN-%d-", time.Now().UTC().Year())
	if answer.Order.Status != "CANCELLED" || !strings.HasPrefix(answer.CreditNote, wantCN) || answer.Order.CreditNoteNumber != answer.CreditNote || len(answer.Withdrawn) != 1 {
		t.Fatalf("refund answered %+v; want CANCELLED, a credit note %s…, the enrolment withdrawn", answer, wantCN)
	}
	v := adminOrder(t, c, b.TxID)
	refunds := 0
	for _, p := range v.Order.Payments {
		if p.Outcome == "refunded" {
			refunds++
			if p.Reference != "CHQ-LATE returned" || p.Amount != chequeTotal {
				t.Errorf("refund recorded %+v", p)
			}
		}
	}
	if refunds != 1 || v.Order.InvoiceNumber != invoice {
		t.Fatalf("payments %+v, invoice %q: want one refund and the invoice kept", v.Order.Payments, v.Order.InvoiceNumber)
	}

	// The buyer's e-mail, and the credit note it links to.
	var link string
	deadline := time.Now().Add(10 * time.Second)
	for link == "" {
		msgs, err := c.Mail(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if strings.Contains(m.Subject, answer.CreditNote) && strings.Contains(strings.Join(m.Destination.To, ","), "ada.lovelace@example.com") {
				link = creditNoteLink.FindString(m.Body.Text)
			}
		}
		if link == "" && time.Now().After(deadline) {
			t.Fatalf("no e-mail to the buyer with the credit note %s and its link", answer.CreditNote)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r := call(t, "GET", link, "", "")
	for _, want := range []string{"Credit note " + answer.CreditNote, "cancels invoice <strong>" + invoice, "Total credited", "CHQ-LATE returned"} {
		if r.status != 200 || !strings.Contains(r.raw, want) {
			t.Errorf("the credit note from the e-mail (%d) lacks %q", r.status, want)
		}
	}
	code, tr := admin(t, c, "GET", "/admin/orders/"+b.TxID+"/trace", "", "text/plain")
	for _, want := range []string{"refunded", "credit note " + answer.CreditNote + " issued for invoice " + invoice, "1 product(s) withdrawn"} {
		if code != 200 || !strings.Contains(tr, want) {
			t.Errorf("trace lacks %q:\n%s", want, tr)
		}
	}
}

var creditNoteLink = regexp.MustCompile(`https?://\S+/orders/[A-Z0-9]{16}/bill\?document=creditnote&format=html&token=\S+`)
