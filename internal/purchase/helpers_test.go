package purchase_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/localcloud/dynamotest"
	"github.com/lmsshop/checkout/internal/purchase"
	"github.com/lmsshop/checkout/internal/seed"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
)

// demoPurchase is the pre-placement service over a fresh table holding the demo shop,
// starting workflows with wf; opts go to the table's client (a call counter).
func demoPurchase(t *testing.T, wf purchase.Starter, opts ...func(*dynamodb.Options)) (*purchase.Purchase, *store.Store, *checkout.Shop) {
	t.Helper()
	db, table := dynamotest.NewTable(t, opts...)
	st := store.New(db, table)
	shop, cats, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveShop(context.Background(), shop, cats); err != nil {
		t.Fatal(err)
	}
	svc := &purchase.Purchase{
		Store: st, Shops: &checkout.ShopCache{Loader: st, ShopID: shop.ID, TTL: time.Minute, Now: time.Now},
		Trace: &trace.Tracer{Store: st, Source: "test"}, Workflow: wf, Now: time.Now, CartTTL: time.Hour, Storefront: "http://web",
	}
	return svc, st, shop
}

// serveFunc sends a request through rt as API Gateway would: JSON body, the route's
// path parameters, the cart token as a Bearer when there is one.
type serveFunc func(routeKey, txid, code, token, body string) httpapi.Response

func server(t *testing.T, rt *httpapi.Router) serveFunc {
	return func(routeKey, txid, code, token, body string) httpapi.Response {
		t.Helper()
		r := httpapi.Request{RouteKey: routeKey, Body: body, Headers: map[string]string{"content-type": "application/json"},
			PathParameters: map[string]string{"txid": txid, "code": code},
			RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: "abc123.execute-api.eu-west-3.amazonaws.com"}}
		if token != "" {
			r.Headers["authorization"] = "Bearer " + token
		}
		resp, err := rt.Serve(context.Background(), r)
		if err != nil {
			t.Fatalf("%s: %v", routeKey, err)
		}
		return resp
	}
}
