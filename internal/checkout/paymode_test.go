package checkout_test

import (
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
