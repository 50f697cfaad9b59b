package opsclient_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/opsclient"
	"github.com/lmsshop/checkout/internal/production"
)

// The client's Product reads every field the back office writes of a production
// instance: decoding and encoding again gives the same JSON.
func TestProductMirrorsInstance(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	in := production.Instance{
		ID: "i1", Reference: "ABCD-EFGH-IJKL-MN42", ItemCode: "GO-101", Handler: "enrol", Customer: "ada@example.org",
		Beneficiary: "bob@example.org", TxID: "TX1", LineID: "1", Unit: 2, Context: "GO-101", Status: "active",
		Start: at, End: at.AddDate(1, 0, 0), Data: map[string]string{"role": "student"},
		Events: []production.Event{{Type: "created", At: at, Data: map[string]string{"by": "workflow"}}},
	}
	want, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var p opsclient.Product
	if err := json.Unmarshal(want, &p); err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("Product round trip:\n got %s\nwant %s", got, want)
	}
}
