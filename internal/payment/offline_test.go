package payment_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/payment"
)

func TestNormalizeIBAN(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{"FR76 3000 6000 0112 3456 7890 189", "FR7630006000011234567890189", ""},
		{"de89370400440532013000", "DE89370400440532013000", ""},
		{"GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432", ""},
		{"FR76 3000 6000 0112 3456 7890 188", "", "checksum"},
		{"GB82 WEST 1234 5698 7654 33", "", "checksum"},
		{"FR76 3000 6000 0112 3456 7890 18", "", "27 characters"},
		{"1276 3000 6000 0112 3456 7890 189", "", "unexpected character"},
		{"FR7630006000011234567890-89", "", "unexpected character"},
		{"FR76", "", "length"},
		{"", "", "length"},
	}
	for _, tt := range tests {
		got, err := payment.NormalizeIBAN(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NormalizeIBAN(%q) = %q, %v; want error mentioning %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeIBAN(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestValidateBIC(t *testing.T) {
	for bic, ok := range map[string]bool{
		"BNPAFRPP": true, "BNPAFRPPXXX": true, "DEUTDEFF500": true,
		"BNPAFRP": false, "BNPAFRPPXX": false, "BNP1FRPP": false, "BNPAFRP-": false, "bnpafrpp": false,
	} {
		if err := payment.ValidateBIC(bic); (err == nil) != ok {
			t.Errorf("ValidateBIC(%q) = %v, want ok %v", bic, err, ok)
		}
	}
}

func TestTransferInstructions(t *testing.T) {
	m, err := payment.NewTransfer(payment.TransferConfig{Payee: "Learn SARL", Address: "Paris", IBAN: "fr7630006000011234567890189", BIC: "bnpa frpp"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		amount int64
		cur    string
		text   string
	}{
		{1, "EUR", "0.01 EUR"},
		{123456, "EUR", "1234.56 EUR"},
		{123456, "JPY", "123456 JPY"},
	}
	for _, tt := range tests {
		r := baseRequest()
		r.Amount, r.Currency = tt.amount, tt.cur
		in, err := m.Start(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		o := in.Offline
		if in.Kind != payment.InstructionsOffline || o == nil {
			t.Fatalf("instructions %+v, want offline", in)
		}
		if o.IBAN != "FR76 3000 6000 0112 3456 7890 189" || o.BIC != "BNPAFRPP" || o.Payee != "Learn SARL" ||
			o.Reference != r.TxID || o.Amount != tt.amount || o.Currency != tt.cur {
			t.Errorf("offline %+v", o)
		}
		for _, want := range []string{tt.text, r.TxID, o.IBAN, "BNPAFRPP"} {
			if !strings.Contains(o.Text, want) {
				t.Errorf("text %q lacks %q", o.Text, want)
			}
		}
	}
	if m.Kind() != payment.KindOffline {
		t.Errorf("kind %v", m.Kind())
	}
}

func TestCheckInstructions(t *testing.T) {
	m, err := payment.NewCheck(payment.CheckConfig{Payee: "Learn SARL", Address: "1 rue de la Paix\n75002 Paris"})
	if err != nil {
		t.Fatal(err)
	}
	in, err := m.Start(context.Background(), baseRequest())
	if err != nil {
		t.Fatal(err)
	}
	o := in.Offline
	if in.Kind != payment.InstructionsOffline || o == nil || o.Payee != "Learn SARL" ||
		o.Address != "1 rue de la Paix\n75002 Paris" || o.Reference != "TU80WKRYTI9QUMJ4" || o.IBAN != "" {
		t.Fatalf("instructions %+v / %+v", in, o)
	}
	for _, want := range []string{"1234.56 EUR", "Learn SARL", "1 rue de la Paix, 75002 Paris", "TU80WKRYTI9QUMJ4"} {
		if !strings.Contains(o.Text, want) {
			t.Errorf("text %q lacks %q", o.Text, want)
		}
	}
	custom, err := payment.NewCheck(payment.CheckConfig{Payee: "P", Address: "A", Text: "Our own words"})
	if err != nil {
		t.Fatal(err)
	}
	if in, _ := custom.Start(context.Background(), baseRequest()); in.Offline.Text != "Our own words" {
		t.Errorf("configured text not used: %q", in.Offline.Text)
	}
}
