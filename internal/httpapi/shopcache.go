package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
)

// ShopLoader reads a shop and its catalog.
type ShopLoader interface {
	LoadShop(ctx context.Context, shopID string) (*checkout.Shop, *checkout.Catalog, error)
}

// ShopCache keeps the shop and catalog for a short while: they change rarely and every
// step needs them, so a warm Lambda spends no round trip on them.
type ShopCache struct {
	Loader ShopLoader
	ShopID string
	TTL    time.Duration
	Now    func() time.Time

	mu     sync.Mutex
	shop   *checkout.Shop
	cat    *checkout.Catalog
	loaded time.Time
}

// Get returns the shop and catalog, reloading them past the TTL.
func (c *ShopCache) Get(ctx context.Context) (*checkout.Shop, *checkout.Catalog, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.Now()
	if c.shop != nil && now.Sub(c.loaded) < c.TTL {
		return c.shop, c.cat, nil
	}
	shop, cat, err := c.Loader.LoadShop(ctx, c.ShopID)
	if err != nil {
		return nil, nil, err
	}
	// The shared shop is read-only: its pricing engine is built once per load, not
	// once per quote.
	shop.PreparePricing()
	c.shop, c.cat, c.loaded = shop, cat, now
	return shop, cat, nil
}

// Invalidate forgets the cached shop, so the next Get reads the table: an operator's
// own reads and writes must not see the cache.
func (c *ShopCache) Invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shop, c.cat = nil, nil
}
