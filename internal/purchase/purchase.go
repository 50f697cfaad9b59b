// Package purchase is the pre-placement service, the steps SHOP to ORDER: catalog and
// cart, requirements, seats, customer, review and placement. It answers through the HTTP
// edge (internal/httpapi) and starts the workflow through the Starter it is given,
// importing nothing of internal/workflow.
package purchase

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/pricing"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
	"github.com/lmsshop/checkout/internal/vies"
)

// CartStore is what the pre-placement steps need of the table: the cart's commands,
// which write the step's trace line in the cart's own write, and reads; Place moves the
// cart's lines onto the order.
type CartStore interface {
	checkout.CartCommands
	GetCart(ctx context.Context, txid, tokenHash string) (*checkout.Cart, error)
	CartAndOrder(ctx context.Context, txid, tokenHash string) (*checkout.Cart, *checkout.Order, error)
	Place(ctx context.Context, o *checkout.Order, cartVersion int64, rule checkout.AccountRule, note trace.Line, cartTrace ...trace.Line) error
	// PaidOrders and PartnerStats feed the discount rules; they are read once, into
	// the cart (see checkout.Cart.PaidOrders).
	PaidOrders(ctx context.Context, email string) (int, error)
	PartnerStats(ctx context.Context, partner string) (checkout.PartnerStats, error)
}

var _ CartStore = (*store.Store)(nil)

// Starter starts an order's workflow (internal/stepfn).
type Starter interface {
	Start(ctx context.Context, txid string, input any) (string, error)
}

// Purchase is the pre-placement service: it serves a purchase until it is placed,
// through the steps SHOP, PURCHASEREQUIS, USERS, CUSTOMER and ORDER. Each function of
// template.yaml registers only its own routes.
type Purchase struct {
	Store    CartStore
	Shops    *checkout.ShopCache
	Trace    *trace.Tracer
	Workflow Starter
	Check    checkout.Checker
	// Unmet says, before payment, which deliveries production would refuse for good
	// once the order is paid (production.Unmet on the configured LMS: a certificate for
	// a learner not enrolled in its course); nil checks nothing.
	Unmet func(ctx context.Context, plan []production.Planned) (map[string]string, error)
	// Offer lists the payment modes offered for a total; nil means Offered, i.e. the
	// shop's modes under the rules of docs/spec.md#payment-modes. Wiring narrows it
	// to the modes this deployment can run, so a buyer is never offered a provider
	// that is not configured.
	Offer      func(shop *checkout.Shop, final int64) []string
	Log        *slog.Logger
	Now        func() time.Time
	CartTTL    time.Duration
	Storefront string
	// VIES confirms intra-EU VAT numbers at the CUSTOMER step; nil means they cannot
	// be confirmed here, and VAT is charged.
	VIES VATChecker
}

// VATChecker asks VIES about a VAT number (internal/vies).
type VATChecker interface {
	Check(ctx context.Context, prefix, number string) (vies.Result, error)
}

func (s *Purchase) now() time.Time { return s.Now().UTC() }

// cartRequest is what every cart route starts with: the transaction ID from the path,
// the holder's token, the shop.
type cartRequest struct {
	txid, tokenHash string
	shop            *checkout.Shop
	cat             *checkout.Catalog
}

func (s *Purchase) open(ctx context.Context, r *httpapi.Request) (*cartRequest, error) {
	txid := r.PathParameters["txid"]
	if !trace.ValidTxID(txid) {
		return nil, checkout.Errorf("cart.open", checkout.ENOTFOUND, "no cart %q", txid)
	}
	token, err := httpapi.Bearer(r)
	if err != nil {
		return nil, err
	}
	shop, cat, err := s.Shops.Get(ctx)
	if err != nil {
		return nil, err
	}
	return &cartRequest{txid: txid, tokenHash: checkout.HashToken(token), shop: shop, cat: cat}, nil
}

func (s *Purchase) view(cr *cartRequest, c *checkout.Cart, status int) (httpapi.Response, error) {
	q, err := s.quoteFor(cr, c)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(status, cartView(cr.shop, cr.cat, c, q)), nil
}

// write is what a cart command of this request carries: the cart, its holder's token
// hash, the cart's TTL and the step's trace line, which the command stores in its own
// write (see checkout.CartWrite).
func (s *Purchase) write(cr *cartRequest, format string, args ...any) checkout.CartWrite {
	return checkout.CartWrite{TxID: cr.txid, TokenHash: cr.tokenHash, TTL: s.CartTTL, Note: s.Trace.Line(cr.txid, format, args...)}
}

// changed answers a cart command: the cart as it now is, or the refusal. A refusal is
// traced (as a write of its own, off the happy path) only for a caller who holds the
// cart: anyone else writes nothing.
func (s *Purchase) changed(ctx context.Context, cr *cartRequest, c *checkout.Cart, err error) (httpapi.Response, error) {
	if err != nil {
		if !checkout.NotHolder(err) {
			s.Trace.Printf(ctx, cr.txid, "refused: %v", err)
		}
		return httpapi.Response{}, err
	}
	return s.view(cr, c, http.StatusOK)
}

// checkVAT asks VIES about a VAT number already valid in shape, check digits and
// country. Unknown to VIES: refused (400), nothing stored. VIES unable to answer, or
// not reachable from here: accepted, VAT charged, and the buyer told why.
func (s *Purchase) checkVAT(ctx context.Context, number string) (*checkout.VATCheck, error) {
	n := pricing.NormalizeVATNumber(number)
	now := s.now()
	if s.VIES == nil {
		return &checkout.VATCheck{Status: checkout.VATUnavailable, CheckedAt: now,
			Message: "VAT numbers cannot be verified with VIES here: VAT is charged"}, nil
	}
	r, err := s.VIES.Check(ctx, n[:2], n[2:])
	if errors.Is(err, vies.ErrUnavailable) {
		if s.Log != nil {
			s.Log.Warn("VIES unavailable", "prefix", n[:2], "err", err)
		}
		return &checkout.VATCheck{Status: checkout.VATUnavailable, CheckedAt: now,
			Message: "VIES, the EU's VAT number register, could not confirm this number just now: VAT is charged. Save your details again later to retry."}, nil
	}
	if err != nil {
		return nil, checkout.Wrap("customer.vies", err)
	}
	if !r.Valid {
		return nil, checkout.Invalid("customer.validate", "VAT number not registered", checkout.FieldError{Field: "invoicing.vatNumber",
			Message: "VIES, the EU's VAT number register, does not know this number: check it, or leave it out (VAT is then charged)"})
	}
	return &checkout.VATCheck{Status: checkout.VATValid, CheckedAt: now, Name: checkout.Clean(r.Name), RequestID: checkout.Clean(r.RequestID)}, nil
}

// RegisterShop adds the SHOP step's routes.
func (s *Purchase) RegisterShop(rt *httpapi.Router) {
	rt.Handle("GET /catalog", s.catalog)
	rt.Handle("POST /carts", s.createCart)
	rt.Handle("GET /carts/{txid}", s.getCart)
	rt.Handle("DELETE /carts/{txid}", s.resetCart)
	rt.Handle("PUT /carts/{txid}/lines/{code}", s.setLine)
	rt.Handle("DELETE /carts/{txid}/lines/{code}", s.removeLine)
	rt.Handle("POST /carts/{txid}/codes", s.addCode)
	rt.Handle("DELETE /carts/{txid}/codes/{code}", s.removeCode)
	rt.Handle("POST /carts/{txid}/unlock", s.unlock)
	rt.Handle("GET /shop/prefill", s.prefill)
}

// RegisterRequirements adds the PURCHASEREQUIS step's routes.
func (s *Purchase) RegisterRequirements(rt *httpapi.Router) {
	rt.Handle("GET /carts/{txid}/requirements", s.getCart)
	rt.Handle("PUT /carts/{txid}/requirements", s.putRequirements)
}

// RegisterUsers adds the USERS step's routes.
func (s *Purchase) RegisterUsers(rt *httpapi.Router) {
	rt.Handle("GET /carts/{txid}/seats", s.getCart)
	rt.Handle("PUT /carts/{txid}/seats", s.putSeats)
}

// RegisterCustomer adds the CUSTOMER step's routes.
func (s *Purchase) RegisterCustomer(rt *httpapi.Router) {
	rt.Handle("GET /carts/{txid}/customer", s.getCart)
	rt.Handle("PUT /carts/{txid}/customer", s.putCustomer)
}

// RegisterOrder adds the ORDER step's routes.
func (s *Purchase) RegisterOrder(rt *httpapi.Router) {
	rt.Handle("GET /carts/{txid}/order", s.review)
	rt.Handle("POST /carts/{txid}/order", s.place)
}

// CatalogView is GET /catalog: the shop's public settings and what it sells.
type CatalogView struct {
	Shop struct {
		ID       string   `json:"id"`
		Name     string   `json:"name"`
		Currency string   `json:"currency"`
		Paymodes []string `json:"paymodes"`
		TestMode bool     `json:"testMode"`
		Terms    string   `json:"terms"`
		Steps    []string `json:"steps"`
	} `json:"shop"`
	Catalog *checkout.Catalog `json:"catalog"`
}

func (s *Purchase) catalog(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	shop, cat, err := s.Shops.Get(ctx)
	if err != nil {
		return httpapi.Response{}, err
	}
	var v CatalogView
	v.Shop.ID, v.Shop.Name, v.Shop.Currency, v.Shop.Paymodes = shop.ID, shop.Name, shop.Currency, shop.Paymodes
	v.Shop.TestMode, v.Shop.Terms, v.Shop.Steps = shop.TestMode, shop.Terms, shop.StepOrder()
	v.Catalog = cat.Storefront()
	resp := httpapi.JSON(http.StatusOK, v)
	resp.Headers["cache-control"] = "public, max-age=60"
	return resp, nil
}

func newToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// NewCart is POST /carts's optional body.
type NewCart struct {
	Lines   []checkout.Line `json:"lines"`
	Partner string          `json:"partner"`
}

// Created is POST /carts's answer.
type Created struct {
	TransactionID string    `json:"transactionId"`
	CartToken     string    `json:"cartToken"`
	ExpiresAt     time.Time `json:"expiresAt"`
}

// startCart creates a cart holding lines; unknown codes are reported, not dropped.
func (s *Purchase) startCart(ctx context.Context, in NewCart) (Created, []string, error) {
	_, cat, err := s.Shops.Get(ctx)
	if err != nil {
		return Created{}, nil, err
	}
	now := s.now()
	c := &checkout.Cart{TxID: trace.NewTxID(), ShopID: s.Shops.ShopID, Partner: checkout.Clean(in.Partner), CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(s.CartTTL)}
	var unknown []string
	var f checkout.Fields
	for i, l := range in.Lines {
		it, ok := cat.Item(l.Code)
		if !ok || !it.Sellable() || it.Password != "" {
			unknown = append(unknown, l.Code)
			continue
		}
		q, err := checkout.LineQuantity(it, l.Quantity)
		if err != nil {
			f.Add("lines["+strconv.Itoa(i)+"].quantity", "must be between 1 and %d", checkout.MaxLineQuantity)
			continue
		}
		if q > 0 {
			c.Lines = append(c.Lines, checkout.Line{Code: it.Code, Quantity: q})
		}
	}
	if len(in.Lines) > checkout.MaxLines {
		f.Add("lines", "at most %d lines", checkout.MaxLines)
	}
	if len(c.Partner) > store.MaxPartnerKey {
		f.Add("partner", "at most %d characters", store.MaxPartnerKey)
	}
	if err := f.Err("cart.create", "invalid cart"); err != nil {
		return Created{}, nil, err
	}
	if c.Partner != "" {
		// The partner's figures are read once, here: the partnerMin* discounts then
		// price every view of this purchase alike.
		ps, err := s.Store.PartnerStats(ctx, c.Partner)
		if err != nil {
			return Created{}, nil, err
		}
		c.PartnerStats = &ps
	}
	token := newToken()
	c.TokenHash = checkout.HashToken(token)
	note := s.Trace.Line(c.TxID, "cart created with %d line(s)%s", len(c.Lines), partnerNote(c.Partner))
	if err := s.Store.CreateCart(ctx, c, note); err != nil {
		return Created{}, nil, err
	}
	return Created{TransactionID: c.TxID, CartToken: token, ExpiresAt: c.ExpiresAt}, unknown, nil
}

func partnerNote(p string) string {
	if p == "" {
		return ""
	}
	return ", partner " + p
}

func (s *Purchase) createCart(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	var in NewCart
	if strings.TrimSpace(r.Body) != "" {
		if err := httpapi.Decode(r, &in); err != nil {
			return httpapi.Response{}, err
		}
	}
	created, unknown, err := s.startCart(ctx, in)
	if err != nil {
		return httpapi.Response{}, err
	}
	if len(unknown) > 0 {
		return httpapi.Response{}, checkout.Invalid("cart.create", "unknown item codes", checkout.FieldError{Field: "lines", Message: "unknown or unavailable: " + strings.Join(unknown, ", ")})
	}
	return httpapi.JSON(http.StatusCreated, created), nil
}

// prefill answers GET /shop/prefill?CODE=qty…[&partner=KEY][&autodrive=1]: a new cart
// holding those items, and a redirect to the storefront that hands it the cart. The
// token travels in the URL fragment, which browsers never send to servers.
func (s *Purchase) prefill(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	q, err := url.ParseQuery(r.RawQueryString)
	if err != nil {
		return httpapi.Response{}, checkout.Errorf("cart.prefill", checkout.EINVALID, "malformed query string")
	}
	var in NewCart
	var codes []string
	for k := range q {
		codes = append(codes, k)
	}
	sort.Strings(codes)
	var f checkout.Fields
	for _, k := range codes {
		switch k {
		case "partner":
			in.Partner = q.Get(k)
		case "autodrive":
		default:
			n, err := strconv.Atoi(q.Get(k))
			if err != nil || n < 1 || n > checkout.MaxLineQuantity {
				f.Add(k, "quantity must be a whole number from 1 to %d", checkout.MaxLineQuantity)
				continue
			}
			in.Lines = append(in.Lines, checkout.Line{Code: k, Quantity: n})
		}
	}
	if err := f.Err("cart.prefill", "invalid prefill link"); err != nil {
		return httpapi.Response{}, err
	}
	created, unknown, err := s.startCart(ctx, in)
	if err != nil {
		return httpapi.Response{}, err
	}
	frag := url.Values{"tx": {created.TransactionID}, "token": {created.CartToken}}
	if len(unknown) > 0 {
		frag.Set("unknown", strings.Join(unknown, ","))
		s.Trace.Printf(ctx, created.TransactionID, "prefill: unknown codes %s", strings.Join(unknown, ","))
	}
	if q.Get("autodrive") == "1" {
		frag.Set("autodrive", "1")
	}
	loc := strings.TrimRight(s.Storefront, "/") + "/#/prefill?" + frag.Encode()
	return httpapi.Response{StatusCode: http.StatusFound, Headers: map[string]string{"location": loc, "cache-control": "no-store"}}, nil
}

// openCart is open, then the cart read for its holder.
func (s *Purchase) openCart(ctx context.Context, r *httpapi.Request) (*cartRequest, *checkout.Cart, error) {
	cr, err := s.open(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.Store.GetCart(ctx, cr.txid, cr.tokenHash)
	if err != nil {
		return nil, nil, err
	}
	return cr, c, nil
}

func (s *Purchase) getCart(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	cr, c, err := s.openCart(ctx, r)
	if err != nil {
		return httpapi.Response{}, err
	}
	return s.view(cr, c, http.StatusOK)
}

func (s *Purchase) resetCart(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	cr, err := s.open(ctx, r)
	if err != nil {
		return httpapi.Response{}, err
	}
	c, err := s.Store.Reset(ctx, s.write(cr, "SHOP : cart reset"))
	return s.changed(ctx, cr, c, err)
}

func (s *Purchase) item(cr *cartRequest, code string) (*checkout.Item, error) {
	it, ok := cr.cat.Item(code)
	if !ok || !it.Sellable() {
		return nil, checkout.Errorf("cart.item", checkout.ENOTFOUND, "no item %q for sale", code)
	}
	return it, nil
}

func (s *Purchase) setLine(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	cr, err := s.open(ctx, r)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in struct {
		Quantity *int `json:"quantity"`
	}
	if err := httpapi.Decode(r, &in); err != nil {
		return httpapi.Response{}, err
	}
	if in.Quantity == nil {
		return httpapi.Response{}, checkout.Invalid("cart.setLine", "quantity is required", checkout.FieldError{Field: "quantity", Message: "is required"})
	}
	it, err := s.item(cr, r.PathParameters["code"])
	if err != nil {
		return httpapi.Response{}, err
	}
	q, err := checkout.LineQuantity(it, *in.Quantity)
	if err != nil {
		return httpapi.Response{}, err
	}
	if q == 0 {
		c, err := s.Store.RemoveLine(ctx, s.write(cr, "SHOP : remove %s", it.Code), it.Code)
		return s.changed(ctx, cr, c, err)
	}
	c, err := s.Store.SetLine(ctx, s.write(cr, "SHOP : %s quantity %d", it.Code, q), it, q)
	return s.changed(ctx, cr, c, err)
}

func (s *Purchase) removeLine(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	cr, err := s.open(ctx, r)
	if err != nil {
		return httpapi.Response{}, err
	}
	code := r.PathParameters["code"]
	if !checkout.ValidCode(code) {
		return httpapi.Response{}, checkout.Errorf("cart.removeLine", checkout.ENOTFOUND, "no item %q", code)
	}
	c, err := s.Store.RemoveLine(ctx, s.write(cr, "SHOP : remove %s", code), code)
	return s.changed(ctx, cr, c, err)
}

func (s *Purchase) addCode(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	cr, err := s.open(ctx, r)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in struct {
		Code string `json:"code"`
	}
	if err := httpapi.Decode(r, &in); err != nil {
		return httpapi.Response{}, err
	}
	code, err := pricing.ValidateCode(cr.shop.Pricing.Discounts, in.Code, s.now())
	if err != nil {
		return httpapi.Response{}, checkout.Invalid("cart.addCode", "this code cannot be used", checkout.FieldError{Field: "code", Message: err.Error()})
	}
	c, err := s.Store.AddCode(ctx, s.write(cr, "SHOP : discount code %s entered", code), code)
	return s.changed(ctx, cr, c, err)
}

func (s *Purchase) removeCode(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	cr, err := s.open(ctx, r)
	if err != nil {
		return httpapi.Response{}, err
	}
	code := strings.ToUpper(strings.TrimSpace(r.PathParameters["code"]))
	c, err := s.Store.RemoveCode(ctx, s.write(cr, "SHOP : discount code %s removed", code), code)
	return s.changed(ctx, cr, c, err)
}

func (s *Purchase) unlock(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	cr, err := s.open(ctx, r)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in struct {
		Code     string `json:"code"`
		Password string `json:"password"`
	}
	if err := httpapi.Decode(r, &in); err != nil {
		return httpapi.Response{}, err
	}
	it, err := s.item(cr, in.Code)
	if err != nil {
		return httpapi.Response{}, err
	}
	if !checkout.PasswordMatches(it, in.Password) {
		// Traced only for the cart's holder: anyone else learns nothing and writes nothing.
		if _, err := s.Store.GetCart(ctx, cr.txid, cr.tokenHash); err != nil {
			return httpapi.Response{}, err
		}
		s.Trace.Printf(ctx, cr.txid, "SHOP : wrong password for %s", it.Code)
		return httpapi.Response{}, checkout.Errorf("cart.unlock", checkout.EFORBIDDEN, "wrong password for %s", it.Code)
	}
	c, err := s.Store.Unlock(ctx, s.write(cr, "SHOP : %s unlocked", it.Code), it.Code)
	return s.changed(ctx, cr, c, err)
}

func (s *Purchase) putRequirements(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	cr, err := s.open(ctx, r)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in struct {
		Requirements map[string][]map[string]string `json:"requirements"`
	}
	if err := httpapi.Decode(r, &in); err != nil {
		return httpapi.Response{}, err
	}
	if len(in.Requirements) == 0 {
		return httpapi.Response{}, checkout.Invalid("cart.setRequirements", "requirements are empty", checkout.FieldError{Field: "requirements", Message: "is required"})
	}
	clean, err := checkout.CleanRequirements(cr.cat, in.Requirements)
	if err != nil {
		return httpapi.Response{}, err
	}
	if bad := checkout.HandlerErrors(ctx, cr.cat, clean, s.Check); len(bad) > 0 {
		return httpapi.Response{}, checkout.Invalid("cart.setRequirements", "invalid required data", bad...)
	}
	c, err := s.Store.SetRequirements(ctx, s.write(cr, "PURCHASEREQUIS : data for %d item(s)", len(clean)), clean)
	return s.changed(ctx, cr, c, err)
}

func (s *Purchase) putSeats(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	cr, err := s.open(ctx, r)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in struct {
		Participants []checkout.Participant `json:"participants"`
		Seats        []checkout.Assignment  `json:"seats"`
	}
	if err := httpapi.Decode(r, &in); err != nil {
		return httpapi.Response{}, err
	}
	if err := checkout.CleanSeats(cr.shop, cr.cat, in.Participants, in.Seats); err != nil {
		return httpapi.Response{}, err
	}
	c, err := s.Store.SetSeats(ctx, s.write(cr, "USERS : %d participant(s), %d seat(s)", len(in.Participants), len(in.Seats)), in.Participants, in.Seats)
	return s.changed(ctx, cr, c, err)
}

func (s *Purchase) putCustomer(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
	cr, err := s.open(ctx, r)
	if err != nil {
		return httpapi.Response{}, err
	}
	var cu checkout.Customer
	if err := httpapi.Decode(r, &cu); err != nil {
		return httpapi.Response{}, err
	}
	cu.Normalise()
	if err := cu.Validate(cr.cat); err != nil {
		return httpapi.Response{}, err
	}
	if inv := cu.Invoicing; inv != nil && inv.VATNumber != "" {
		country, err := pricing.CheckVATNumber(inv.VATNumber)
		if err != nil {
			return httpapi.Response{}, checkout.Invalid("customer.validate", "invalid VAT number", checkout.FieldError{Field: "invoicing.vatNumber", Message: err.Error()})
		}
		// A number removes VAT only for a business invoiced in the country that issued
		// it: another country's number is a mistake to correct, not VAT to drop.
		if !strings.EqualFold(country, inv.Country) {
			return httpapi.Response{}, checkout.Invalid("customer.validate", "VAT number of another country", checkout.FieldError{Field: "invoicing.vatNumber",
				Message: fmt.Sprintf("this VAT number was issued in %s, the invoicing address is in %s: correct one of them, or leave the number out (VAT is then charged)", country, inv.Country)})
		}
		check, err := s.checkVAT(ctx, inv.VATNumber)
		if err != nil {
			return httpapi.Response{}, err
		}
		inv.VATCheck = check
	} else if inv != nil {
		inv.VATCheck = nil
	}
	// The buyer's earlier paid orders are read now and kept in the cart (a second round
	// trip, for this step only): a loyalty discount shown then stays as shown.
	paid, err := s.Store.PaidOrders(ctx, cu.Email)
	if err != nil {
		return httpapi.Response{}, err
	}
	c, err := s.Store.SetCustomer(ctx, s.write(cr, "CUSTOMER : buyer %s", cu.Email), &cu, paid)
	return s.changed(ctx, cr, c, err)
}
