package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/localcloud/cloudtest"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/production/locallms"
)

// TestCertificateForABuyerNotEnrolled: the Go certificate is released only to a learner
// enrolled in GO-101. A buyer who is not is told so when placing (422, the CERT-GO line
// and the reason), before paying anything, and nothing is stored: no order, the cart as
// it was, no customer account, no learning-platform account, no workflow; the trace
// says why for an operator. Once enrolled, the same cart places. Under IAM enforcement:
// the ORDER function reads the local LMS with the grants it has.
func TestCertificateForABuyerNotEnrolled(t *testing.T) {
	c := cloudtest.Start(t)
	b := buyerOn(t, c)
	email := "cert-" + strings.ToLower(b.TxID) + "@example.com"
	b.must(200, "PUT", "/carts/{txid}/lines/CERT-GO", `{"quantity":1}`)
	b.must(200, "PUT", "/carts/{txid}/customer", customerAs(email))
	cartBefore := b.must(200, "GET", "/carts/{txid}", "")
	stored := func() []map[string]types.AttributeValue { return storedFor(t, c, b.TxID, email) }
	before := stored()

	r := b.do("POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"check"}`)
	if r.status != 422 || r.errCode() != "incomplete" || !strings.Contains(r.fields(), `"field":"SHOP:lines.CERT-GO"`) ||
		!strings.Contains(r.fields(), "released only to a learner enrolled in that course, and "+email+" is not") {
		t.Fatalf("placement = %d %s, want 422 naming CERT-GO and why", r.status, r.raw)
	}

	if after := stored(); !reflect.DeepEqual(before, after) {
		t.Errorf("the refused placement changed stored data: %d items before, %d after", len(before), len(after))
	}
	cartAfter := b.must(200, "GET", "/carts/{txid}", "")
	if cartAfter.body["version"] != cartBefore.body["version"] || fmt.Sprint(lines(cartAfter)) != fmt.Sprint(lines(cartBefore)) {
		t.Errorf("cart changed: before %s\nafter %s", cartBefore.raw, cartAfter.raw)
	}
	if o := b.do("GET", "/orders/{txid}", ""); o.status != 404 {
		t.Errorf("order after the refusal = %d %s, want 404", o.status, o.raw)
	}
	if _, err := locallms.New(c.DynamoDB, c.Table).FindUser(context.Background(), email); !errors.Is(err, production.ErrNotFound) {
		t.Errorf("learning-platform account after the refusal: %v, want none", err)
	}
	for _, x := range c.Engine.Executions(c.StateMachineARN) {
		if x.Name == b.TxID {
			t.Errorf("a workflow was started: %+v", x)
		}
	}
	if status, text := admin(t, c, "GET", "/admin/orders/"+b.TxID+"/trace", "", "text/plain"); status != 200 ||
		!strings.Contains(text, "placement refused, cannot be delivered: CERT-GO: the certificate of GO-101 is released only to a learner enrolled in that course") {
		t.Errorf("trace = %d %s, want the refusal and its reason", status, text)
	}

	// Enrolled in the course, the buyer places the same cart.
	enrol(t, c, email, "GO-101")
	b.must(201, "POST", "/carts/{txid}/order", `{"acceptTerms":true,"paymode":"check"}`)
	b.waitStatus("PENDING")
}

// storedFor reads what a placement could write for a transaction and a buyer, trace
// lines left out (a refusal writes one on purpose): the transaction's items (cart,
// order), the buyer's customer account and learning-platform account.
func storedFor(t *testing.T, c *cloudtest.Cloud, txid, email string) []map[string]types.AttributeValue {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []map[string]types.AttributeValue
	for _, pk := range []string{"TX#" + txid, "CUST#" + email, "LMS#USER#" + email} {
		res, err := c.DynamoDB.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(c.Table), ConsistentRead: aws.Bool(true),
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			if sk, ok := it["sk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(sk.Value, "TRACE#") {
				continue
			}
			out = append(out, it)
		}
	}
	return out
}
