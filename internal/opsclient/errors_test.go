package opsclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/opsclient"
	"github.com/lmsshop/checkout/internal/opsclient/opstest"
)

func TestErrorDecoding(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantKind   checkout.Kind
		wantMsg    string
		wantFields []checkout.FieldError
		wantText   string
	}{
		{
			name:     "checkout problem with fields",
			status:   http.StatusBadRequest,
			body:     `{"error":{"code":"invalid","message":"payment not recorded","fields":[{"field":"amount","message":"12344 does not match the order's total 12345"}]}}`,
			wantKind: checkout.EINVALID, wantMsg: "payment not recorded",
			wantFields: []checkout.FieldError{{Field: "amount", Message: "12344 does not match the order's total 12345"}},
			wantText:   "400 invalid: payment not recorded; amount: 12344 does not match the order's total 12345",
		},
		{
			name: "conflict", status: http.StatusConflict,
			body:     `{"error":{"code":"conflict","message":"order TU80WKRYTI9QUMJ4 cannot move from PENDING to COMPLETE"}}`,
			wantKind: checkout.ECONFLICT, wantMsg: "order TU80WKRYTI9QUMJ4 cannot move from PENDING to COMPLETE",
			wantText: "409 conflict: order TU80WKRYTI9QUMJ4 cannot move from PENDING to COMPLETE",
		},
		{
			name: "gateway refusal", status: http.StatusForbidden,
			body:     `{"message":"The security token included in the request is invalid."}`,
			wantKind: opsclient.CodeGateway, wantMsg: "The security token included in the request is invalid.",
		},
		{
			name: "proxy page", status: http.StatusBadGateway, body: "<html>Bad gateway</html>\n",
			wantKind: checkout.EUNAVAILABLE, wantMsg: "<html>Bad gateway</html>",
		},
		{
			name: "empty body", status: http.StatusNotFound,
			wantKind: checkout.ENOTFOUND, wantMsg: "Not Found",
		},
		{
			name: "long body is cut", status: http.StatusInternalServerError, body: strings.Repeat("x", 2000),
			wantKind: checkout.EINTERNAL, wantMsg: strings.Repeat("x", 500) + "…",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := opsclient.New(srv.URL, localCreds(), opstest.Region, nil)
			_, err := c.Orders(context.Background(), "", time.Time{}, time.Time{})
			var e *opsclient.APIError
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want an *APIError", err, err)
			}
			if e.StatusCode != tt.status || e.Code != tt.wantKind || e.Message != tt.wantMsg {
				t.Errorf("got %d %q %q, want %d %q %q", e.StatusCode, e.Code, e.Message, tt.status, tt.wantKind, tt.wantMsg)
			}
			if len(e.Fields) != len(tt.wantFields) || (len(e.Fields) > 0 && e.Fields[0] != tt.wantFields[0]) {
				t.Errorf("fields = %+v, want %+v", e.Fields, tt.wantFields)
			}
			if tt.wantText != "" && e.Error() != tt.wantText {
				t.Errorf("Error() = %q, want %q", e.Error(), tt.wantText)
			}
			if !opsclient.IsKind(err, tt.wantKind) {
				t.Errorf("IsKind(err, %s) = false", tt.wantKind)
			}
		})
	}
}

func TestNonJSONSuccessIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("<html>login</html>"))
	}))
	defer srv.Close()
	_, err := opsclient.New(srv.URL, localCreds(), opstest.Region, nil).Orders(context.Background(), "", time.Time{}, time.Time{})
	if err == nil || !strings.Contains(err.Error(), "decode the answer") {
		t.Errorf("err = %v, want a decoding error", err)
	}
}
