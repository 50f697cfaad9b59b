package notify_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/notify"
)

const (
	txid    = "TU80WKRYTI9QUMJ4"
	buyer   = "jane.doe@example.org"
	billURL = "https://shop.example/orders/TU80WKRYTI9QUMJ4/bill?t=abc"
	retry   = "https://shop.example/orders/TU80WKRYTI9QUMJ4/payment"
	account = "https://lms.example/login/forgot_password.php"
	nb      = "\u00a0"
)

var managers = []string{"sales@shop.example", "boss@shop.example"}

// event returns a complete event of kind k in lang: an order of 1 234,50 €
// placed by Jane Doe at 11:32 Paris time.
func event(k notify.Kind, lang string) notify.Event {
	e := notify.Event{
		Kind: k,
		Lang: lang,
		Shop: notify.Shop{
			Name:          "Boutique Moodle",
			SellerEmail:   "seller@shop.example",
			SalesManagers: managers,
			Currency:      "EUR",
			TimeZone:      "Europe/Paris",
		},
		Order: notify.Order{
			TxID:     txid,
			Status:   "PLACED",
			Paymode:  "stripe",
			PlacedAt: time.Date(2026, 7, 27, 9, 32, 13, 0, time.UTC),
			Lines: []notify.Line{
				{Code: "COURSE-101", Name: "Moodle for teachers", Quantity: 2, Total: 100000},
				{Code: "SEATS-PACK", Name: "Seats pack", Quantity: 5, Total: 2875},
			},
			Untaxed:  102875,
			Taxes:    20575,
			Final:    123450,
			Customer: notify.Person{FirstName: "Jane", LastName: "Doe", Email: buyer, Organisation: "ACME Training"},
		},
		Feedback: []notify.Feedback{{
			Item:       "COURSE-101",
			Public:     "You are enrolled in Moodle for teachers.",
			Private:    "Username: jdoe\nCourse: https://lms.example/course/view.php?id=4",
			SalesAdmin: "Enrolled jdoe in course 4 as student until 2027-07-27.",
		}},
		Links: notify.Links{Bill: billURL, Retry: retry, Order: "https://shop.example/orders/" + txid},
	}
	switch k {
	case notify.OfflineInstructions:
		e.Order.Paymode, e.Order.Status = "transfer", "PENDING"
		e.Instructions = &notify.Instructions{Payee: "Boutique Moodle SAS", IBAN: "fr76 3000 6000 0112 3456 7890 189", BIC: "agrifrpp"}
	case notify.PaymentFailed:
		e.Order.Status = "FAILED"
	case notify.ProductsDelivered, notify.DeliveryReport:
		e.Order.Status = "COMPLETE"
	case notify.AccountCreated:
		e.Links.Account = account
	case notify.PaymentFlagged:
		e.Order.Status = "CANCELLED"
		e.Flag = &notify.Flag{Reason: "late", Amount: 123450, Currency: "EUR", Mode: "stripe", Reference: "cs_test_1"}
	case notify.ReconciliationReport:
		e.Report = reconciliationReport()
	case notify.Refunded:
		e.Order.Status = "CANCELLED"
		e.Refund = &notify.Refund{Amount: 123450, Currency: "EUR", Mode: "stripe", Reference: "re_test_1", CreditNote: "CN-2026-000007", Invoice: "DEMO-2026-000042"}
	}
	return e
}

// reconciliationReport is a run that found one unknown payment that paid its order,
// one flagged as late, a stuck order, a payment of another amount and a foreign one.
func reconciliationReport() *notify.Report {
	return &notify.Report{
		At: time.Date(2026, 12, 3, 5, 0, 0, 0, time.UTC), Days: 3,
		Providers: []notify.ReportProvider{{Name: "stripe", Payments: 12, Known: 10}, {Name: "paypal", Error: "HTTP 503"}},
		Recorded: []notify.ReportPayment{
			{TxID: txid, Provider: "stripe", Reference: "cs_test_paid", Amount: 123450, Currency: "EUR", Outcome: "paid"},
			{TxID: "LATE000000000001", Provider: "stripe", Reference: "cs_test_late", Amount: 5000, Currency: "EUR", Outcome: "late"},
		},
		Mismatched: []notify.ReportPayment{{TxID: "DIFF000000000001", Provider: "stripe", Reference: "cs_test_diff", Amount: 700, Currency: "EUR"}},
		Foreign:    []notify.ReportPayment{{Provider: "stripe", Reference: "cs_test_other", Amount: 900, Currency: "USD"}},
		Stuck:      []notify.ReportOrder{{TxID: "STUCK00000000001", Status: "PREPROD", Since: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}},
	}
}

func TestRender(t *testing.T) {
	euro := map[string]string{"en": "€1,234.50", "fr": "1" + nb + "234,50" + nb + "€"}
	type want struct {
		to      []string
		subject []string // substrings of the subject
		both    []string // substrings of both bodies
		text    []string // substrings of the text body only
		html    []string // substrings of the HTML body only
		absent  []string // must appear in neither body
	}
	tests := []struct {
		name   string
		lang   string
		event  func(lang string) notify.Event
		expect func(lang string) want
	}{
		{
			name:  "order placed",
			event: func(l string) notify.Event { return event(notify.OrderPlaced, l) },
			expect: func(l string) want {
				w := want{
					to:      managers,
					subject: []string{txid, "Jane Doe", euro[l], "Boutique Moodle"},
					both:    []string{txid, "Jane Doe", buyer, "ACME Training", "Moodle for teachers", "COURSE-101", "SEATS-PACK", euro[l]},
					absent:  []string{"jdoe"}, // production feedback has no place here
				}
				if l == "fr" {
					w.both = append(w.both, "1"+nb+"000,00"+nb+"€", "205,75"+nb+"€", "1"+nb+"028,75"+nb+"€", "carte bancaire (Stripe)", "27 juillet 2026 à 11:32 CEST")
				} else {
					w.both = append(w.both, "€1,000.00", "€205.75", "€1,028.75", "card (Stripe)", "27 July 2026, 11:32 CEST")
				}
				return w
			},
		},
		{
			name:  "offline instructions, transfer",
			event: func(l string) notify.Event { return event(notify.OfflineInstructions, l) },
			expect: func(l string) want {
				return want{
					to:      []string{buyer},
					subject: []string{txid},
					both:    []string{"FR76 3000 6000 0112 3456 7890 189", "AGRIFRPP", "Boutique Moodle SAS", txid, euro[l]},
					text:    []string{map[string]string{"en": "Reference: " + txid, "fr": "Référence : " + txid}[l]},
				}
			},
		},
		{
			name: "offline instructions, cheque with own reference",
			event: func(l string) notify.Event {
				e := event(notify.OfflineInstructions, l)
				e.Order.Paymode = "check"
				e.Instructions = &notify.Instructions{Payee: "Boutique Moodle SAS", Address: "Service comptable\r\n12 rue des Lilas\r\n75011 Paris", Reference: "CHQ-" + txid}
				return e
			},
			expect: func(l string) want {
				return want{
					to:      []string{buyer},
					subject: []string{txid},
					both:    []string{"Boutique Moodle SAS", "CHQ-" + txid, euro[l]},
					text:    []string{"Service comptable\n12 rue des Lilas\n75011 Paris"},
					html:    []string{"white-space:pre-line", "Service comptable\n12 rue des Lilas\n75011 Paris"},
					absent:  []string{"IBAN", "\r"},
				}
			},
		},
		{
			name:  "payment failed",
			event: func(l string) notify.Event { return event(notify.PaymentFailed, l) },
			expect: func(l string) want {
				return want{
					to:      []string{buyer},
					subject: []string{txid, map[string]string{"en": "Payment failed", "fr": "Échec du paiement"}[l]},
					both:    []string{txid, euro[l], "Jane Doe"},
					text:    []string{retry},
					html:    []string{`href="` + retry + `"`},
				}
			},
		},
		{
			name: "payment refused",
			event: func(l string) notify.Event {
				e := event(notify.PaymentFailed, l)
				e.Order.Status = "REFUSED"
				return e
			},
			expect: func(l string) want {
				return want{
					to:      []string{buyer},
					subject: []string{txid, map[string]string{"en": "Payment refused", "fr": "Paiement refusé"}[l]},
					both:    []string{map[string]string{"en": "was refused", "fr": "a été refusé"}[l]},
					text:    []string{retry},
					html:    []string{`href="` + retry + `"`},
				}
			},
		},
		{
			name:  "products delivered",
			event: func(l string) notify.Event { return event(notify.ProductsDelivered, l) },
			expect: func(l string) want {
				return want{
					to:      []string{buyer},
					subject: []string{txid},
					both:    []string{"You are enrolled in Moodle for teachers.", "Username: jdoe", "https://lms.example/course/view.php?id=4", "COURSE-101"},
					text:    []string{billURL},
					// html/template escapes & in attributes as &amp;, which browsers undo.
					html:   []string{`href="https://shop.example/orders/TU80WKRYTI9QUMJ4/bill?t=abc"`},
					absent: []string{"until 2027-07-27"}, // sales-admin feedback is not for the buyer
				}
			},
		},
		{
			name:  "delivery report",
			event: func(l string) notify.Event { return event(notify.DeliveryReport, l) },
			expect: func(l string) want {
				return want{
					to:      managers,
					subject: []string{txid, "Jane Doe"},
					both:    []string{"Enrolled jdoe in course 4 as student until 2027-07-27.", "COURSE-101", euro[l], "ACME Training"},
					absent:  []string{"Username: jdoe"}, // the buyer's access information stays with the buyer
				}
			},
		},
		{
			name: "delivery report to the seller when no sales manager",
			event: func(l string) notify.Event {
				e := event(notify.DeliveryReport, l)
				e.Shop.SalesManagers = nil
				return e
			},
			expect: func(l string) want { return want{to: []string{"seller@shop.example"}, subject: []string{txid}} },
		},
		{
			name: "reconciliation report, about no order",
			event: func(l string) notify.Event {
				e := event(notify.ReconciliationReport, l)
				e.Order = notify.Order{}
				return e
			},
			expect: func(l string) want {
				w := want{
					to:      managers,
					subject: []string{"Boutique Moodle", "2"},
					both:    []string{txid, "cs_test_paid", euro[l], "LATE000000000001", "late", "STUCK00000000001", "PREPROD", "DIFF000000000001", "cs_test_other", "HTTP 503"},
					absent:  []string{"Jane Doe"},
				}
				if l == "fr" {
					w.both = append(w.both, "3 décembre 2026 à 06:00 CET", "1 décembre 2026 à 09:00 CET", "carte bancaire (Stripe) : 12 paiement(s), dont 10")
				} else {
					w.both = append(w.both, "3 December 2026, 06:00 CET", "1 December 2026, 09:00 CET", "card (Stripe): 12 payment(s), 10 already")
				}
				return w
			},
		},
		{
			name: "reconciliation report of a quiet day",
			event: func(l string) notify.Event {
				e := event(notify.ReconciliationReport, l)
				e.Order, e.Report = notify.Order{}, &notify.Report{At: time.Date(2026, 12, 3, 5, 0, 0, 0, time.UTC), Days: 1}
				return e
			},
			expect: func(l string) want {
				return want{to: managers, subject: []string{"0"}, text: []string{map[string]string{"en": "- none", "fr": "- aucun"}[l]}}
			},
		},
		{
			name:  "refunded with a credit note",
			event: func(l string) notify.Event { return event(notify.Refunded, l) },
			expect: func(l string) want {
				return want{
					to:      []string{buyer},
					subject: []string{txid, "CN-2026-000007"},
					both:    []string{txid, euro[l], "re_test_1", "CN-2026-000007", "DEMO-2026-000042"},
					text:    []string{billURL},
					html:    []string{`href="https://shop.example/orders/TU80WKRYTI9QUMJ4/bill?t=abc"`},
				}
			},
		},
		{
			name: "refunded before billing: no credit note",
			event: func(l string) notify.Event {
				e := event(notify.Refunded, l)
				e.Refund.CreditNote, e.Refund.Invoice = "", ""
				return e
			},
			expect: func(l string) want {
				return want{to: []string{buyer}, subject: []string{txid}, both: []string{euro[l], "re_test_1"}, absent: []string{"CN-", billURL}}
			},
		},
		{
			name:  "account created",
			event: func(l string) notify.Event { return event(notify.AccountCreated, l) },
			expect: func(l string) want {
				return want{
					to:      []string{buyer},
					subject: []string{txid},
					both:    []string{buyer, "Jane Doe", "Boutique Moodle"},
					text:    []string{account},
					html:    []string{`href="` + account + `"`},
				}
			},
		},
	}
	for _, tt := range tests {
		for _, lang := range notify.Languages {
			t.Run(tt.name+"/"+lang, func(t *testing.T) {
				mails, err := notify.Render(tt.event(lang))
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				if len(mails) != 1 {
					t.Fatalf("Render returned %d e-mails, want 1", len(mails))
				}
				m, w := mails[0], tt.expect(lang)
				if !slices.Equal(m.To, w.to) {
					t.Errorf("To = %v, want %v", m.To, w.to)
				}
				for _, s := range w.subject {
					if !strings.Contains(m.Subject, s) {
						t.Errorf("subject %q lacks %q", m.Subject, s)
					}
				}
				check := func(body, name string, subs []string) {
					t.Helper()
					for _, s := range subs {
						if !strings.Contains(body, s) {
							t.Errorf("%s body lacks %q:\n%s", name, s, body)
						}
					}
				}
				check(m.Text, "text", append(w.both, w.text...))
				check(m.HTML, "HTML", append(w.both, w.html...))
				for _, s := range w.absent {
					if strings.Contains(m.Text, s) || strings.Contains(m.HTML, s) {
						t.Errorf("a body shows %q, which it must not", s)
					}
				}
				if !strings.Contains(m.HTML, `<html lang="`+lang+`">`) {
					t.Errorf("HTML is not marked as %s", lang)
				}
				if strings.Contains(m.Text, "<no value>") || strings.Contains(m.HTML, "<no value>") || strings.Contains(m.HTML, "ZgotmplZ") {
					t.Errorf("a template printed a missing or rejected value:\n%s\n%s", m.Text, m.HTML)
				}
			})
		}
	}
}

// TestRenderLanguagesDiffer guards against a French template that is a copy
// of the English one (or the reverse) and against the default language.
func TestRenderLanguagesDiffer(t *testing.T) {
	for _, k := range notify.Kinds {
		en, err := notify.Render(event(k, "en"))
		if err != nil {
			t.Fatal(err)
		}
		def, err := notify.Render(event(k, ""))
		if err != nil {
			t.Fatal(err)
		}
		fr, err := notify.Render(event(k, "fr"))
		if err != nil {
			t.Fatal(err)
		}
		if en[0].Subject == fr[0].Subject || en[0].Text == fr[0].Text || en[0].HTML == fr[0].HTML {
			t.Errorf("%s: English and French renderings are identical", k)
		}
		if def[0].Subject != en[0].Subject || def[0].Text != en[0].Text {
			t.Errorf("%s: an event without a language is not rendered in English", k)
		}
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	const evil = `<script>alert("x")</script>`
	for _, k := range notify.Kinds {
		for _, lang := range notify.Languages {
			e := event(k, lang)
			e.Shop.Name = "Shop " + evil
			e.Order.Customer.FirstName = evil
			e.Order.Customer.Organisation = `<img src=x onerror=alert(1)>`
			e.Order.Lines[0].Name = evil
			e.Feedback[0].Item = evil
			e.Feedback[0].Private = evil
			e.Feedback[0].SalesAdmin = evil
			if e.Instructions != nil {
				e.Instructions.Payee = evil
			}
			mails, err := notify.Render(e)
			if err != nil {
				t.Fatalf("%s/%s: %v", k, lang, err)
			}
			m := mails[0]
			if strings.Contains(m.HTML, "<script") || strings.Contains(m.HTML, "<img") {
				t.Errorf("%s/%s: HTML carries markup from the data:\n%s", k, lang, m.HTML)
			}
			if !strings.Contains(m.HTML, "&lt;script&gt;") {
				t.Errorf("%s/%s: HTML does not show the escaped name", k, lang)
			}
			// The text body is plain text: the name is shown as typed.
			if !strings.Contains(m.Text, evil) {
				t.Errorf("%s/%s: text body lost the name %q", k, lang, evil)
			}
		}
	}
}

func TestRenderHeaderInjection(t *testing.T) {
	for _, k := range notify.Kinds {
		for _, lang := range notify.Languages {
			e := event(k, lang)
			e.Shop.Name = "Shop\r\nBcc: victim@evil.example"
			e.Order.Customer.FirstName = "Jane\nX-Injected: 1"
			e.Order.Customer.LastName = "Doe\u2028\x00\x1b[31m"
			e.Order.Customer.Email = buyer
			mails, err := notify.Render(e)
			if err != nil {
				t.Fatalf("%s/%s: %v", k, lang, err)
			}
			m := mails[0]
			if strings.ContainsFunc(m.Subject, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\u2028' }) {
				t.Errorf("%s/%s: subject keeps a control character: %q", k, lang, m.Subject)
			}
			if !strings.Contains(m.Subject, "Shop Bcc: victim@evil.example") {
				t.Errorf("%s/%s: subject %q does not show the shop name on one line", k, lang, m.Subject)
			}
			for _, to := range m.To {
				if strings.Contains(to, "evil") {
					t.Errorf("%s/%s: injected recipient %q", k, lang, to)
				}
			}
			if strings.Contains(m.Text, "\nX-Injected") || strings.Contains(m.Text, "\r") {
				t.Errorf("%s/%s: a name broke a line of the text body:\n%s", k, lang, m.Text)
			}
		}
	}
}

func TestRenderRefusesBadEvents(t *testing.T) {
	tests := []struct {
		name    string
		kind    notify.Kind
		mutate  func(*notify.Event)
		wantErr string
	}{
		{"unknown kind", "OrderShipped", nil, `unknown kind "OrderShipped"`},
		{"unknown language", notify.OrderPlaced, func(e *notify.Event) { e.Lang = "de" }, `language "de"`},
		{"bad transaction ID", notify.OrderPlaced, func(e *notify.Event) { e.Order.TxID = "tu80wkryti9qumj4" }, "order.txid"},
		{"short transaction ID", notify.PaymentFailed, func(e *notify.Event) { e.Order.TxID = "TU80" }, "order.txid"},
		{"no shop name", notify.OrderPlaced, func(e *notify.Event) { e.Shop.Name = " \r\n" }, "shop.name"},
		{"bad currency", notify.OrderPlaced, func(e *notify.Event) { e.Order.Currency = "eur" }, "ISO 4217"},
		{"bad time zone", notify.OrderPlaced, func(e *notify.Event) { e.Shop.TimeZone = "Mars/Olympus" }, "shop.timeZone"},
		{"no sales manager nor seller", notify.OrderPlaced, func(e *notify.Event) { e.Shop.SalesManagers, e.Shop.SellerEmail = nil, "" }, "shop.salesManagers"},
		{"bad sales manager", notify.DeliveryReport, func(e *notify.Event) { e.Shop.SalesManagers = []string{"sales@shop.example", "not an address"} }, "shop.salesManagers"},
		{"header in recipient", notify.PaymentFailed, func(e *notify.Event) { e.Order.Customer.Email = "jane@example.org\r\nBcc: x@evil.example" }, "order.customer.email"},
		{"no buyer address", notify.AccountCreated, func(e *notify.Event) { e.Order.Customer.Email = "" }, "order.customer.email"},
		{"order without lines", notify.OrderPlaced, func(e *notify.Event) { e.Order.Lines = nil }, "order.lines"},
		{"offline without instructions", notify.OfflineInstructions, func(e *notify.Event) { e.Instructions = nil }, "instructions are required"},
		{"offline for an online mode", notify.OfflineInstructions, func(e *notify.Event) { e.Order.Paymode = "stripe" }, `paymode "stripe"`},
		{"transfer without IBAN", notify.OfflineInstructions, func(e *notify.Event) { e.Instructions.IBAN = "" }, "instructions.iban"},
		{"cheque without address", notify.OfflineInstructions, func(e *notify.Event) { e.Order.Paymode = "check" }, "instructions.address"},
		{"report without its content", notify.ReconciliationReport, func(e *notify.Event) { e.Report = nil }, "report.at"},
		{"report without a window", notify.ReconciliationReport, func(e *notify.Event) { e.Report.Days = 0 }, "report.days"},
		{"report with a bad currency", notify.ReconciliationReport, func(e *notify.Event) { e.Report.Recorded[0].Currency = "euro" }, "report.recorded"},
		{"flag without reason", notify.PaymentFlagged, func(e *notify.Event) { e.Flag = nil }, "flag.reason"},
		{"flag with an unknown reason", notify.PaymentFlagged, func(e *notify.Event) { e.Flag.Reason = "odd" }, "flag.reason"},
		{"refund without reference", notify.Refunded, func(e *notify.Event) { e.Refund.Reference = " " }, "refund.amount and refund.reference"},
		{"credit note without a link", notify.Refunded, func(e *notify.Event) { e.Links.Bill = "" }, "links.bill"},
		{"failure without retry link", notify.PaymentFailed, func(e *notify.Event) { e.Links.Retry = "" }, "links.retry"},
		{"delivery without bill link", notify.ProductsDelivered, func(e *notify.Event) { e.Links.Bill = "" }, "links.bill"},
		{"javascript link", notify.PaymentFailed, func(e *notify.Event) { e.Links.Retry = "javascript:alert(1)" }, "links.retry"},
		{"relative link", notify.ProductsDelivered, func(e *notify.Event) { e.Links.Bill = "/orders/x/bill" }, "links.bill"},
		{"link with a line break", notify.AccountCreated, func(e *notify.Event) { e.Links.Account = "https://lms.example/\r\nBcc: x" }, "links.account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind := tt.kind
			if !slices.Contains(notify.Kinds, kind) {
				kind = notify.OrderPlaced
			}
			e := event(kind, "en")
			e.Kind = tt.kind
			if tt.mutate != nil {
				tt.mutate(&e)
			}
			mails, err := notify.Render(e)
			if err == nil {
				t.Fatalf("Render accepted the event and returned %d e-mails", len(mails))
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
		})
	}
}
