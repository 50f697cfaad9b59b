package wire

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/purchase"
	"github.com/lmsshop/checkout/internal/trace"
	"github.com/lmsshop/checkout/internal/vies"
)

// Shops is the shop cache of d's function: the shop and its catalogs, read again once
// SHOP_CACHE_TTL has passed. The pre- and post-placement services each hold one.
func Shops(d *Deps) *checkout.ShopCache {
	return &checkout.ShopCache{Loader: d.Store, ShopID: d.Cfg.ShopID, TTL: d.Cfg.ShopCacheTTL, Now: d.Now}
}

// Purchase builds the pre-placement service one function uses; source names it in traces.
// Each builder adds only what its step needs (handlers' checks, payment modes, the
// workflow), so each binary links only that.
func Purchase(d *Deps, source string) *purchase.Purchase {
	return &purchase.Purchase{
		Store:      d.Store,
		Shops:      Shops(d),
		Trace:      &trace.Tracer{Store: d.Store, Source: source, Now: d.Now, Log: d.Log},
		Log:        d.Log,
		Now:        d.Now,
		CartTTL:    d.Cfg.CartTTL,
		Storefront: d.Cfg.StorefrontURL,
	}
}

// Router is the Lambda handler of a router that register fills.
func Router(d *Deps, register func(*httpapi.Router)) lambda.Handler {
	rt := httpapi.NewRouter(d.Log)
	register(rt)
	return lambda.NewHandler(func(ctx context.Context, r httpapi.Request) (httpapi.Response, error) {
		return rt.Serve(ctx, r)
	})
}

// Shop builds the function of the SHOP step: catalog, cart lines, codes, reset, prefill.
// Its service is purchase.Purchase; RegisterShop routes each request to its method
// (catalog, createCart, getCart, resetCart, setLine, removeLine, addCode, removeCode,
// unlock, prefill in internal/purchase/purchase.go). Rules: docs/spec.md#shop.
func Shop(d *Deps) (lambda.Handler, error) {
	return Router(d, Purchase(d, trace.SourceShop).RegisterShop), nil
}

// Users builds the function of the USERS step (seats): purchase.Purchase' RegisterUsers,
// getCart and putSeats (internal/purchase/purchase.go). Rules: docs/spec.md#users.
func Users(d *Deps) (lambda.Handler, error) {
	return Router(d, Purchase(d, trace.SourceUsers).RegisterUsers), nil
}

// Customer builds the function of the CUSTOMER step: purchase.Purchase' RegisterCustomer,
// getCart and putCustomer (internal/purchase/purchase.go), with the VIES client for the
// reverse charge. Rules: docs/spec.md#customer.
func Customer(d *Deps) (lambda.Handler, error) {
	s := Purchase(d, trace.SourceCustomer)
	s.VIES = &vies.Client{URL: d.Cfg.VIESURL}
	return Router(d, s.RegisterCustomer), nil
}
