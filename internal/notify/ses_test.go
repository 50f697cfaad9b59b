package notify_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/lmsshop/checkout/internal/localcloud/seslocal"
	"github.com/lmsshop/checkout/internal/localcloud/sestest"
	"github.com/lmsshop/checkout/internal/notify"
	"github.com/lmsshop/checkout/internal/notify/sesmail"
)

// sesLocal starts aws-ses-v2-local for the test and returns it with an SES v2 client
// pointed at it.
func sesLocal(t *testing.T) (*seslocal.Server, *sesv2.Client) {
	t.Helper()
	srv := sestest.Start(t)
	client := sesv2.NewFromConfig(aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local-secret", ""),
	}, func(o *sesv2.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	return srv, client
}

func TestSESSendsThroughSESv2Local(t *testing.T) {
	srv, client := sesLocal(t)
	sender := sesmail.NewSES(client, "checkout-events")
	ctx := context.Background()
	const from = "Boutique Élan <sales@shop.example>"

	type sent struct {
		id string
		m  notify.Email
	}
	var all []sent
	for _, k := range notify.Kinds {
		for _, lang := range notify.Languages {
			mails, err := notify.Render(event(k, lang))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range mails {
				id, err := sender.Send(ctx, from, m)
				if err != nil {
					t.Fatalf("%s/%s: Send: %v", k, lang, err)
				}
				if id == "" {
					t.Fatalf("%s/%s: Send returned no message ID", k, lang)
				}
				all = append(all, sent{id, m})
			}
		}
	}

	stored, err := srv.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(all) {
		t.Fatalf("the server holds %d messages, want %d", len(stored), len(all))
	}
	byID := map[string]seslocal.Message{}
	for _, m := range stored {
		byID[m.MessageID] = m
	}
	for _, s := range all {
		got, ok := byID[s.id]
		if !ok {
			t.Errorf("message %s (%q) is not in the store", s.id, s.m.Subject)
			continue
		}
		if got.Subject != s.m.Subject {
			t.Errorf("subject = %q, want %q", got.Subject, s.m.Subject)
		}
		if !strings.Contains(got.Subject, txid) && !strings.Contains(s.m.Text, "Reconciliation") && !strings.Contains(s.m.Text, "Rapprochement") { // the report is about no one order
			t.Errorf("stored subject %q lacks the transaction ID", got.Subject)
		}
		if !slices.Equal(got.Destination.To, s.m.To) || len(got.Destination.Cc)+len(got.Destination.Bcc) != 0 {
			t.Errorf("destination = %+v, want To %v only", got.Destination, s.m.To)
		}
		if got.Body.Text != s.m.Text {
			t.Errorf("%q: text body differs:\ngot  %q\nwant %q", s.m.Subject, got.Body.Text, s.m.Text)
		}
		if got.Body.HTML != s.m.HTML {
			t.Errorf("%q: HTML body differs", s.m.Subject)
		}
		// The display name is RFC 2047 encoded, as SES requires for non-ASCII.
		if !strings.HasSuffix(got.From, "<sales@shop.example>") || strings.Contains(got.From, "É") {
			t.Errorf("from = %q, want an encoded name and <sales@shop.example>", got.From)
		}
	}
}

func TestSESSanitisesHeaders(t *testing.T) {
	srv, client := sesLocal(t)
	sender := sesmail.NewSES(client, "")
	ctx := context.Background()
	// An Email built by hand, not by Render: Send must still refuse to
	// forward a line break into the subject.
	m := notify.Email{
		To:      []string{"jane@example.org"},
		Subject: "Your order\r\nBcc: attacker@evil.example\r\n\r\nhello",
		Text:    "body",
	}
	id, err := sender.Send(ctx, "sales@shop.example", m)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := srv.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0].MessageID != id {
		t.Fatalf("store = %+v, want the one message %s", stored, id)
	}
	got := stored[0]
	if got.Subject != "Your order Bcc: attacker@evil.example hello" {
		t.Errorf("subject = %q, want it on one line", got.Subject)
	}
	if !slices.Equal(got.Destination.To, []string{"jane@example.org"}) || len(got.Destination.Bcc) != 0 {
		t.Errorf("destination = %+v, want only jane@example.org", got.Destination)
	}
	if got.Body.HTML != "" || got.Body.Text != "body" {
		t.Errorf("body = %+v, want text only", got.Body)
	}
}
