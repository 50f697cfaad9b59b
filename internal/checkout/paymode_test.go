package checkout_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
)

// The one table of payment modes decides how long the workflow waits for each.
func TestPlanFor(t *testing.T) {
	shop := &checkout.Shop{OfflinePaymentWait: checkout.Duration{Duration: 10 * 24 * time.Hour}}
	for _, tc := range []struct {
		mode    string
		kind    string
		timeout int64
	}{
		{"freeorder", "instant", 300},
		{"check", "offline", 10 * 24 * 3600},
		{"transfer", "offline", 10 * 24 * 3600},
		{"test", "test", 3600},
		{"stripe", "online", 3600},
		{"somethingnew", "online", 3600},
	} {
		p := checkout.PlanFor(shop, tc.mode)
		if p.Kind != tc.kind || p.TimeoutSeconds != tc.timeout || p.RetrySeconds != 48*3600 {
			t.Errorf("PlanFor(%q) = %+v, want kind %s, timeout %d s, retry 48 h", tc.mode, p, tc.kind, tc.timeout)
		}
	}
}

// The API's "fields" keep their shape: one field-error type, written as field and message.
func TestFieldErrorJSON(t *testing.T) {
	b, err := json.Marshal([]checkout.FieldError{{Field: "lines[0].quantity", Message: "must be positive"}})
	if err != nil || string(b) != `[{"field":"lines[0].quantity","message":"must be positive"}]` {
		t.Errorf("fields JSON = %s, %v", b, err)
	}
}

// The one kind → status table reads both ways: every kind comes back from its status.
func TestKindStatusTable(t *testing.T) {
	for _, k := range []checkout.Kind{checkout.EINVALID, checkout.EUNAUTHORIZED, checkout.EFORBIDDEN, checkout.ENOTFOUND,
		checkout.ECONFLICT, checkout.EGONE, checkout.ETOOLARGE, checkout.EINCOMPLETE, checkout.EUNAVAILABLE, checkout.EINTERNAL} {
		if got := checkout.KindOfStatus(k.HTTPStatus()); got != k {
			t.Errorf("%s → %d → %s", k, k.HTTPStatus(), got)
		}
	}
	for status, want := range map[int]checkout.Kind{502: checkout.EUNAVAILABLE, 504: checkout.EUNAVAILABLE, 418: checkout.EINTERNAL} {
		if got := checkout.KindOfStatus(status); got != want {
			t.Errorf("KindOfStatus(%d) = %s, want %s", status, got, want)
		}
	}
	if got := checkout.Kind("unheard_of").HTTPStatus(); got != 500 {
		t.Errorf("unknown kind → %d, want 500", got)
	}
}
