package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/localcloud/cloudtest"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/production/locallms"
	"github.com/lmsshop/checkout/internal/storefront"
)

func TestMain(m *testing.M) { cloudtest.MainLeastPrivilege(m) }

// buyer is a browser's view of the API: a cart and its token.
type buyer struct {
	t *testing.T
	storefront.Client
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r reply) errCode() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (r reply) fields() string {
	e, _ := r.body["error"].(map[string]any)
	b, _ := json.Marshal(e["fields"])
	return string(b)
}

// noRedirect shows the tests the API's redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func call(t *testing.T, method, url, token, body string, hdr ...string) reply {
	t.Helper()
	resp, err := storefront.Call(context.Background(), noRedirect, method, url, token, body, hdr...)
	if err != nil {
		t.Fatal(err)
	}
	r := reply{status: resp.Status, header: resp.Header, raw: string(resp.Body)}
	if len(bytes.TrimSpace(resp.Body)) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(resp.Body, &r.body); err != nil {
			t.Fatalf("%s %s: body is not JSON: %s", method, url, resp.Body)
		}
	}
	return r
}

func newBuyer(t *testing.T) *buyer {
	t.Helper()
	return buyerOn(t, cloudtest.Start(t))
}

func (b *buyer) do(method, path, body string) reply {
	b.t.Helper()
	return call(b.t, method, b.API+b.Path(path), b.Token, body)
}

func (b *buyer) must(status int, method, path, body string) reply {
	b.t.Helper()
	r := b.do(method, path, body)
	if r.status != status {
		b.t.Fatalf("%s %s = %d, want %d: %s", method, path, r.status, status, r.raw)
	}
	return r
}

// placeOne buys one unit of code as customerJSON's customer and places the order with
// paymode, accepting the terms: the way most tests reach an order.
func (b *buyer) placeOne(code, paymode string) reply {
	b.t.Helper()
	return b.placeOneAs(code, paymode, customerJSON)
}

// placeOneAs is placeOne as another customer (customerAs).
func (b *buyer) placeOneAs(code, paymode, customer string) reply {
	b.t.Helper()
	b.must(200, "PUT", "/carts/{txid}/lines/"+code, `{"quantity":1}`)
	b.must(200, "PUT", "/carts/{txid}/customer", customer)
	return b.must(201, "POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"`+paymode+`"}`)
}

// customerAs is customerJSON's customer under another e-mail address. A test whose
// outcome depends on what the learning platform knows of the buyer (an enrolment, a
// role) buys under an address of its own: every test buying as customerJSON's Ada shares
// her learning-platform account, so the order the tests run in would decide the outcome.
func customerAs(email string) string {
	return strings.Replace(customerJSON, "Ada.Lovelace@Example.com", email, 1)
}

// enrol enrols email as a student in course in the local learning platform, as if they
// had followed it before buying here: the state of the platform a test's buyer needs.
func enrol(t *testing.T, c *cloudtest.Cloud, email, course string) {
	t.Helper()
	ctx := context.Background()
	lms := locallms.New(c.DynamoDB, c.Table)
	uid, _, err := lms.EnsureUser(ctx, production.Person{Email: email, FirstName: "Ada", LastName: "Lovelace"})
	if err != nil {
		t.Fatal(err)
	}
	if err := lms.Enrol(ctx, production.Enrolment{User: uid, Course: course, Role: "student", Start: time.Now().UTC()}); err != nil {
		t.Fatalf("enrol %s in %s: %v", email, course, err)
	}
}

func lines(r reply) map[string]float64 {
	out := map[string]float64{}
	ls, _ := r.body["lines"].([]any)
	for _, l := range ls {
		m := l.(map[string]any)
		out[m["code"].(string)] = m["quantity"].(float64)
	}
	return out
}

func totals(r reply) map[string]float64 {
	out := map[string]float64{}
	m, _ := r.body["totals"].(map[string]any)
	for k, v := range m {
		out[k] = v.(float64)
	}
	return out
}

func step(r reply, name string) map[string]any {
	for _, s := range r.body["steps"].([]any) {
		if m := s.(map[string]any); m["name"] == name {
			return m
		}
	}
	return nil
}

const customerJSON = `{"email":"Ada.Lovelace@Example.com","lastName":"lovelace","firstName":"ada","address":"1 Analytical Row","zip":"75005","city":"Paris","country":"FR","lang":"en"}`
