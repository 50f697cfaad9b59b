package notify

import (
	"bytes"
	"fmt"
	htemplate "html/template"
	"strings"
	"testing"
	ttemplate "text/template"
)

// referenceRender renders with text/template and html/template, as notify did before
// its own evaluator: the evaluator must give the same bytes.
func referenceRender(t *testing.T, k Kind, lang string, v view) Email {
	t.Helper()
	base := fileBase[k] + "." + lang
	text := ttemplate.Must(ttemplate.New(base+".txt.tmpl").Option("missingkey=error").ParseFS(templateFS, "templates/"+base+".txt.tmpl"))
	html := htemplate.Must(htemplate.New(base+".html.tmpl").Option("missingkey=error").ParseFS(templateFS, layoutFile, "templates/"+base+".html.tmpl"))
	var b bytes.Buffer
	if err := text.ExecuteTemplate(&b, "subject", v); err != nil {
		t.Fatal(err)
	}
	v.Subject = SanitizeHeader(b.String())
	b.Reset()
	if err := text.ExecuteTemplate(&b, base+".txt.tmpl", v); err != nil {
		t.Fatal(err)
	}
	txt := strings.TrimSpace(b.String()) + "\n"
	b.Reset()
	if err := html.ExecuteTemplate(&b, base+".html.tmpl", v); err != nil {
		t.Fatal(err)
	}
	return Email{Subject: v.Subject, Text: txt, HTML: b.String()}
}

// Every template, in every language, on ordinary and hostile data (markup, quotes,
// plus signs, NUL, URLs with spaces, queries and unsafe schemes): the evaluator writes
// exactly what html/template and text/template wrote.
func TestTemplatesMatchHTMLTemplate(t *testing.T) {
	hostile := `<script>alert("x&y")</script> 'q' a+b ` + "\x00 é"
	full := view{
		Shop: Shop{Name: "Boutique <Moodle> & Co"}, TxID: "TU80WKRYTI9QUMJ4", Status: "PLACED",
		Paymode: "Card + 3DS", PaymodeCode: "check", PlacedAt: "27/07/2026 11:32",
		Customer:     Person{FirstName: "Jane", LastName: "O'Doe", Email: "jane+shop@example.org", Organisation: hostile},
		CustomerName: `Jane "JD" O'Doe`,
		Lines:        []viewLine{{Code: "GO-101", Name: hostile, Quantity: 2, Total: "1 234,50 €"}, {Code: "X&Y", Name: "B", Quantity: 1, Total: "0,00 €"}},
		Untaxed:      "1 000,00 €", Taxes: "234,50 €", Final: "1 234,50 €",
		Instructions: &Instructions{Payee: hostile, Address: "1 rue <b>\nParis", IBAN: "FR76 3000", BIC: "BNP+", Reference: "REF'1", Text: hostile},
		Feedback:     []Feedback{{Item: "GO-101", Public: hostile, Private: "p<>", SalesAdmin: "s&a"}, {Item: "GO-102"}},
		Flag:         &viewFlag{Reason: "duplicate", Amount: "12,00 €", Mode: "stripe", Reference: "pi_<1>"},
		Refund:       &viewRefund{Amount: "1 234,50 €", Mode: hostile, Reference: "re_<1>", CreditNote: "CN-2026-000007", Invoice: "2026-000042"},
		Report: &viewReport{At: "3 December 2026, 06:00 CET", Days: "3", Payments: 12, Known: 10,
			Providers:  []ReportProvider{{Name: "card (Stripe)", Payments: 12, Known: 10}, {Name: "PayPal", Error: hostile}},
			Recorded:   []viewPayment{{TxID: "LATE000000000001", Provider: "Stripe", Reference: "cs_<1>", Amount: "12,00 €", Outcome: "paid"}, {TxID: "X", Outcome: "late"}},
			Mismatched: []viewPayment{{TxID: "DIFF000000000001", Provider: hostile, Reference: "r", Amount: "1,00 €"}},
			Foreign:    []viewPayment{{Reference: "cs_other", Amount: "2,00 €"}},
			Stuck:      []viewOrder{{TxID: "STUCK00000000001", Status: "PREPROD", Since: "1 December 2026, 09:00 CET"}}},
		Links: Links{Bill: "https://shop.example/orders/TU/bill?t=a b&c=<d>", Retry: "https://shop.example/pay ment/é",
			Order: "javascript:alert(1)", Account: "https://lms.example/login?next=/a+b#frag"},
	}
	empty := view{Shop: Shop{Name: "S"}, TxID: "TU80WKRYTI9QUMJ4", Customer: Person{Email: "a@b.c"}}
	variants := map[string]view{"full": full, "empty": empty}
	for _, reason := range []string{"late", "overpayment", "underpayment", "other"} {
		v := full
		f := *full.Flag
		f.Reason = reason
		v.Flag, v.Status, v.PaymodeCode = &f, "REFUSED", "transfer"
		variants["flag "+reason] = v
	}
	for _, k := range Kinds {
		for _, lang := range Languages {
			set, err := templateSet(k, lang)
			if err != nil {
				t.Fatal(err)
			}
			for name, v := range variants {
				t.Run(fmt.Sprintf("%s/%s/%s", k, lang, name), func(t *testing.T) {
					v.Kind, v.Lang = k, lang
					if k == PaymentFlagged && v.Flag == nil {
						v.Flag = &viewFlag{Reason: "late"}
					}
					if k == OfflineInstructions && v.Instructions == nil {
						v.Instructions = &Instructions{}
					}
					if k == Refunded && v.Refund == nil {
						v.Refund = &viewRefund{}
					}
					if k == ReconciliationReport && v.Report == nil {
						v.Report = &viewReport{}
					}
					want := referenceRender(t, k, lang, v)
					got, err := set.render(v)
					if err != nil {
						t.Fatal(err)
					}
					for _, part := range []struct{ name, got, want string }{
						{"subject", got.Subject, want.Subject}, {"text", got.Text, want.Text}, {"html", got.HTML, want.HTML},
					} {
						if part.got != part.want {
							t.Errorf("%s differs from html/template's:\n got: %q\nwant: %q", part.name, part.got, part.want)
						}
					}
				})
			}
		}
	}
}

// An action where the evaluator cannot escape as html/template would is refused, not
// written unescaped.
func TestTemplateContextRefused(t *testing.T) {
	for _, src := range []string{
		`<a onclick="{{.TxID}}">`,
		`<a href='{{.TxID}}'>`,
		`<a href={{.TxID}}>`,
		`<script>var x = {{.TxID}}</script>`,
		`<style>p{color:{{.TxID}}}</style>`,
		`<p {{.TxID}}>`,
		`<a href="{{.TxID}}{{.TxID}}">`,
		`<!-- {{.TxID}} -->`,
	} {
		t.Run(src, func(t *testing.T) {
			trees, err := parseSource("t", src)
			if err != nil {
				t.Fatal(err)
			}
			if out, err := execute(trees, "t", view{TxID: "X"}, true); err == nil {
				t.Errorf("rendered %q, want an error", out)
			}
		})
	}
}
