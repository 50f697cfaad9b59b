package store

import (
	"testing"

	"github.com/lmsshop/checkout/internal/production"
)

// TestPinKeyReadsPinAttr: the refund closes the claims it finds on the order's head by
// their names, so every name pinAttr writes, in any round, reads back as its unit, and
// no other attribute does.
func TestPinKeyReadsPinAttr(t *testing.T) {
	const txid = "TU80WKRYTI9QUMJ4"
	for _, k := range []production.Key{
		{TxID: txid, LineID: "L01", Unit: 0, Phase: production.PhasePostpay},
		{TxID: txid, LineID: "L02.CERT-GO", Unit: 3, Phase: production.PhasePostpay},
		{TxID: txid, LineID: "L01", Unit: 0, Phase: production.PhasePostpay, Round: 1},
		{TxID: txid, LineID: "L02.CERT-GO", Unit: 12, Phase: production.PhasePostpay, Round: 27},
	} {
		got, ok := pinKey(txid, pinAttr(k))
		if !ok || got != k {
			t.Errorf("pinKey(%q) = %+v, %v; want %+v", pinAttr(k), got, ok, k)
		}
	}
	for _, name := range []string{"status", "pin#", "pin#L01", "pin#L01#x", "pin#L01#0#rx", "paymentKeys"} {
		if k, ok := pinKey(txid, name); ok {
			t.Errorf("pinKey(%q) = %+v, want no unit", name, k)
		}
	}
}
