package bench

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/localcloud/dynamotest"
)

// wireLog keeps the last request and response bodies a client exchanged, as the bench's
// proxy sees them.
type wireLog struct {
	req, resp []byte // the test's calls are one at a time
}

func (w *wireLog) Do(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		return nil, err
	}
	out, _ := io.ReadAll(res.Body)
	res.Body = io.NopCloser(bytes.NewReader(out))
	w.req, w.resp = body, out
	return res, nil
}

// TestItemModelAgreesWithDynamoDBLocal: on single writes to the table made from the
// template (gsi1 INCLUDE, gsi2 KEYS_ONLY), the model's units per index are DynamoDB
// Local's (ReturnConsumedCapacity INDEXES), for the writes an order's life makes: its
// head and body put at placement, a status move, updates that change a projected
// attribute or none, and a delete. Per-index model figures are the difference between
// a model that knows the index and one that knows none, fed the same traffic.
func TestItemModelAgreesWithDynamoDBLocal(t *testing.T) {
	w := &wireLog{}
	db, table := dynamotest.NewTable(t, func(o *dynamodb.Options) { o.HTTPClient = w })
	ctx := context.Background()
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	full, err := tableModel(ctx, db, table)
	if err != nil {
		t.Fatal(err)
	}
	models := map[string]*ItemModel{"": NewItemModel("pk", "sk", nil)}
	for _, ix := range full.indexes {
		models[ix.Name] = NewItemModel("pk", "sk", []ModelIndex{ix})
	}
	if len(desc.Table.GlobalSecondaryIndexes) != 2 {
		t.Fatalf("table has %d indexes, want gsi1 and gsi2", len(desc.Table.GlobalSecondaryIndexes))
	}
	sv := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	k := func(sk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": sv("TX#T1"), "sk": sv(sk)}
	}
	head := map[string]types.AttributeValue{
		"pk": sv("TX#T1"), "sk": sv("ORDER"), "gsi1pk": sv("ORDERS#PLACED"), "gsi1sk": sv("2026-12-03T10:00:00Z"),
		"gsi2pk": sv("CUST#a@example.com"), "gsi2sk": sv("ORDER#2026-12-03T10:00:00Z"),
		"status": sv("PLACED"), "updatedAt": sv("2026-12-03T10:00:00Z"), "tokenHash": sv(strings.Repeat("h", 64)),
		"customer": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"email": sv("a@example.com"), "city": sv(strings.Repeat("c", 100))}},
	}
	body := map[string]types.AttributeValue{"pk": sv("TX#T1"), "sk": sv("ORDER#BODY"), "lines": sv(strings.Repeat("l", 1500))}
	update := func(expr string, values map[string]types.AttributeValue) func() (*types.ConsumedCapacity, error) {
		return func() (*types.ConsumedCapacity, error) {
			in := &dynamodb.UpdateItemInput{TableName: &table, Key: k("ORDER"), UpdateExpression: &expr,
				ExpressionAttributeValues: values, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes}
			if strings.Contains(expr, "#st") {
				in.ExpressionAttributeNames = map[string]string{"#st": "status"}
			}
			out, err := db.UpdateItem(ctx, in)
			if err != nil {
				return nil, err
			}
			return out.ConsumedCapacity, nil
		}
	}
	put := func(item map[string]types.AttributeValue) func() (*types.ConsumedCapacity, error) {
		return func() (*types.ConsumedCapacity, error) {
			out, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
			if err != nil {
				return nil, err
			}
			return out.ConsumedCapacity, nil
		}
	}
	tests := []struct {
		name string
		op   string
		call func() (*types.ConsumedCapacity, error)
		// want is the units by AWS's rules: table, gsi1, gsi2.
		want [3]float64
	}{
		{"the head put at placement", "PutItem", put(head), [3]float64{1, 1, 1}},
		{"the body put at placement (no index keys)", "PutItem", put(body), [3]float64{2, 0, 0}},
		{"an update of a projected attribute", "UpdateItem", update("SET updatedAt = :u, taskToken = :t",
			map[string]types.AttributeValue{":u": sv("2026-12-03T10:01:00Z"), ":t": sv("token")}), [3]float64{1, 1, 0}},
		{"an update of an attribute no index projects", "UpdateItem", update("SET taskState = :s",
			map[string]types.AttributeValue{":s": sv("payment")}), [3]float64{1, 0, 0}},
		{"a status move", "UpdateItem", update("SET #st = :s, gsi1pk = :g",
			map[string]types.AttributeValue{":s": sv("PENDING"), ":g": sv("ORDERS#PENDING")}), [3]float64{1, 2, 0}},
		{"the head deleted", "DeleteItem", func() (*types.ConsumedCapacity, error) {
			out, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &table, Key: k("ORDER"), ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
			if err != nil {
				return nil, err
			}
			return out.ConsumedCapacity, nil
		}, [3]float64{1, 1, 1}},
	}
	for _, tt := range tests {
		cc, err := tt.call()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		req, resp := w.req, w.resp
		base := models[""].WriteUnits(tt.op, req, resp)
		model := [3]float64{base, models["gsi1"].WriteUnits(tt.op, req, resp) - base, models["gsi2"].WriteUnits(tt.op, req, resp) - base}
		local := [3]float64{consumed(cc.Table.CapacityUnits)}
		for name, c := range cc.GlobalSecondaryIndexes {
			switch name {
			case "gsi1":
				local[1] = consumed(c.CapacityUnits)
			case "gsi2":
				local[2] = consumed(c.CapacityUnits)
			}
		}
		if model != tt.want {
			t.Errorf("%s: model (table, gsi1, gsi2) = %v, want %v", tt.name, model, tt.want)
		}
		if local != model {
			t.Errorf("%s: DynamoDB Local (table, gsi1, gsi2) = %v, model %v", tt.name, local, model)
		}
	}
}

// consumed reads a consumed capacity's units (nil: none).
func consumed(u *float64) float64 {
	if u == nil {
		return 0
	}
	return *u
}
