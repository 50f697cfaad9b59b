package checkout_test

import (
	"encoding/json"
	"testing"

	"github.com/lmsshop/checkout/internal/checkout"
)

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
