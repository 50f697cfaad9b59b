package payment_test

import (
	"math"
	"testing"

	"github.com/lmsshop/checkout/internal/payment"
)

func TestFormatAmount(t *testing.T) {
	tests := []struct {
		amount int64
		cur    string
		want   string
	}{
		{0, "EUR", "0.00"},
		{1, "EUR", "0.01"},
		{99, "EUR", "0.99"},
		{100, "EUR", "1.00"},
		{123456, "EUR", "1234.56"},
		{-1, "EUR", "-0.01"},
		{-123456, "USD", "-1234.56"},
		{0, "JPY", "0"},
		{1, "JPY", "1"},
		{99, "JPY", "99"},
		{100, "JPY", "100"},
		{123456, "JPY", "123456"},
		{5, "KWD", "0.005"},
		{123456, "KWD", "123.456"},
		{math.MaxInt64, "EUR", "92233720368547758.07"},
		{math.MinInt64, "EUR", "-92233720368547758.08"},
	}
	for _, tt := range tests {
		got, err := payment.FormatAmount(tt.amount, tt.cur)
		if err != nil || got != tt.want {
			t.Errorf("FormatAmount(%d, %s) = %q, %v; want %q", tt.amount, tt.cur, got, err, tt.want)
		}
	}
	if _, err := payment.FormatAmount(1, "XXX"); err == nil {
		t.Error("FormatAmount with unknown currency: want error")
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in      string
		cur     string
		want    int64
		wantErr bool
	}{
		{"0.00", "EUR", 0, false},
		{"0.01", "EUR", 1, false},
		{"0.99", "EUR", 99, false},
		{"1.00", "EUR", 100, false},
		{"1234.56", "EUR", 123456, false},
		{"12.3", "EUR", 1230, false},
		{"12", "EUR", 1200, false},
		{"-0.01", "EUR", -1, false},
		{"123456", "JPY", 123456, false},
		{"1000.00", "JPY", 1000, false}, // trailing zero decimals tolerated
		{"123.456", "KWD", 123456, false},
		{"92233720368547758.07", "EUR", math.MaxInt64, false},
		{"12.345", "EUR", 0, true},
		{"10.5", "JPY", 0, true},
		{"92233720368547758.08", "EUR", 0, true}, // overflow
		{"", "EUR", 0, true},
		{".5", "EUR", 0, true},
		{"1.", "EUR", 0, true},
		{"+1.00", "EUR", 0, true},
		{"1,00", "EUR", 0, true},
		{" 1.00", "EUR", 0, true},
		{"1e3", "EUR", 0, true},
		{"--1", "EUR", 0, true},
		{"1.00", "XXX", 0, true},
	}
	for _, tt := range tests {
		got, err := payment.ParseAmount(tt.in, tt.cur)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d, error %v", tt.in, tt.cur, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestAmountRoundTrip(t *testing.T) {
	for _, cur := range []string{"EUR", "JPY", "KWD"} {
		for _, v := range []int64{0, 1, 7, 99, 100, 101, 999, 1000, 123456, -5, math.MaxInt64 / 3} {
			s, err := payment.FormatAmount(v, cur)
			if err != nil {
				t.Fatal(err)
			}
			back, err := payment.ParseAmount(s, cur)
			if err != nil || back != v {
				t.Errorf("%s: %d → %q → %d, %v", cur, v, s, back, err)
			}
		}
	}
}
