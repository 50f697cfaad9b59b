package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/localcloud/cloudtest"
	"github.com/lmsshop/checkout/internal/localcloud/seslocal"
	"github.com/lmsshop/checkout/internal/trace"
)

// lineBreaker reports the first rune of s that could end a trace line or an e-mail
// header, or forge the next one.
func lineBreaker(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return r, true
		}
	}
	return 0, false
}

// noLineBreakers fails for every string in v (decoded JSON) that holds a control
// character or a line separator, naming where it is.
func noLineBreakers(t *testing.T, where string, v any) {
	t.Helper()
	switch x := v.(type) {
	case string:
		if r, bad := lineBreaker(x); bad {
			t.Errorf("%s = %q keeps %U", where, x, r)
		}
	case map[string]any:
		for k, e := range x {
			noLineBreakers(t, where+"."+k, e)
		}
	case []any:
		for i, e := range x {
			noLineBreakers(t, fmt.Sprintf("%s[%d]", where, i), e)
		}
	}
}

// traceItems reads a transaction's trace lines straight from the table, as the merchant's
// tools would, rather than through the API that wrote them.
func traceItems(t *testing.T, c *cloudtest.Cloud, txid string) []map[string]string {
	t.Helper()
	// Lines live in the `trace` list of the item whose write they describe (the cart,
	// the order, …) or of a TRACE#… item of their own (internal/store/trace.go); the
	// partition names their transaction.
	out, err := c.DynamoDB.Query(context.Background(), &dynamodb.QueryInput{
		TableName:              aws.String(c.Table),
		KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "TX#" + txid},
		},
	})
	if err != nil {
		t.Fatalf("query trace of %s: %v", txid, err)
	}
	var items []map[string]string
	for _, it := range out.Items {
		sk := it["sk"].(*types.AttributeValueMemberS).Value
		list, _ := it["trace"].(*types.AttributeValueMemberL)
		if list == nil {
			continue
		}
		// Each line is a list [time in nanoseconds, source, message].
		for _, e := range list.Value {
			m := map[string]string{"sk": sk, "txid": txid}
			entry, _ := e.(*types.AttributeValueMemberL)
			if entry == nil || len(entry.Value) != 3 {
				t.Fatalf("trace entry of %s is %T, want a list of 3", sk, e)
			}
			if n, ok := entry.Value[0].(*types.AttributeValueMemberN); ok {
				m["at"] = n.Value
			}
			for i, name := range []string{"", "source", "message"} {
				if s, ok := entry.Value[i].(*types.AttributeValueMemberS); ok && name != "" {
					m[name] = s.Value
				}
			}
			items = append(items, m)
		}
	}
	return items
}

// dirty wraps a value with every way of breaking a line: CR LF, a lone LF, U+2028, U+2029,
// NEL, NUL and an ANSI escape, plus a forged trace line after the break.
func dirty(s string) string {
	return "\r\n" + s[:1] + "\u2028" + s[1:] + "\x00\x1b[2K\u2029\u0085\n-- 2026-1-1 00:00:00 000 -- [AAAAAAAAAAAAAAAA] payment : paid"
}

// Control characters in every text field a buyer can send are stored cleaned, and the
// merchant trace read back from the table has one well-formed line per item, none forged.
func TestControlCharactersAreCleanedAndCannotForgeTraceLines(t *testing.T) {
	c := cloudtest.Start(t)
	b := newBuyer(t)
	b.must(200, "PUT", "/carts/{txid}/lines/SEC-201-SEATS", `{"quantity":1}`)
	b.must(200, "PUT", "/carts/{txid}/lines/COURSE-SPACE", `{"quantity":1}`)

	enc := func(v any) string {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}

	// An e-mail address with a header break is refused, not repaired into another address.
	r := b.do("PUT", "/carts/{txid}/customer", enc(map[string]string{
		"email": "ada@example.com\r\nBcc: all@evil.example", "lastName": "L", "firstName": "A",
		"address": "1 rue", "zip": "75005", "city": "Paris", "country": "FR",
	}))
	if r.status != 400 || !strings.Contains(r.fields(), "email") {
		t.Errorf("customer e-mail with CR LF = %d %s, want 400 on email", r.status, r.raw)
	}

	customer := map[string]any{
		"email": "ada@example.com", "lastName": dirty("lovelace"), "firstName": dirty("ada"),
		"organisation": dirty("Analytical"), "address": dirty("1 Row"), "zip": dirty("75005"),
		"city": dirty("Paris"), "country": "FR", "lang": "en",
		"invoicing": map[string]string{
			"organisation": dirty("Engines"), "department": dirty("Accounts"), "lastName": dirty("babbage"),
			"firstName": dirty("charles"), "email": "billing@example.com", "address": dirty("2 Row"),
			"zip": dirty("75006"), "city": dirty("Paris"), "country": "FR", "vatNumber": "FR 40\r\n303265045\u2028", "plantCode": dirty("P1"),
		},
	}
	r = b.must(200, "PUT", "/carts/{txid}/customer", enc(customer))
	cust := r.body["customer"].(map[string]any)
	if cust["lastName"] == "" || !strings.HasPrefix(cust["lastName"].(string), "Lovelace") || !strings.HasPrefix(cust["city"].(string), "Paris") {
		t.Errorf("customer stored as %v, want the text kept without its control characters", cust)
	}

	seats := map[string]any{
		"participants": []map[string]string{
			{"email": "bob@example.com", "lastName": dirty("martin"), "firstName": dirty("bob"), "city": dirty("Lyon"), "phone": dirty("0600"), "organisation": dirty("Org")},
			{"email": "boss@example.com", "lastName": dirty("petit"), "firstName": dirty("anne"), "city": dirty("Lyon")},
		},
		"seats": []map[string]string{
			{"code": "SEC-201-SEATS", "role": "student", "email": "bob@example.com"},
			{"code": "SEC-201-SEATS", "role": "supervisor", "email": "boss@example.com"},
		},
	}
	b.must(200, "PUT", "/carts/{txid}/seats", enc(seats))

	// The short name must match [A-Z0-9-]{3,20}: once cleaned, "TEAM\r\n-1" is "TEAM-1".
	req := map[string]any{"requirements": map[string]any{"COURSE-SPACE": []map[string]string{
		{"shortname": "TEAM\r\n-1", "fullname": dirty("Team space"), "format": "weeks"},
	}}}
	r = b.must(200, "PUT", "/carts/{txid}/requirements", enc(req))
	unit := r.body["requirements"].(map[string]any)["COURSE-SPACE"].([]any)[0].(map[string]any)
	if unit["shortname"] != "TEAM-1" {
		t.Errorf("short name stored as %q, want TEAM-1", unit["shortname"])
	}

	// A discount code with a forged line is refused; its text may reach the trace.
	if r := b.do("POST", "/carts/{txid}/codes", enc(map[string]string{"code": dirty("WELCOME10")})); r.status != 400 {
		t.Errorf("discount code with control characters = %d %s, want 400", r.status, r.raw)
	}
	b.do("POST", "/carts/{txid}/codes", enc(map[string]string{"code": "WELCOME10\r\n"}))
	b.do("PUT", "/carts/{txid}/lines/"+"GO-101%0D%0A", `{"quantity":1}`)

	stored := b.must(200, "GET", "/carts/{txid}", "")
	for _, field := range []string{"customer", "participants", "seats", "requirements", "codes", "partner"} {
		noLineBreakers(t, field, stored.body[field])
	}

	items := traceItems(t, c, b.TxID)
	if len(items) < 5 {
		t.Fatalf("trace has %d lines, want one per command at least", len(items))
	}
	for _, it := range items {
		for _, attr := range []string{"source", "message", "txid"} {
			if r, bad := lineBreaker(it[attr]); bad {
				t.Errorf("trace %s %s = %q keeps %U", it["sk"], attr, it[attr], r)
			}
		}
		if it["txid"] != b.TxID {
			t.Errorf("trace item %s names transaction %q under TX#%s", it["sk"], it["txid"], b.TxID)
		}
		line := trace.Line{TxID: it["txid"], Source: it["source"], Message: it["message"]}.Format(nil)
		if !strings.Contains(line, " ["+b.TxID+"] ") {
			t.Errorf("formatted line %q does not carry its transaction", line)
		}
		if strings.ContainsAny(line, "\r\n") {
			t.Errorf("formatted trace line spans lines: %q", line)
		}
	}
}

// The e-mails sent for an order whose buyer typed line breaks into every field carry
// no header a buyer wrote: recipients and subject hold no control character.
func TestMailHeadersCannotBeForged(t *testing.T) {
	c := cloudtest.Start(t)
	b := newBuyer(t)
	b.must(200, "PUT", "/carts/{txid}/lines/GO-101", `{"quantity":1}`)
	raw, _ := json.Marshal(map[string]string{
		"email": "mallory@example.com", "lastName": dirty("mallory") + "\r\nBcc: all@evil.example", "firstName": dirty("eve"),
		"address": dirty("1 rue"), "zip": "75005", "city": dirty("Paris"), "country": "FR", "lang": "en",
	})
	b.must(200, "PUT", "/carts/{txid}/customer", string(raw))
	b.must(201, "POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"check"}`)
	msgs := waitMail(t, c, "mallory@example.com")
	if len(msgs) == 0 {
		t.Fatal("no e-mail to mallory@example.com for the order: the offline instructions were never sent")
	}
	for _, m := range msgs {
		headers := []string{m.Subject, m.From}
		headers = append(headers, m.ReplyTo...)
		headers = append(headers, m.Destination.To...)
		headers = append(headers, m.Destination.Cc...)
		headers = append(headers, m.Destination.Bcc...)
		for _, h := range headers {
			if r, bad := lineBreaker(h); bad {
				t.Errorf("mail header %q keeps %U", h, r)
			}
		}
		for _, to := range append(append(m.Destination.To, m.Destination.Cc...), m.Destination.Bcc...) {
			if strings.Contains(to, "evil.example") {
				t.Errorf("mail sent to %q, an address the buyer smuggled in", to)
			}
		}
	}
}

// waitMail polls the SES emulator for up to 10 s for mail to a recipient.
func waitMail(t *testing.T, c *cloudtest.Cloud, to string) []seslocal.Message {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		all, err := c.Mail(ctx)
		if err != nil {
			t.Fatalf("read mail: %v", err)
		}
		var mine []seslocal.Message
		for _, m := range all {
			for _, d := range m.Destination.To {
				if strings.EqualFold(d, to) {
					mine = append(mine, m)
				}
			}
		}
		if len(mine) > 0 {
			return mine
		}
	}
	return nil
}

// Prices come from the catalog only: a placement or a line carrying an amount is
// refused as a whole rather than having the amount silently ignored.
func TestPriceTamperingIsRefused(t *testing.T) {
	b := newBuyer(t)
	b.must(200, "PUT", "/carts/{txid}/lines/GO-101", `{"quantity":1}`)
	b.must(200, "PUT", "/carts/{txid}/customer", customerJSON)
	before := totals(b.must(200, "GET", "/carts/{txid}", ""))
	for _, tc := range []struct{ name, method, path, body string }{
		{"unit price on a line", "PUT", "/carts/{txid}/lines/GO-101", `{"quantity":1,"unitPrice":1}`},
		{"total on a line", "PUT", "/carts/{txid}/lines/GO-101", `{"quantity":1,"total":0}`},
		{"final amount at placement", "POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"check","final":1}`},
		{"totals at placement", "POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"check","totals":{"final":1}}`},
		{"lines at creation with a price", "POST", "/carts", `{"lines":[{"code":"GO-101","quantity":1,"unitPrice":1}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := b.do(tc.method, tc.path, tc.body); r.status != 400 || r.errCode() != "invalid" {
				t.Errorf("= %d %s, want 400 invalid", r.status, r.raw)
			}
		})
	}
	if after := totals(b.must(200, "GET", "/carts/{txid}", "")); !reflect.DeepEqual(after, before) {
		t.Errorf("totals changed from %v to %v", before, after)
	}
}

// Transaction IDs cannot be enumerated: 200 random well-formed IDs, asked with the
// valid token of another cart, never answer 200.
func TestTransactionIDsCannotBeEnumerated(t *testing.T) {
	c := cloudtest.Start(t)
	b := newBuyer(t)
	seen := map[int]int{}
	for i := 0; i < 200; i++ {
		id := trace.NewTxID()
		for _, req := range []struct{ method, path, body string }{
			{"GET", "/carts/" + id, ""},
			{"PUT", "/carts/" + id + "/lines/GO-101", `{"quantity":1}`},
			{"GET", "/orders/" + id, ""},
		} {
			r := call(t, req.method, c.APIURL+req.path, b.Token, req.body)
			seen[r.status]++
			if r.status != 404 && r.status != 403 {
				t.Fatalf("%s %s with another cart's token = %d %s, want 404 or 403", req.method, req.path, r.status, r.raw)
			}
		}
	}
	t.Logf("statuses over 600 guesses: %v", seen)
	// The buyer's own cart still answers, so the 404s are not a broken route.
	b.must(200, "GET", "/carts/{txid}", "")
}

// /ops (automation, AWS_IAM) answers only requests signed with SigV4 by a known key:
// unsigned, a tampered signature, and a signed request whose path was changed
// afterwards are all 403.
func TestOpsRequiresAValidSignature(t *testing.T) {
	c := cloudtest.Start(t)
	do := func(req *http.Request) (int, string) {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	signed := func() *http.Request {
		req, err := c.SignedRequest("GET", "/ops/orders?status=PAID", nil)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}

	cases := []struct {
		name   string
		tamper func(*http.Request)
	}{
		{"unsigned", func(r *http.Request) { r.Header.Del("Authorization"); r.Header.Del("X-Amz-Date") }},
		{"signature altered", func(r *http.Request) {
			h := r.Header.Get("Authorization")
			last := h[len(h)-1]
			flip := byte('0')
			if last == '0' {
				flip = '1'
			}
			r.Header.Set("Authorization", h[:len(h)-1]+string(flip))
		}},
		{"path changed after signing", func(r *http.Request) { r.URL.RawQuery = "status=COMPLETE" }},
		{"unknown access key", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Credential=local/", "Credential=intruder/", 1))
		}},
		{"bearer token instead of a signature", func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+strings.Repeat("a", 43))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := signed()
			tc.tamper(req)
			if status, body := do(req); status != 403 {
				t.Errorf("= %d %s, want 403", status, body)
			}
		})
	}
	// The same request signed and left alone gets past the gateway, so the 403s above
	// are the signature check's and not a missing route.
	if status, body := do(signed()); status == 403 || status == 401 {
		t.Errorf("correctly signed request = %d %s, want it admitted", status, body)
	}
}
