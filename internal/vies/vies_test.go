package vies_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lmsshop/checkout/internal/vies"
	"github.com/lmsshop/checkout/internal/vies/viestest"
)

func TestCheck(t *testing.T) {
	fake := viestest.Start(nil)
	defer fake.Close()
	fake.SetDown("IT", true)
	c := &vies.Client{URL: fake.URL}
	tests := []struct {
		name, prefix, number string
		wantValid            bool
		wantErr              error
	}{
		{"registered", "DE", "123456788", true, nil},
		{"not registered", "DE", "111111125", false, nil},
		{"member state down", "IT", "12345678903", false, vies.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := c.Check(context.Background(), tt.prefix, tt.number)
			if !errors.Is(err, tt.wantErr) || (err == nil && r.Valid != tt.wantValid) {
				t.Fatalf("Check = %+v, %v; want valid %v, err %v", r, err, tt.wantValid, tt.wantErr)
			}
			if tt.wantValid && r.Name == "" {
				t.Errorf("a registered number came back without its trader's name")
			}
		})
	}
	// A VIES that is not there, or answers with an error page, is unavailable.
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("<html>maintenance</html>"))
	}))
	defer broken.Close()
	for _, url := range []string{broken.URL, "http://127.0.0.1:1"} {
		if _, err := (&vies.Client{URL: url}).Check(context.Background(), "DE", "123456788"); !errors.Is(err, vies.ErrUnavailable) {
			t.Errorf("VIES at %s: err %v, want ErrUnavailable", url, err)
		}
	}
}
