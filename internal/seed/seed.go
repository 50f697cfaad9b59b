// Package seed holds the demo shop that local runs and tests start with: one item of
// every kind the checkout sells.
package seed

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/lmsshop/checkout/internal/checkout"
)

//go:embed demo.json
var demo []byte

// Demo returns a fresh copy of the demo shop and its catalogs.
func Demo() (*checkout.Shop, []*checkout.Catalog, error) {
	var d struct {
		Shop     checkout.Shop       `json:"shop"`
		Catalogs []*checkout.Catalog `json:"catalogs"`
	}
	dec := json.NewDecoder(bytes.NewReader(demo))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, nil, fmt.Errorf("seed: demo.json: %w", err)
	}
	// Item passwords are hidden from JSON output; the seed sets them explicitly.
	for _, c := range d.Catalogs {
		for i := range c.Items {
			if c.Items[i].Code == "PM-301-VIP" {
				c.Items[i].Password = "vip-2026"
			}
		}
	}
	return &d.Shop, d.Catalogs, nil
}
