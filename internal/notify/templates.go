package notify

import (
	"bytes"
	"embed"
	"fmt"
	htemplate "html/template"
	"strings"
	"sync"
	ttemplate "text/template"
)

// templateFS holds, per kind and language, a text template (which also
// defines "subject") and an HTML template, named
// templates/<kind>.<lang>.{txt,html}.tmpl, plus the shared HTML layout.
//
//go:embed templates/*.tmpl
var templateFS embed.FS

var fileBase = map[Kind]string{
	OrderPlaced:          "order_placed",
	OfflineInstructions:  "offline_instructions",
	PaymentFailed:        "payment_failed",
	ProductsDelivered:    "products_delivered",
	DeliveryReport:       "delivery_report",
	AccountCreated:       "account_created",
	PaymentFlagged:       "payment_flagged",
	ReconciliationReport: "reconciliation_report",
	Refunded:             "refunded",
}

const layoutFile = "templates/_layout.html.tmpl"

// tset is the parsed pair of templates for one kind in one language.
type tset struct {
	text     *ttemplate.Template
	html     *htemplate.Template
	textName string
	htmlName string
}

// parsed parses every template once, on first use; a parse error is a
// programming error the tests catch, returned rather than panicking.
var parsed = sync.OnceValues(func() (map[string]*tset, error) {
	sets := map[string]*tset{}
	for _, k := range Kinds {
		for _, lang := range Languages {
			base := fileBase[k] + "." + lang
			s := &tset{textName: base + ".txt.tmpl", htmlName: base + ".html.tmpl"}
			var err error
			s.text, err = ttemplate.New(s.textName).Option("missingkey=error").ParseFS(templateFS, "templates/"+s.textName)
			if err != nil {
				return nil, fmt.Errorf("notify: parse %s: %w", s.textName, err)
			}
			if s.text.Lookup("subject") == nil {
				return nil, fmt.Errorf("notify: %s defines no \"subject\"", s.textName)
			}
			s.html, err = htemplate.New(s.htmlName).Option("missingkey=error").ParseFS(templateFS, layoutFile, "templates/"+s.htmlName)
			if err != nil {
				return nil, fmt.Errorf("notify: parse %s: %w", s.htmlName, err)
			}
			sets[string(k)+"."+lang] = s
		}
	}
	return sets, nil
})

func templateSet(k Kind, lang string) (*tset, error) {
	sets, err := parsed()
	if err != nil {
		return nil, err
	}
	s, ok := sets[string(k)+"."+lang]
	if !ok {
		return nil, fmt.Errorf("notify: no template for %s in %q", k, lang)
	}
	return s, nil
}

// render executes the subject, then the bodies, which may show the subject.
func (s *tset) render(v view) (Email, error) {
	var b bytes.Buffer
	if err := s.text.ExecuteTemplate(&b, "subject", v); err != nil {
		return Email{}, fmt.Errorf("subject: %w", err)
	}
	v.Subject = SanitizeHeader(b.String())
	b.Reset()
	if err := s.text.ExecuteTemplate(&b, s.textName, v); err != nil {
		return Email{}, fmt.Errorf("text body: %w", err)
	}
	text := strings.TrimSpace(b.String()) + "\n"
	b.Reset()
	if err := s.html.ExecuteTemplate(&b, s.htmlName, v); err != nil {
		return Email{}, fmt.Errorf("html body: %w", err)
	}
	return Email{Subject: v.Subject, Text: text, HTML: b.String()}, nil
}
