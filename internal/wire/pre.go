package wire

import (
	"context"
	"errors"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/stepfn"
	"github.com/lmsshop/checkout/internal/trace"
	"github.com/lmsshop/checkout/internal/vies"
	"github.com/lmsshop/checkout/internal/workflow"
)

// steps builds the pre-placement service one function uses; source names it in traces.
// Each builder adds only what its step needs (handlers' checks, payment modes, the
// workflow), so each binary links only that.
func steps(d *Deps, source string) *httpapi.Steps {
	return &httpapi.Steps{
		Store:      d.Store,
		Shops:      &httpapi.ShopCache{Loader: d.Store, ShopID: d.Cfg.ShopID, TTL: d.Cfg.ShopCacheTTL, Now: d.Now},
		Trace:      &trace.Tracer{Store: d.Store, Source: source, Now: d.Now, OnErr: func(err error) { d.Log.Error("trace line lost", "err", err) }},
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

// Shop builds the function of the SHOP step: catalog, cart lines, codes, reset, prefill.
func Shop(d *Deps) (lambda.Handler, error) {
	return router(d, steps(d, "Shop").RegisterShop), nil
}

// PurchaseReqs builds the function of the PURCHASEREQUIS step.
func PurchaseReqs(d *Deps) (lambda.Handler, error) {
	s := steps(d, "Purchase Requirements")
	check, err := requiredDataCheck(d)
	if err != nil {
		return nil, err
	}
	s.Check = check
	return router(d, s.RegisterRequirements), nil
}

// Users builds the function of the USERS step (seats).
func Users(d *Deps) (lambda.Handler, error) {
	return router(d, steps(d, "Users").RegisterUsers), nil
}

// Customer builds the function of the CUSTOMER step.
func Customer(d *Deps) (lambda.Handler, error) {
	s := steps(d, "Customer")
	s.VIES = &vies.Client{URL: d.Cfg.VIESURL}
	return router(d, s.RegisterCustomer), nil
}

// Order builds the function of the ORDER step: review and placement.
func Order(d *Deps) (lambda.Handler, error) {
	if d.Cfg.StateMachineARN == "" {
		return nil, errors.New("wire: the ORDER function starts the workflow: STATE_MACHINE_ARN must name the state machine")
	}
	s := steps(d, "Order")
	check, err := requiredDataCheck(d)
	if err != nil {
		return nil, err
	}
	s.Check = check
	s.Workflow = &stepfn.Workflow{API: d.SFN(), StateMachineARN: d.Cfg.StateMachineARN}
	// Only the payment modes: placement offers them but sends no e-mail, so the
	// function neither builds nor links the SES client.
	svc := &workflow.Service{Now: d.Now, Log: d.Log}
	if err := addPaymentModes(d, svc); err != nil {
		return nil, err // a half-configured provider fails at start-up, not in front of a buyer
	}
	s.Offer = svc.Offered
	return router(d, s.RegisterOrder), nil
}
