package store

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/trace"
)

// marshalOrder is the reference encodeOrder keeps to: attributevalue's reflection over
// the record with its json tags, the body's attributes then moved out of the item.
func marshalOrder(rec *orderRecord) (head, body map[string]types.AttributeValue, err error) {
	item, err := marshal(rec)
	if err != nil {
		return nil, nil, err
	}
	body = map[string]types.AttributeValue{"pk": item["pk"], "sk": s(bodySK)}
	for _, a := range append(bodyAttrs, traceAttr) {
		if v, ok := item[a]; ok {
			body[a] = v
			delete(item, a)
		}
	}
	return item, body, nil
}

// fill sets every exported field reachable from v to a value that is not its zero,
// different from field to field: slices get two elements, maps two keys, pointers a
// value. A field added to any type of the order is then filled here without a change,
// and encodeOrder must write it.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", *n))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), n)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(k, n)
			fill(e, n)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 3, 10, 0, *n, *n*1000, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	default:
		panic(fmt.Sprintf("fill: no value for a %s: teach fill (and encodeOrder) this kind", v.Type()))
	}
}

func filledOrder() *checkout.Order {
	var o checkout.Order
	n := 0
	fill(reflect.ValueOf(&o).Elem(), &n)
	return &o
}

// placedOrder is an order as placement builds it: most optional fields empty, nil
// slices where the cart had nothing.
func placedOrder() *checkout.Order {
	now := time.Date(2026, 12, 3, 10, 0, 0, 123456789, time.UTC)
	it := checkout.Item{Code: "GO-101", Name: "Go, the course", Status: checkout.StatusAvailable, Tiers: []checkout.Tier{{UnitPrice: 12000}},
		TaxCode: "VAT20", MaxQuantity: 10, Seats: checkout.SeatsNone, Audience: checkout.AudienceAnyone, Handler: "enrol",
		HandlerParams: map[string]string{"course": "101"}}
	return &checkout.Order{
		TxID: "TX1", ShopID: "demo", Status: checkout.Placed, Paymode: "test", Currency: "EUR",
		Lines: []checkout.OrderLine{{ID: "L01", PricedLine: checkout.PricedLine{Code: it.Code, Name: it.Name, Quantity: 1, UnitPrice: 12000, Untaxed: 12000, TaxCode: "VAT20", TaxRateBP: 2000, Tax: 2400},
			Taxed: 14400, Handler: "enrol", Params: it.HandlerParams, Item: it}},
		BillLines: []checkout.BillLine{{Type: "BILLING", Code: it.Code, Label: it.Name, Quantity: 1, UnitPrice: 12000, Untaxed: 12000, TaxCode: "VAT20", TaxRateBP: 2000, Tax: 2400}},
		Taxes:     []checkout.TaxLine{{Code: "VAT20", RateBP: 2000, Base: 12000, Amount: 2400}},
		Totals:    checkout.Totals{Untaxed: 12000, Taxes: 2400, Taxed: 14400, Final: 14400},
		Customer:  checkout.Customer{Email: "ada@example.com", LastName: "Lovelace", FirstName: "Ada", City: "Paris", Country: "FR"},
		TokenHash: "hash", PlacedAt: now, UpdatedAt: now, APIURL: "https://api.example",
		Acceptance: checkout.Acceptance{ShopTerms: true, ShopText: "terms", AcceptedAt: now},
	}
}

// The hand-written encoder writes what attributevalue's reflection writes, for an
// order as placement makes it, for one with every field of every type set, for an empty
// one (nil slices are NULL where not omitempty) and for empty but non-nil slices and
// maps; what it writes reads back as the record it was.
func TestEncodeOrderIsMarshal(t *testing.T) {
	emptyCollections := placedOrder()
	emptyCollections.Lines, emptyCollections.Codes, emptyCollections.Participants = []checkout.OrderLine{}, []string{}, []checkout.Participant{}
	emptyCollections.Required = map[string][]map[string]string{"GO-101": {{}, nil}, "GO-102": nil}
	emptyCollections.Acceptance.ItemTerms = map[string]string{}
	lines := []trace.Line{{At: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC), Source: "shop", Message: "CART : created"}}
	tests := []struct {
		name  string
		o     *checkout.Order
		trace []trace.Line
	}{
		{"as placed", placedOrder(), lines},
		{"every field set", filledOrder(), lines},
		{"nothing set", &checkout.Order{}, nil},
		{"empty slices and maps", emptyCollections, []trace.Line{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := newOrderRecord(tc.o)
			rec.Trace = entriesOf(tc.trace)
			if tc.name == "every field set" {
				rec.TaskToken, rec.TaskState, rec.Instructions = "token", "payment", "pay to"
			}
			head, body, err := encodeOrder(&rec)
			if err != nil {
				t.Fatal(err)
			}
			wantHead, wantBody, err := marshalOrder(&rec)
			if err != nil {
				t.Fatal(err)
			}
			for _, part := range []struct {
				name      string
				got, want map[string]types.AttributeValue
			}{{"head", head, wantHead}, {"body", body, wantBody}} {
				for k, w := range part.want {
					if g, ok := part.got[k]; !ok || !reflect.DeepEqual(g, w) {
						t.Errorf("%s[%q] = %s, want %s", part.name, k, avText(g), avText(w))
					}
				}
				for k, g := range part.got {
					if _, ok := part.want[k]; !ok {
						t.Errorf("%s[%q] = %s, which marshal does not write", part.name, k, avText(g))
					}
				}
			}
			back, err := joinOrder(head, body)
			if err != nil {
				t.Fatal(err)
			}
			want, err := joinOrder(wantHead, wantBody)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, want) {
				t.Errorf("read back:\n%+v\nwant\n%+v", back, want)
			}
		})
	}
}

// A map with an empty key is refused, as attributevalue refuses it, before anything is
// written.
func TestEncodeOrderRefusesAnEmptyMapKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(o *checkout.Order)
	}{
		{"item terms", func(o *checkout.Order) { o.Acceptance.ItemTerms = map[string]string{"": "x"} }},
		{"line's handler parameters", func(o *checkout.Order) { o.Lines[0].Params = map[string]string{"": "x"} }},
		{"requirements' item code", func(o *checkout.Order) { o.Required = map[string][]map[string]string{"": nil} }},
		{"a requirement's field", func(o *checkout.Order) { o.Required = map[string][]map[string]string{"GO-101": {{"": "x"}}} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := placedOrder()
			tc.set(o)
			rec := newOrderRecord(o)
			if _, _, err := marshalOrder(&rec); err == nil {
				t.Fatal("marshal accepts it: the case tests nothing")
			}
			if _, _, err := encodeOrder(&rec); err == nil {
				t.Error("encodeOrder accepted a map with an empty key")
			}
		})
	}
}

func avText(v types.AttributeValue) string {
	switch v := v.(type) {
	case nil:
		return "(absent)"
	case *types.AttributeValueMemberS:
		return fmt.Sprintf("S %q", v.Value)
	case *types.AttributeValueMemberN:
		return "N " + v.Value
	case *types.AttributeValueMemberBOOL:
		return fmt.Sprintf("BOOL %v", v.Value)
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberL:
		out := "L["
		for _, e := range v.Value {
			out += avText(e) + " "
		}
		return out + "]"
	case *types.AttributeValueMemberM:
		out := "M{"
		for k, e := range v.Value {
			out += k + ":" + avText(e) + " "
		}
		return out + "}"
	}
	return fmt.Sprintf("%T", v)
}

// BenchmarkEncodeOrder compares the two encoders on an order as placement writes it.
func BenchmarkEncodeOrder(b *testing.B) {
	rec := newOrderRecord(placedOrder())
	for _, e := range []struct {
		name   string
		encode func(*orderRecord) (map[string]types.AttributeValue, map[string]types.AttributeValue, error)
	}{{"byHand", encodeOrder}, {"reflection", marshalOrder}} {
		b.Run(e.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := e.encode(&rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
