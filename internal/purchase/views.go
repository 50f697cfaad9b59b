package purchase

import (
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/pricing"
)

// LineView is a cart line as the client shows it; amounts in minor units.
type LineView struct {
	checkout.PricedLine
	Total int64 `json:"total"` // taxed, after discounts
	Seats int   `json:"seats,omitempty"`
}

// DiscountView is an applied discount.
type DiscountView struct {
	Name    string `json:"name"`
	Code    string `json:"code,omitempty"`
	Partner string `json:"partner,omitempty"`
	Amount  int64  `json:"amount"`
}

// CartView is the answer of every cart call.
type CartView struct {
	TransactionID string                         `json:"transactionId"`
	Currency      string                         `json:"currency"`
	Version       int64                          `json:"version"`
	Lines         []LineView                     `json:"lines"`
	Totals        checkout.Totals                `json:"totals"`
	Taxes         []checkout.TaxLine             `json:"taxes"`
	Discounts     []DiscountView                 `json:"discounts"`
	Mentions      []string                       `json:"mentions,omitempty"`
	Codes         []string                       `json:"codes"`
	Unlocked      []string                       `json:"unlocked,omitempty"`
	Partner       string                         `json:"partner,omitempty"`
	Requirements  map[string][]map[string]string `json:"requirements,omitempty"`
	Participants  []checkout.Participant         `json:"participants,omitempty"`
	Seats         []checkout.Assignment          `json:"seats,omitempty"`
	Customer      *checkout.Customer             `json:"customer,omitempty"`
	Steps         []checkout.StepState           `json:"steps"`
	Placed        bool                           `json:"placed"`
	ExpiresAt     time.Time                      `json:"expiresAt"`
}

func cartView(shop *checkout.Shop, cat *checkout.Catalog, c *checkout.Cart, q pricing.Quote) CartView {
	v := CartView{
		TransactionID: c.TxID, Currency: shop.Currency, Version: c.Version, Codes: c.Codes, Unlocked: c.Unlocked,
		Partner: c.Partner, Requirements: c.Required, Participants: c.Participants, Seats: c.Seats, Customer: c.Customer,
		Placed: c.Placed, ExpiresAt: c.ExpiresAt, Lines: []LineView{}, Discounts: []DiscountView{},
		Totals: checkout.TotalsOf(q), Taxes: checkout.TaxLinesOf(q), Mentions: q.Mentions,
		Steps: checkout.Steps(shop, cat, c),
	}
	if v.Codes == nil {
		v.Codes = []string{}
	}
	seats := checkout.SeatsNeeded(c, cat)
	for _, l := range q.Lines {
		v.Lines = append(v.Lines, LineView{PricedLine: checkout.PricedLineOf(l, cat), Total: int64(l.Taxed), Seats: seats[l.Code]})
	}
	for _, d := range q.Discounts {
		v.Discounts = append(v.Discounts, DiscountView{Name: d.Name, Code: d.Code, Partner: d.Partner, Amount: int64(d.Amount)})
	}
	return v
}
