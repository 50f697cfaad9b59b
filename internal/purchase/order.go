package purchase

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/pricing"
	"github.com/lmsshop/checkout/internal/production"
)

// Review is GET /carts/{txid}/order: the order as it would be placed.
type Review struct {
	CartView
	Terms struct {
		Shop  string            `json:"shop"`
		Items map[string]string `json:"items,omitempty"`
	} `json:"terms"`
	Paymodes []string `json:"paymodes"`
}

// quoteFor prices a cart with the context it carries (buyer, partner, their figures as
// snapshotted), so the cart view, the review and placement agree without other reads.
func (s *Purchase) quoteFor(cr *cartRequest, c *checkout.Cart) (pricing.Quote, error) {
	return checkout.Quote(cr.shop, cr.cat, c, checkout.PricingContext(c), s.now())
}

func (s *Purchase) reviewOf(cr *cartRequest, c *checkout.Cart) (Review, pricing.Quote, error) {
	q, err := s.quoteFor(cr, c)
	if err != nil {
		return Review{}, q, err
	}
	v := Review{CartView: cartView(cr.shop, cr.cat, c, q)}
	v.Terms.Shop = cr.shop.Terms
	for _, l := range c.Lines {
		if it, ok := cr.cat.Item(l.Code); ok && it.Terms != "" {
			if v.Terms.Items == nil {
				v.Terms.Items = map[string]string{}
			}
			v.Terms.Items[l.Code] = it.Terms
		}
	}
	offer := s.Offer
	if offer == nil {
		offer = checkout.Offered
	}
	v.Paymodes = offer(cr.shop, v.Totals.Final)
	return v, q, nil
}

func (s *Purchase) review(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	cr, c, err := s.openCart(ctx, r)
	if err != nil {
		return httpapi.Response{}, err
	}
	v, _, err := s.reviewOf(cr, c)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, v), nil
}

// PlaceRequest is POST /carts/{txid}/order.
type PlaceRequest struct {
	AcceptTerms bool   `json:"acceptTerms"`
	Paymode     string `json:"paymode"`
}

// Placed is the answer of a placement.
type Placed struct {
	Order *checkout.Order `json:"order"`
}

// place answers POST /carts/{txid}/order. It reads the cart and any order in one
// Query, recomputes every amount from the catalog, writes the order and marks the cart
// placed in one transaction, and starts the workflow named by the transaction ID.
// Placing again returns the same order (200) and re-starts the workflow harmlessly,
// which also repairs a placement whose start had failed.
func (s *Purchase) place(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	const op = "order.place"
	cr, err := s.open(ctx, r)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in PlaceRequest
	if err := httpapi.Decode(r, &in); err != nil {
		return httpapi.Response{}, err
	}
	apiURL, err := httpapi.BaseURL(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	c, existing, err := s.Store.CartAndOrder(ctx, cr.txid, cr.tokenHash)
	if err != nil {
		return httpapi.Response{}, err
	}
	if existing != nil {
		if existing.APIURL == "" {
			existing.APIURL = apiURL // an order placed before the URL was stored
		}
		raw, err := checkout.OrderJSON(existing)
		if err != nil {
			return httpapi.Response{}, checkout.Wrap(op, err)
		}
		// A retry with another mode changed the order's input since: the workflow exists
		// then, which is all a replay has to make sure of.
		if err := s.start(ctx, cr.shop, existing, raw); err != nil && checkout.KindOf(err) != checkout.ECONFLICT {
			return httpapi.Response{}, err
		}
		return placed(http.StatusOK, raw), nil
	}
	if c.Expired(s.now()) {
		return httpapi.Response{}, checkout.Errorf(op, checkout.EGONE, "cart %s has expired", c.TxID)
	}
	v, q, err := s.reviewOf(cr, c)
	if err != nil {
		return httpapi.Response{}, err
	}
	var f checkout.Fields
	missing := append(checkout.Incomplete(v.Steps), checkout.HandlerErrors(ctx, cr.cat, c.Required, s.Check)...)
	rule, err := checkout.AccountRuleOf(cr.cat, c)
	if err != nil {
		return httpapi.Response{}, err
	}
	if !in.AcceptTerms {
		f.Add("acceptTerms", "the terms of sale must be accepted")
	}
	if !slices.Contains(v.Paymodes, in.Paymode) {
		f.Add("paymode", "must be one of %v", v.Paymodes)
	}
	if len(missing) > 0 || len(f) > 0 {
		s.Trace.Printf(ctx, cr.txid, "ORDER : placement refused (%d problem(s))", len(missing)+len(f))
		return httpapi.Response{}, &checkout.Error{Op: op, Kind: checkout.EINCOMPLETE, Message: "the order cannot be placed yet", Fields: append(missing, f...)}
	}
	now := s.now()
	o := &checkout.Order{
		TxID: c.TxID, ShopID: cr.shop.ID, Status: checkout.Placed, Paymode: in.Paymode, Currency: cr.shop.Currency,
		Codes: c.Codes, Customer: *c.Customer, Participants: c.Participants, Seats: c.Seats, Required: c.Required,
		TokenHash: cr.tokenHash, PlacedAt: now, UpdatedAt: now, APIURL: apiURL,
		Acceptance: checkout.Acceptance{ShopTerms: true, ShopText: v.Terms.Shop, ItemTerms: v.Terms.Items, AcceptedAt: now},
	}
	o.ApplyQuote(q, cr.cat)
	if err := s.deliverable(ctx, o); err != nil {
		return httpapi.Response{}, err
	}
	note := s.Trace.Line(o.TxID, "ORDER : placed, %d line(s), final %d %s, paymode %s", len(o.Lines), o.Totals.Final, o.Currency, o.Paymode)
	if err := s.Store.Place(ctx, o, c.Version, rule, note, c.Trace...); err != nil {
		return httpapi.Response{}, err
	}
	raw, err := checkout.OrderJSON(o)
	if err != nil {
		return httpapi.Response{}, checkout.Wrap(op, err)
	}
	if err := s.start(ctx, cr.shop, o, raw); err != nil {
		return httpapi.Response{}, err
	}
	return placed(http.StatusCreated, raw), nil
}

// deliverable refuses (422, the lines in fields: SHOP:lines.<code>) an order that production would refuse
// for good once paid, so the buyer is told why before paying instead of after. The
// refusal is traced; nothing else is written. An LMS that cannot answer refuses the
// placement as unavailable (503): the buyer may try again.
func (s *Purchase) deliverable(ctx context.Context, o *checkout.Order) error {
	const op = "order.place"
	if s.Unmet == nil {
		return nil
	}
	var plan []production.Planned
	for _, l := range o.Lines {
		for _, d := range l.Deliveries() {
			j := production.Job{Handler: d.Handler, Params: d.Params, Customer: production.Customer{Email: o.Customer.Email}}
			for _, a := range o.Seats {
				if a.Code == d.Code {
					j.Seats = append(j.Seats, production.Seat{Participant: production.Participant{Email: a.Email}, Role: a.Role})
				}
			}
			plan = append(plan, production.Planned{Line: l.Code, Job: j})
		}
	}
	unmet, err := s.Unmet(ctx, plan)
	if err != nil {
		s.Trace.Printf(ctx, o.TxID, "ORDER : placement refused: the learning platform could not be asked (%v)", err)
		return checkout.Errorf(op, checkout.EUNAVAILABLE, "the learning platform cannot be reached to check the order; try again in a moment")
	}
	if len(unmet) == 0 {
		return nil
	}
	var f checkout.Fields
	var why []string
	for _, l := range o.Lines {
		if w := unmet[l.Code]; w != "" {
			// Addressed as the SHOP step's line, as a line no longer on sale is, so the
			// storefront links the buyer back to the cart.
			f.Add(checkout.StepShop+":lines."+l.Code, "%s", w)
			why = append(why, l.Code+": "+w)
		}
	}
	s.Trace.Printf(ctx, o.TxID, "ORDER : placement refused, cannot be delivered: %s", strings.Join(why, "; "))
	return &checkout.Error{Op: op, Kind: checkout.EINCOMPLETE, Message: "the order cannot be delivered as it is", Fields: f}
}

// placed is the answer of a placement, Placed, written around the order's JSON already
// encoded for the execution input: the same bytes httpapi.JSON(status, Placed{Order: o}) writes.
func placed(status int, order json.RawMessage) httpapi.Response {
	var body strings.Builder // written in place: one allocation, no copy
	body.Grow(len(`{"order":}`) + len(order))
	body.WriteString(`{"order":`)
	body.Write(order)
	body.WriteByte('}')
	return httpapi.Response{StatusCode: status, Headers: httpapi.JSONHeaders(), Body: body.String()}
}

// start starts o's workflow, with raw (o's JSON) in its input.
func (s *Purchase) start(ctx context.Context, shop *checkout.Shop, o *checkout.Order, raw json.RawMessage) error {
	if _, err := s.Workflow.Start(ctx, o.TxID, checkout.ExecutionInputWith(shop, o, raw)); err != nil {
		s.Trace.Printf(ctx, o.TxID, "ORDER : workflow start failed: %v", err)
		return err
	}
	return nil
}
