package purchase_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/purchase"
)

// calls counts DynamoDB requests by operation, through the SDK's own middleware stack.
type calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *calls) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.n[awsmiddleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	})
}

func (c *calls) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.n
	c.n = map[string]int{}
	return out
}

type starter struct{ n int }

func (s *starter) Start(context.Context, string, any) (string, error) { s.n++; return "arn", nil }

func TestRoundTripsPerStep(t *testing.T) {
	ctx := context.Background()
	counted := &calls{n: map[string]int{}}
	wf := &starter{}
	svc, _, _ := demoPurchase(t, wf, counted.option)
	rt := httpapi.NewRouter(nil)
	for _, reg := range []func(*httpapi.Router){svc.RegisterShop, svc.RegisterRequirements, svc.RegisterUsers, svc.RegisterCustomer, svc.RegisterOrder} {
		reg(rt)
	}
	serve := func(routeKey, txid, code, token, body string) httpapi.Response {
		t.Helper()
		r := httpapi.Request{RouteKey: routeKey, Body: body, Headers: map[string]string{"content-type": "application/json", "x-forwarded-proto": "https", "x-forwarded-port": "443"},
			PathParameters: map[string]string{"txid": txid, "code": code},
			RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: "abc123.execute-api.eu-west-3.amazonaws.com"}}
		if token != "" {
			r.Headers["authorization"] = "Bearer " + token
		}
		resp, err := rt.Serve(ctx, r)
		if err != nil || resp.StatusCode >= 300 {
			t.Fatalf("%s = %d %s %v", routeKey, resp.StatusCode, resp.Body, err)
		}
		return resp
	}
	var created purchase.Created
	if err := json.Unmarshal([]byte(serve("POST /carts", "", "", "", "").Body), &created); err != nil {
		t.Fatal(err)
	}
	counted.take() // the shop is now cached, as in a warm Lambda
	tx, tok := created.TransactionID, created.CartToken

	mutations := []struct {
		route, code, body string
		getItem           int // reads before the command: the customer's paid orders only
	}{
		{"PUT /carts/{txid}/lines/{code}", "GO-101", `{"quantity":1}`, 0},
		{"PUT /carts/{txid}/lines/{code}", "CREDITS-100", `{"quantity":2}`, 0},
		{"DELETE /carts/{txid}/lines/{code}", "CREDITS-100", ``, 0},
		{"POST /carts/{txid}/codes", "", `{"code":"WELCOME10"}`, 0},
		{"PUT /carts/{txid}/customer", "", `{"email":"a@example.com","lastName":"A","firstName":"B","address":"1 rue","zip":"75001","city":"Paris","country":"FR"}`, 1},
	}
	for _, m := range mutations {
		serve(m.route, tx, m.code, tok, m.body)
		got := counted.take()
		// One UpdateItem on the cart, which carries the trace line too. The CUSTOMER step
		// first reads the buyer's paid orders (one GetItem).
		want := 1
		if m.getItem > 0 {
			want++
		}
		if got["UpdateItem"] != 1 || got["GetItem"] != m.getItem || len(got) != want {
			t.Errorf("%s %s: DynamoDB calls = %v, want %d GetItem and one UpdateItem carrying the trace line", m.route, m.code, got, m.getItem)
		}
	}
	// A cart created for a partner reads the partner's figures once (one Query) beside
	// the cart's PutItem, which carries the trace line.
	serve("POST /carts", "", "", "", `{"partner":"acme"}`)
	if got := counted.take(); got["Query"] != 1 || got["PutItem"] != 1 || len(got) != 2 {
		t.Errorf("POST /carts with a partner: DynamoDB calls = %v, want 1 Query and 1 PutItem", got)
	}

	serve("POST /carts/{txid}/order", tx, "", tok, `{"acceptTerms":true,"paymode":"check"}`)
	got := counted.take()
	// One Query (cart + order), one TransactWriteItems (with the trace line), one StartExecution.
	if got["Query"] != 1 || got["TransactWriteItems"] != 1 || len(got) != 2 || wf.n != 1 {
		t.Errorf("placement: DynamoDB calls = %v, StartExecution = %d; want 1 Query, 1 TransactWriteItems, 1 start", got, wf.n)
	}
}
