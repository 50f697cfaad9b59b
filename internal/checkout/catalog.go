package checkout

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// ItemStatus is a catalog item's sale status. Only AVAILABLE and PROVIDING are sold on
// the storefront.
type ItemStatus string

// Item statuses (see docs/spec.md#the-catalog).
const (
	StatusPreview           ItemStatus = "PREVIEW"
	StatusAvailable         ItemStatus = "AVAILABLE"
	StatusAvailableInternal ItemStatus = "AVAILABLEINTERNAL"
	StatusSuspended         ItemStatus = "SUSPENDED"
	StatusProviding         ItemStatus = "PROVIDING"
	StatusAbandoned         ItemStatus = "ABANDONED"
)

// SeatsMode says whether an item needs beneficiaries.
type SeatsMode string

// Seats modes (see docs/spec.md#the-catalog).
const (
	SeatsNone         SeatsMode = "none"
	SeatsOne          SeatsMode = "oneSeat"
	SeatsFromQuantity SeatsMode = "seatsFromQuantity"
)

// Audience restricts who may buy an item. Buyers are identified by the e-mail of the
// CUSTOMER step: "customers" and "loggedIn" items need an existing customer account
// (one made by an earlier order; the checkout has no login of its own), "anonymous"
// items a buyer without one. Placement enforces it in its transaction.
type Audience string

// Audiences (see docs/spec.md#the-catalog).
const (
	AudienceAnyone    Audience = "anyone"
	AudienceLoggedIn  Audience = "loggedIn"
	AudienceCustomers Audience = "customers"
	AudienceAnonymous Audience = "anonymous"
)

// Tier is one quantity tier of an item's untaxed unit price: the price applies up to
// UpTo units (0: no bound).
type Tier struct {
	UpTo      int   `json:"upTo"`
	UnitPrice int64 `json:"unitPrice"`
}

// RequiredField is a datum the buyer fills for each purchased unit (PURCHASEREQUIS).
type RequiredField struct {
	Field    string   `json:"field"`
	Label    string   `json:"label"`
	Type     string   `json:"type"` // text, textarea, checkbox, select
	Options  []string `json:"options,omitempty"`
	Required bool     `json:"required"`
	Pattern  string   `json:"pattern,omitempty"`
}

// Item is a catalog item (sale unit).
type Item struct {
	Code             string            `json:"code"`
	Name             string            `json:"name"`
	ShortDescription string            `json:"shortDescription,omitempty"`
	Description      string            `json:"description,omitempty"`
	Category         string            `json:"category,omitempty"`
	Status           ItemStatus        `json:"status"`
	Tiers            []Tier            `json:"tiers"`
	TaxCode          string            `json:"taxCode"`
	MaxQuantity      int               `json:"maxQuantity"`
	Seats            SeatsMode         `json:"seats"`
	Audience         Audience          `json:"audience"`
	RequiredData     []RequiredField   `json:"requiredData,omitempty"`
	Handler          string            `json:"handler"`
	HandlerParams    map[string]string `json:"handlerParams,omitempty"`
	SeatRoles        []string          `json:"seatRoles,omitempty"` // roles besides student, from the handler
	Terms            string            `json:"terms,omitempty"`
	Password         string            `json:"-"`
	HasPassword      bool              `json:"passwordProtected,omitempty"`
	Renewable        bool              `json:"renewable,omitempty"`
	Bundle           []BundlePart      `json:"bundle,omitempty"`
	Order            int               `json:"order"`
}

// BundlePart is one item a bundle sells, with its quantity per bundle.
type BundlePart struct {
	Code     string `json:"code"`
	Quantity int    `json:"quantity"`
}

// Sellable reports whether the storefront may sell the item.
func (it *Item) Sellable() bool {
	return it.Status == StatusAvailable || it.Status == StatusProviding
}

// UnitPrice is the untaxed unit price for quantity q: the first tier whose bound is ≥ q.
func (it *Item) UnitPrice(q int) int64 {
	for _, t := range it.Tiers {
		if t.UpTo == 0 || q <= t.UpTo {
			return t.UnitPrice
		}
	}
	if n := len(it.Tiers); n > 0 {
		return it.Tiers[n-1].UnitPrice
	}
	return 0
}

var codePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`)

// ValidCode reports whether s can be an item code (≤ 32 chars, no spaces or controls).
func ValidCode(s string) bool { return codePattern.MatchString(s) }

// Validate checks an item's configuration.
func (it *Item) Validate() error {
	var f Fields
	if !ValidCode(it.Code) {
		f.Add("code", "must be 1 to 32 letters, digits, '-', '_' or '.'")
	}
	if strings.TrimSpace(it.Name) == "" {
		f.Add("name", "is required")
	}
	switch it.Status {
	case StatusPreview, StatusAvailable, StatusAvailableInternal, StatusSuspended, StatusProviding, StatusAbandoned:
	default:
		f.Add("status", "unknown status %q", it.Status)
	}
	if len(it.Tiers) == 0 || len(it.Tiers) > 5 {
		f.Add("tiers", "needs 1 to 5 price tiers")
	}
	for i, t := range it.Tiers {
		if t.UnitPrice < 0 {
			f.Add("tiers", "tier %d has a negative price", i+1)
		}
		if i > 0 && (it.Tiers[i-1].UpTo == 0 || (t.UpTo != 0 && t.UpTo <= it.Tiers[i-1].UpTo)) {
			f.Add("tiers", "tier %d bound must be above the previous one", i+1)
		}
	}
	if it.MaxQuantity < 0 {
		f.Add("maxQuantity", "must be ≥ 0")
	}
	switch it.Seats {
	case "", SeatsNone, SeatsOne, SeatsFromQuantity:
	default:
		f.Add("seats", "unknown seats mode %q", it.Seats)
	}
	for i, r := range it.RequiredData {
		if r.Field == "" {
			f.Add("requiredData", "field %d has no name", i)
		}
		switch r.Type {
		case "text", "textarea", "checkbox", "select":
		default:
			f.Add("requiredData", "field %q has unknown type %q", r.Field, r.Type)
		}
		if r.Pattern != "" {
			if _, err := regexp.Compile(r.Pattern); err != nil {
				f.Add("requiredData", "field %q pattern: %v", r.Field, err)
			}
		}
	}
	return f.Err("item.validate", "invalid catalog item "+it.Code)
}

// Category is a product line, ordered for display.
type Category struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Order int    `json:"order"`
}

// Catalog belongs to a shop; a slave catalog inherits its master's categories and
// items and overrides an item by declaring one with the same code.
type Catalog struct {
	ID         string     `json:"id"`
	Master     string     `json:"master,omitempty"`
	Countries  []string   `json:"countries,omitempty"` // allowed buyer countries; empty: all
	Categories []Category `json:"categories"`
	Items      []Item     `json:"items"`
}

// Merge returns the catalog a slave sells: its master's categories and items, overridden
// by its own.
func Merge(master, slave *Catalog) *Catalog {
	out := &Catalog{ID: slave.ID, Master: master.ID, Countries: slave.Countries}
	if len(out.Countries) == 0 {
		out.Countries = master.Countries
	}
	cats := map[string]Category{}
	for _, c := range master.Categories {
		cats[c.Code] = c
	}
	for _, c := range slave.Categories {
		cats[c.Code] = c
	}
	items := map[string]Item{}
	for _, it := range master.Items {
		items[it.Code] = it
	}
	for _, it := range slave.Items {
		items[it.Code] = it
	}
	for _, c := range cats {
		out.Categories = append(out.Categories, c)
	}
	for _, it := range items {
		out.Items = append(out.Items, it)
	}
	out.sort()
	return out
}

func (c *Catalog) sort() {
	sort.Slice(c.Categories, func(i, j int) bool {
		return c.Categories[i].Order < c.Categories[j].Order || (c.Categories[i].Order == c.Categories[j].Order && c.Categories[i].Code < c.Categories[j].Code)
	})
	sort.Slice(c.Items, func(i, j int) bool {
		return c.Items[i].Order < c.Items[j].Order || (c.Items[i].Order == c.Items[j].Order && c.Items[i].Code < c.Items[j].Code)
	})
}

// Item finds an item by code.
func (c *Catalog) Item(code string) (*Item, bool) {
	for i := range c.Items {
		if c.Items[i].Code == code {
			return &c.Items[i], true
		}
	}
	return nil, false
}

// CountryAllowed reports whether buyers from an ISO 3166 alpha-2 country may buy.
func (c *Catalog) CountryAllowed(country string) bool {
	if len(c.Countries) == 0 {
		return true
	}
	for _, k := range c.Countries {
		if strings.EqualFold(k, country) {
			return true
		}
	}
	return false
}

// Storefront returns what buyers see: sellable items only, without secrets.
func (c *Catalog) Storefront() *Catalog {
	out := &Catalog{ID: c.ID, Countries: c.Countries, Categories: c.Categories}
	for _, it := range c.Items {
		if it.Sellable() {
			it.HasPassword = it.Password != ""
			out.Items = append(out.Items, it)
		}
	}
	return out
}

// AccountRule is what the items of a cart require of the buyer's customer account.
type AccountRule int

// Account rules, from the items' audiences.
const (
	AnyAccount      AccountRule = iota
	ExistingAccount             // customers, loggedIn
	NoAccount                   // anonymous
)

// AccountRuleOf combines the audiences of a cart's items; items that need an existing
// account and items that need none cannot be bought together.
func AccountRuleOf(cat *Catalog, c *Cart) (AccountRule, error) {
	var existing, none []string
	for _, l := range c.Lines {
		it, ok := cat.Item(l.Code)
		if !ok {
			continue
		}
		switch it.Audience {
		case AudienceCustomers, AudienceLoggedIn:
			existing = append(existing, it.Code)
		case AudienceAnonymous:
			none = append(none, it.Code)
		}
	}
	switch {
	case len(existing) > 0 && len(none) > 0:
		return AnyAccount, Invalid("cart.audience", "these items cannot be bought together",
			FieldError{Field: "lines", Message: fmt.Sprintf("%v are for existing customers, %v for new ones", existing, none)})
	case len(existing) > 0:
		return ExistingAccount, nil
	case len(none) > 0:
		return NoAccount, nil
	}
	return AnyAccount, nil
}
