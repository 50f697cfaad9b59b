package checkout

import (
	"context"
	"sync"
	"time"
)

// ShopLoader reads a shop and its catalog.
type ShopLoader interface {
	LoadShop(ctx context.Context, shopID string) (*Shop, *Catalog, error)
}

// ShopCache keeps the shop and catalog for a short while: they change rarely and every
// step needs them, so a warm Lambda spends no round trip on them. It is not request
// plumbing but a read of the domain shared by the pre-placement service and the
// workflow, so it lives here with its loader interface (internal/store implements it).
type ShopCache struct {
	Loader ShopLoader
	ShopID string
	TTL    time.Duration
	Now    func() time.Time

	mu     sync.Mutex
	shop   *Shop
	cat    *Catalog
	loaded time.Time
}

// Get returns the shop and catalog, reloading them past the TTL.
func (c *ShopCache) Get(ctx context.Context) (*Shop, *Catalog, error) {
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
