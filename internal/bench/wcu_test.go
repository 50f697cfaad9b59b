package bench

import (
	"fmt"
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
