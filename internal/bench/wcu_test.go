package bench

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestItemModelFollowsAWSRules checks the write units the report computes from item
// sizes against AWS's published rules, call by call on one table with a status index
// projecting ALL and a customer index projecting KEYS_ONLY.
func TestItemModelFollowsAWSRules(t *testing.T) {
	pad := func(n int) string { return strings.Repeat("x", n) }
	// An item of pk "TX#1" / sk "ORDER" (2+4+2+5 = 13 bytes of keys) with a body attribute.
	order := func(status string, body int) string {
		return fmt.Sprintf(`{"pk":{"S":"TX#1"},"sk":{"S":"ORDER"},"gsi1pk":{"S":"ORDERS#%s"},"gsi2pk":{"S":"CUST#a"},"body":{"S":"%s"}}`, status, pad(body))
	}
	tests := []struct {
		name      string
		op        string
		req, resp string
		want      float64
	}{
		// 13 + gsi1pk (6+14) + gsi2pk (6+6) + body (4+1500) ≈ 1.5 KB: 2 units in the table, 2 in
		// gsi1 (ALL), 1 in gsi2 (keys only).
		{"a put enters both indexes", "PutItem", `{"Item":` + order("PLACED", 1500) + `}`, `{}`, 5},
		// The status key changes: the table item (2), gsi1's old entry deleted (2) and the
		// new one put (2); gsi2's keys stay and it projects none of the rest: nothing.
		{"a status move rewrites the status index, not the keys-only one", "UpdateItem",
			`{"Key":{"pk":{"S":"TX#1"},"sk":{"S":"ORDER"}},"UpdateExpression":"SET #g = :g","ExpressionAttributeNames":{"#g":"gsi1pk"},"ExpressionAttributeValues":{":g":{"S":"ORDERS#PENDING"}}}`,
			`{}`, 6},
		// ALL_NEW gives the item as it is now: 3 KB in the table and in gsi1 (ALL, same keys).
		{"an update that grows the item counts its new size", "UpdateItem",
			`{"Key":{"pk":{"S":"TX#1"},"sk":{"S":"ORDER"}},"UpdateExpression":"SET body = :b","ExpressionAttributeValues":{":b":{"S":"y"}},"ReturnValues":"ALL_NEW"}`,
			`{"Attributes":` + order("PENDING", 3000) + `}`, 6},
		{"a failed condition costs the item as it is", "UpdateItem",
			`{"Key":{"pk":{"S":"TX#1"},"sk":{"S":"ORDER"}},"UpdateExpression":"SET body = :b","ExpressionAttributeValues":{":b":{"S":"y"}}}`,
			`{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"}`, 3},
		// A transaction doubles each item: a 100-byte put (1) and the 3 KB order deleted
		// (3, plus its gsi1 entry 3 and gsi2 entry 1).
		{"a transaction counts twice", "TransactWriteItems",
			`{"TransactItems":[{"Put":{"Item":{"pk":{"S":"C#1"},"sk":{"S":"X"},"v":{"S":"` + pad(90) + `"}}}},{"Delete":{"Key":{"pk":{"S":"TX#1"},"sk":{"S":"ORDER"}}}}]}`,
			`{}`, 2 * (1 + 3 + 3 + 1)},
		{"reads write nothing", "GetItem", `{"Key":{"pk":{"S":"C#1"},"sk":{"S":"X"}}}`, `{"Item":{"pk":{"S":"C#1"},"sk":{"S":"X"}}}`, 0},
	}
	m := NewItemModel("pk", "sk", []ModelIndex{{Name: "gsi1", Hash: "gsi1pk", All: true}, {Name: "gsi2", Hash: "gsi2pk"}})
	for _, tt := range tests {
		if got := m.WriteUnits(tt.op, []byte(tt.req), []byte(tt.resp)); got != tt.want {
			t.Errorf("%s: %s = %v write units, want %v", tt.name, tt.op, got, tt.want)
		}
	}
}

// TestItemModelIncludeProjection: an index projecting INCLUDE holds the keys and its
// listed attributes, so an update costs it a unit only when one of those changes.
func TestItemModelIncludeProjection(t *testing.T) {
	body := strings.Repeat("x", 1500)
	item := `{"pk":{"S":"TX#1"},"sk":{"S":"ORDER"},"gsi1pk":{"S":"ORDERS#PLACED"},"gsi2pk":{"S":"CUST#a"},"updatedAt":{"S":"t0"},"body":{"S":"` + body + `"}}`
	update := func(expr, names, values string) string {
		return `{"Key":{"pk":{"S":"TX#1"},"sk":{"S":"ORDER"}},"UpdateExpression":"` + expr + `","ExpressionAttributeNames":` + names + `,"ExpressionAttributeValues":` + values + `}`
	}
	tests := []struct {
		name string
		op   string
		req  string
		want float64
	}{
		// ≈ 1.5 KB: 2 units in the table; the gsi1 entry (keys, updatedAt) and the gsi2
		// one (keys) 1 each.
		{"a put enters both indexes with a small entry", "PutItem", `{"Item":` + item + `}`, 4},
		// body is not projected: the table only.
		{"an update of an attribute the index does not list", "UpdateItem",
			update("SET #b = :b", `{"#b":"body"}`, `{":b":{"S":"`+body+`"}}`), 2},
		// updatedAt is projected: the table (2) and the entry rewritten (1).
		{"an update of a listed attribute", "UpdateItem",
			update("SET #u = :u", `{"#u":"updatedAt"}`, `{":u":{"S":"t1"}}`), 3},
		// The status key changes: the table (2), the old entry deleted (1), the new put (1).
		{"a status move", "UpdateItem",
			update("SET #g = :g", `{"#g":"gsi1pk"}`, `{":g":{"S":"ORDERS#PENDING"}}`), 4},
	}
	m := NewItemModel("pk", "sk", []ModelIndex{{Name: "gsi1", Hash: "gsi1pk", Include: []string{"status", "updatedAt"}}, {Name: "gsi2", Hash: "gsi2pk"}})
	for _, tt := range tests {
		if got := m.WriteUnits(tt.op, []byte(tt.req), []byte(`{}`)); got != tt.want {
			t.Errorf("%s: %s = %v write units, want %v", tt.name, tt.op, got, tt.want)
		}
	}
}

// TestLocalLMSCalls: the local LMS fake's own records are told apart from the checkout's.
func TestLocalLMSCalls(t *testing.T) {
	tests := []struct {
		req  string
		want bool
	}{
		{`{"Item":{"pk":{"S":"LMS#USER#a@example.com"},"sk":{"S":"USER"}}}`, true},
		{`{"Key":{"pk":{"S":"LMS#COURSE#GO-101"},"sk":{"S":"COURSE"}}}`, true},
		{`{"Key":{"pk":{"S":"TX#ABC"},"sk":{"S":"ORDER"}}}`, false},
		{`{"TransactItems":[{"Put":{"Item":{"pk":{"S":"TX#ABC"},"sk":{"S":"PRODUCED#L01"}}}},{"Put":{"Item":{"pk":{"S":"LMS#COURSE#X"}}}}]}`, false},
	}
	for _, tt := range tests {
		if got := localLMS([]byte(tt.req)); got != tt.want {
			t.Errorf("localLMS(%s) = %v, want %v", tt.req, got, tt.want)
		}
	}
}

// TestItemModelWrites: the breakdown names each item a call writes by its operation
// and key shape, with the units it costs (a transaction's doubling and the indexes'
// entries included) and the item's size in bytes, and adds up to the call's write units.
func TestItemModelWrites(t *testing.T) {
	head := `{"pk":{"S":"TX#AB12"},"sk":{"S":"ORDER"},"gsi1pk":{"S":"ORDERS#PLACED"},"status":{"S":"PLACED"}}`
	tests := []struct {
		name string
		op   string
		req  string
		want []ItemWrite
	}{
		{"a put enters the status index", "PutItem", `{"Item":` + head + `}`,
			[]ItemWrite{{Op: "PutItem", Item: "TX ORDER", Units: 2, Size: 47}}},
		// The head is known now (47 bytes: names and values): the check costs its size,
		// twice; the marker put 1, twice.
		{"a transaction's items each twice", "TransactWriteItems",
			`{"TransactItems":[{"ConditionCheck":{"Key":{"pk":{"S":"TX#AB12"},"sk":{"S":"ORDER"}}}},{"Put":{"Item":{"pk":{"S":"TX#AB12"},"sk":{"S":"PRODUCED#L01#0#postpay"}}}}]}`,
			[]ItemWrite{{Op: "TransactWriteItems/ConditionCheck", Item: "TX ORDER", Units: 2, Size: 47}, {Op: "TransactWriteItems/Put", Item: "TX PRODUCED", Units: 2, Size: 33}}},
		{"a batch's items once", "BatchWriteItem",
			`{"RequestItems":{"t":[{"PutRequest":{"Item":{"pk":{"S":"TX#AB12"},"sk":{"S":"TRACE#0001796304030123#000000000001"}}}},{"DeleteRequest":{"Key":{"pk":{"S":"TX#AB12"},"sk":{"S":"ORDER#BODY"}}}}]}}`,
			// The body was never seen: its delete costs the one unit a write always does.
			[]ItemWrite{{Op: "BatchWriteItem/Put", Item: "TX TRACE", Units: 1, Size: 46}, {Op: "BatchWriteItem/Delete", Item: "TX ORDER#BODY", Units: 1}}},
		{"a read writes nothing", "GetItem", `{"Key":{"pk":{"S":"TX#AB12"},"sk":{"S":"ORDER"}}}`, nil},
	}
	m := NewItemModel("pk", "sk", []ModelIndex{{Name: "gsi1", Hash: "gsi1pk", Include: []string{"status"}}})
	for _, tt := range tests {
		got := m.Writes(tt.op, []byte(tt.req), []byte(`{}`))
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Writes = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestKeyShape: the variable parts of a key (transaction IDs, e-mails, line and unit
// numbers, times) are left out, the kinds of item kept.
func TestKeyShape(t *testing.T) {
	tests := []struct{ pk, sk, want string }{
		{"TX#AB12CD34EF56GH78", "ORDER", "TX ORDER"},
		{"TX#AB12CD34EF56GH78", "ORDER#BODY", "TX ORDER#BODY"},
		{"TX#AB12CD34EF56GH78", "PRODUCED#L01#0#postpay", "TX PRODUCED"},
		{"TX#AB12CD34EF56GH78", "ONCE#mail#delivered", "TX ONCE"},
		{"CUST#ada@example.com", "PRODUCT#BG5K-YTH8-OEUB-0K39", "CUST PRODUCT"},
		{"COUNTER#INVOICE#demo#2026", "COUNTER", "COUNTER COUNTER"},
		{"PRODUCT#BG5K-YTH8-OEUB-0K39", "EVENT#0001796304030123#billed", "PRODUCT EVENT"},
	}
	for _, tt := range tests {
		if got := KeyShape(tt.pk, tt.sk); got != tt.want {
			t.Errorf("KeyShape(%q, %q) = %q, want %q", tt.pk, tt.sk, got, tt.want)
		}
	}
}
