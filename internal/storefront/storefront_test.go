package storefront_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lmsshop/checkout/internal/storefront"
)

// A storefront opens a cart, then sends its token as a Bearer and JSON bodies, with
// {txid} standing for the cart in paths.
func TestClientSendsWhatAStorefrontSends(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization")+" type="+r.Header.Get("Content-Type")+" body="+string(b))
		if r.URL.Path == "/carts" {
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"transactionId":"TX1","cartToken":"tok"}`)
		}
	}))
	defer srv.Close()
	c := &storefront.Client{API: srv.URL}
	ctx := context.Background()
	if err := c.Open(ctx); err != nil || c.TxID != "TX1" || c.Token != "tok" {
		t.Fatalf("Open = %v, cart %q token %q", err, c.TxID, c.Token)
	}
	if r, err := c.Do(ctx, "PUT", "/carts/{txid}/lines/GO-101", `{"quantity":1}`); err != nil || r.Status != http.StatusOK {
		t.Fatalf("PUT = %+v, %v", r, err)
	}
	want := []string{
		"POST /carts auth= type= body=",
		`PUT /carts/TX1/lines/GO-101 auth=Bearer tok type=application/json body={"quantity":1}`,
	}
	if len(got) != len(want) {
		t.Fatalf("requests = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// A cart the API did not create is an error, not an empty cart.
func TestOpenRefusesAnAnswerWithoutACart(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := &storefront.Client{API: srv.URL}
	if err := c.Open(context.Background()); err == nil || c.TxID != "" {
		t.Errorf("Open against a 503 = %v, cart %q; want an error and no cart", err, c.TxID)
	}
}
