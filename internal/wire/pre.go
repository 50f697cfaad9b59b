package wire

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/stepfn"
	"github.com/lmsshop/checkout/internal/trace"
)

// steps builds the pre-placement service one function uses; source names it in traces.
func steps(d *Deps, source string) *httpapi.Steps {
	var offer func(*checkout.Shop, int64) []string
	if svc, err := workflowService(d, true, false); err == nil {
		offer = svc.Offered
	} else {
		d.Log.Error("payment modes misconfigured: offering the shop's modes unfiltered", "err", err)
	}
	return &httpapi.Steps{
		Offer:      offer,
		Store:      d.Store,
		Shops:      &httpapi.ShopCache{Loader: d.Store, ShopID: d.Cfg.ShopID, TTL: d.Cfg.ShopCacheTTL, Now: d.Now},
		Trace:      &trace.Tracer{Store: d.Store, Source: source, Now: d.Now, OnErr: func(err error) { d.Log.Error("trace line lost", "err", err) }},
		Workflow:   &stepfn.Workflow{API: d.SFN, StateMachineARN: d.Cfg.StateMachineARN},
		Check:      requiredDataCheck(d),
		Log:        d.Log,
		Now:        d.Now,
		CartTTL:    d.Cfg.CartTTL,
		Storefront: d.Cfg.StorefrontURL,
	}
}

// httpHandler adapts a router to Lambda.
func httpHandler(rt *httpapi.Router) lambda.Handler {
	return lambda.NewHandler(func(ctx context.Context, r httpapi.Request) (httpapi.Response, error) {
		return rt.Serve(ctx, r)
	})
}

func router(d *Deps, register func(*httpapi.Router)) lambda.Handler {
	rt := httpapi.NewRouter(d.Log)
	register(rt)
	return httpHandler(rt)
}

func shopHandler(d *Deps) (lambda.Handler, error) {
	return router(d, steps(d, "Shop").RegisterShop), nil
}

func purchaseReqsHandler(d *Deps) (lambda.Handler, error) {
	return router(d, steps(d, "Purchase Requirements").RegisterRequirements), nil
}

func usersHandler(d *Deps) (lambda.Handler, error) {
	return router(d, steps(d, "Users").RegisterUsers), nil
}

func customerHandler(d *Deps) (lambda.Handler, error) {
	return router(d, steps(d, "Customer").RegisterCustomer), nil
}

func orderHandler(d *Deps) (lambda.Handler, error) {
	return router(d, steps(d, "Order").RegisterOrder), nil
}
