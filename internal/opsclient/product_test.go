package opsclient_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/opsclient"
	"github.com/lmsshop/checkout/internal/production"
)

// The client's Product reads each of its fields from what the back office writes of a
// production instance.
func TestProductReadsTheInstance(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	in := production.Instance{
		ID: "i1", Reference: "ABCD-EFGH-IJKL-MN42", ItemCode: "GO-101", Handler: "enrol", Customer: "ada@example.org",
		Beneficiary: "bob@example.org", TxID: "TX1", LineID: "1", Unit: 2, Context: "GO-101", Status: "active",
		Start: at, End: at.AddDate(1, 0, 0), Data: map[string]string{"role": "student"},
		Events: []production.Event{{Type: "created", At: at}},
	}
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var p opsclient.Product
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	pv, iv := reflect.ValueOf(p), reflect.ValueOf(in)
	for i := range pv.NumField() {
		name := pv.Type().Field(i).Name
		want := iv.FieldByName(name)
		if !want.IsValid() {
			t.Errorf("Product.%s: the instance has no such field", name)
			continue
		}
		if got := pv.Field(i).Interface(); !reflect.DeepEqual(got, want.Interface()) {
			t.Errorf("Product.%s = %v, want %v", name, got, want.Interface())
		}
	}
}
