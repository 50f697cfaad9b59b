package sesmail_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/notify/sesmail"
)

// fakeSES records the request, for what aws-ses-v2-local does not keep.
type fakeSES struct {
	in  *sesv2.SendEmailInput
	err error
}

func (f *fakeSES) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.in = in
	if f.err != nil {
		return nil, f.err
	}
	return &sesv2.SendEmailOutput{MessageId: aws.String("msg-1")}, nil
}

func TestSESRequest(t *testing.T) {
	f := &fakeSES{}
	m := notify.Email{To: []string{"a@example.org"}, Subject: "S", Text: "T", HTML: "<p>H</p>"}
	id, err := sesmail.NewSES(f, "checkout-events").Send(context.Background(), "sales@shop.example", m)
	if err != nil || id != "msg-1" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	in := f.in
	if aws.ToString(in.ConfigurationSetName) != "checkout-events" {
		t.Errorf("ConfigurationSetName = %q", aws.ToString(in.ConfigurationSetName))
	}
	s := in.Content.Simple
	for name, c := range map[string]*string{"subject": s.Subject.Charset, "text": s.Body.Text.Charset, "html": s.Body.Html.Charset} {
		if aws.ToString(c) != "UTF-8" {
			t.Errorf("%s charset = %q, want UTF-8", name, aws.ToString(c))
		}
	}
	if aws.ToString(s.Subject.Data) != "S" || aws.ToString(s.Body.Text.Data) != "T" || aws.ToString(s.Body.Html.Data) != "<p>H</p>" {
		t.Errorf("content = %q %q %q", aws.ToString(s.Subject.Data), aws.ToString(s.Body.Text.Data), aws.ToString(s.Body.Html.Data))
	}

	f = &fakeSES{}
	if _, err := sesmail.NewSES(f, "").Send(context.Background(), "sales@shop.example", m); err != nil {
		t.Fatal(err)
	}
	if f.in.ConfigurationSetName != nil {
		t.Errorf("ConfigurationSetName = %q, want none", aws.ToString(f.in.ConfigurationSetName))
	}
}

func TestSESRefusesBadEmails(t *testing.T) {
	good := notify.Email{To: []string{"a@example.org"}, Subject: "S", Text: "T"}
	tests := []struct {
		name    string
		from    string
		mutate  func(*notify.Email)
		wantErr string
	}{
		{"bad from", "not an address", nil, "from"},
		{"injected from", "sales@shop.example\r\nBcc: x@evil.example", nil, "from"},
		{"no recipient", "sales@shop.example", func(m *notify.Email) { m.To = nil }, "no recipient"},
		{"bad recipient", "sales@shop.example", func(m *notify.Email) { m.To = []string{"a@example.org", "nope"} }, "to"},
		{"empty subject", "sales@shop.example", func(m *notify.Email) { m.Subject = "\r\n" }, "empty subject"},
		{"empty body", "sales@shop.example", func(m *notify.Email) { m.Text = "" }, "empty body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := good
			if tt.mutate != nil {
				tt.mutate(&m)
			}
			f := &fakeSES{}
			_, err := sesmail.NewSES(f, "").Send(context.Background(), tt.from, m)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
			}
			if f.in != nil {
				t.Errorf("SES was called despite the error")
			}
		})
	}

	t.Run("SES error is wrapped", func(t *testing.T) {
		cause := errors.New("MessageRejected: Email address is not verified")
		_, err := sesmail.NewSES(&fakeSES{err: cause}, "").Send(context.Background(), "sales@shop.example", good)
		if !errors.Is(err, cause) {
			t.Fatalf("err = %v, want it to wrap %v", err, cause)
		}
	})
}
