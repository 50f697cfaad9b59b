package checkout

import (
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/lmsshop/checkout/internal/trace"
)

// Line is one cart line: an item code and a quantity. Prices are never stored in the
// cart; they are recomputed from the catalog at every view and at placement.
type Line struct {
	Code     string `json:"code"`
	Quantity int    `json:"quantity"`
}

// Participant is a beneficiary of a seat, keyed by e-mail (case-insensitive).
type Participant struct {
	Email        string `json:"email"`
	LastName     string `json:"lastName"`
	FirstName    string `json:"firstName"`
	City         string `json:"city"`
	Phone        string `json:"phone,omitempty"`
	Organisation string `json:"organisation,omitempty"`
}

// Assignment puts a participant on a seat of an item with a role.
type Assignment struct {
	Code  string `json:"code"`
	Role  string `json:"role"`
	Email string `json:"email"`
}

// Customer is the buyer (see docs/spec.md#customer).
type Customer struct {
	Email        string     `json:"email"`
	LastName     string     `json:"lastName"`
	FirstName    string     `json:"firstName"`
	Organisation string     `json:"organisation,omitempty"`
	Address      string     `json:"address,omitempty"`
	Zip          string     `json:"zip,omitempty"`
	City         string     `json:"city"`
	Country      string     `json:"country"`
	Lang         string     `json:"lang,omitempty"`
	Invoicing    *Invoicing `json:"invoicing,omitempty"`
}

// Invoicing is the optional distinct invoicing information.
type Invoicing struct {
	Organisation string `json:"organisation"`
	Department   string `json:"department,omitempty"`
	LastName     string `json:"lastName"`
	FirstName    string `json:"firstName"`
	Email        string `json:"email,omitempty"`
	Address      string `json:"address"`
	Zip          string `json:"zip"`
	City         string `json:"city"`
	Country      string `json:"country"`
	VATNumber    string `json:"vatNumber,omitempty"`
	PlantCode    string `json:"plantCode,omitempty"`
	// VATCheck is what VIES said of VATNumber when the buyer entered it; set by the
	// CUSTOMER step only, never taken from the buyer.
	VATCheck *VATCheck `json:"vatCheck,omitempty"`
}

// VAT check statuses.
const (
	VATValid       = "valid"       // VIES confirmed the number: reverse charge applies
	VATUnavailable = "unavailable" // VIES could not answer: VAT is charged
)

// VATCheck is the result of asking VIES about a VAT number, kept on the cart and the
// order and printed on the invoice.
type VATCheck struct {
	Status    string    `json:"status"`
	CheckedAt time.Time `json:"checkedAt"`
	Name      string    `json:"name,omitempty"`      // the registered trader, when given
	RequestID string    `json:"requestId,omitempty"` // VIES's consultation number
	Message   string    `json:"message,omitempty"`   // why VAT is charged, for the buyer
}

// Stats are sales figures: a number of paid orders and their revenue in minor units.
type Stats struct {
	Orders  int   `json:"orders"`
	Revenue int64 `json:"revenue"`
}

// PartnerStats are a partner's paid orders in total and per item code.
type PartnerStats struct {
	Stats
	ByProduct map[string]Stats `json:"byProduct,omitempty"`
}

// Cart is the whole pre-placement state of one purchase, stored as one item.
type Cart struct {
	TxID         string                         `json:"transactionId"`
	TokenHash    string                         `json:"-"`
	ShopID       string                         `json:"shopId"`
	Version      int64                          `json:"version"`
	Lines        []Line                         `json:"lines"`
	Codes        []string                       `json:"codes,omitempty"`
	Unlocked     []string                       `json:"unlocked,omitempty"`
	Required     map[string][]map[string]string `json:"requirements,omitempty"` // code → unit → field → value
	Participants []Participant                  `json:"participants,omitempty"`
	Seats        []Assignment                   `json:"seats,omitempty"`
	Customer     *Customer                      `json:"customer,omitempty"`
	Partner      string                         `json:"partner,omitempty"`
	// PaidOrders and PartnerStats are what the discount rules know of the buyer's and
	// the partner's history. They are snapshots, read once when the customer was saved
	// and when the cart got its partner, so that every later view of the purchase
	// (cart, review, placement, bill) prices it alike without reading them again, and a
	// discount shown to the buyer does not change under them.
	PaidOrders   int           `json:"paidOrders,omitempty"`
	PartnerStats *PartnerStats `json:"partnerStats,omitempty"`
	Placed       bool          `json:"placed"`
	CreatedAt    time.Time     `json:"createdAt"`
	UpdatedAt    time.Time     `json:"updatedAt"`
	ExpiresAt    time.Time     `json:"expiresAt"`
	// Trace is the merchant trace the cart's commands carried on the cart (the store
	// moves it onto the order at placement); never shown to the buyer.
	Trace []trace.Line `json:"-"`
}

// Expired reports whether the cart is past its TTL: it is then treated as absent even
// before DynamoDB deletes it.
func (c *Cart) Expired(now time.Time) bool { return !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt) }

// Line returns the cart's line for code.
func (c *Cart) Line(code string) (Line, bool) {
	for _, l := range c.Lines {
		if l.Code == code {
			return l, true
		}
	}
	return Line{}, false
}

// SeatsNeeded counts the seats to assign per item: quantity for seatsFromQuantity, one
// for oneSeat.
func SeatsNeeded(c *Cart, cat *Catalog) map[string]int {
	out := map[string]int{}
	for _, l := range c.Lines {
		it, ok := cat.Item(l.Code)
		if !ok {
			continue
		}
		switch it.Seats {
		case SeatsFromQuantity:
			out[l.Code] = l.Quantity
		case SeatsOne:
			out[l.Code] = 1
		}
	}
	return out
}

var emailOK = func(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && !strings.ContainsAny(s, " <>")
}

// NormaliseEmail lower-cases and trims an address.
func NormaliseEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// NormaliseName trims, collapses spaces and capitalises each word: "  jean-PAUL  du pont" →
// "Jean-Paul Du Pont".
func NormaliseName(s string) string {
	fields := strings.Fields(Clean(s))
	for i, f := range fields {
		rs := []rune(strings.ToLower(f))
		up := true
		for j, r := range rs {
			if up {
				rs[j] = unicode.ToUpper(r)
			}
			up = r == '-' || r == '\''
		}
		fields[i] = string(rs)
	}
	return strings.Join(fields, " ")
}

// Clean is for what a buyer types into a one-line field that is stored (a name, a city,
// an e-mail address, a per-unit datum): every rune that trace.BreaksLine is removed,
// so no stored value can later split a trace line or an e-mail header, and the value
// is trimmed. Unlike trace.Sanitize it removes rather than replaces, so a pasted
// "Paris\n" is stored as "Paris", and it caps nothing, as each field has its own
// limit; what it stores is kept as it is.
func Clean(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if trace.BreaksLine(r) {
			return -1
		}
		return r
	}, s))
}

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

// Validate checks a participant; prefix addresses the fields.
func (p *Participant) Validate(prefix string, shop *Shop) Fields {
	var f Fields
	if !emailOK(p.Email) {
		f.Add(prefix+".email", "must be a valid e-mail address")
	}
	if p.LastName == "" {
		f.Add(prefix+".lastName", "is required")
	}
	if p.FirstName == "" {
		f.Add(prefix+".firstName", "is required")
	}
	if p.City == "" {
		f.Add(prefix+".city", "is required")
	}
	if shop.RequirePhone && p.Phone == "" {
		f.Add(prefix+".phone", "is required by this shop")
	}
	if shop.RequireOrg && p.Organisation == "" {
		f.Add(prefix+".organisation", "is required by this shop")
	}
	return f
}

// Normalise cleans a participant's text and keys it by lower-cased e-mail.
func (p *Participant) Normalise() {
	p.Email = NormaliseEmail(Clean(p.Email))
	p.LastName = NormaliseName(p.LastName)
	p.FirstName = NormaliseName(p.FirstName)
	p.City = Clean(p.City)
	p.Phone = Clean(p.Phone)
	p.Organisation = Clean(p.Organisation)
}

// Normalise cleans the customer's text fields.
func (c *Customer) Normalise() {
	c.Email = NormaliseEmail(Clean(c.Email))
	c.LastName, c.FirstName = NormaliseName(c.LastName), NormaliseName(c.FirstName)
	c.Organisation, c.Address, c.Zip, c.City = Clean(c.Organisation), Clean(c.Address), Clean(c.Zip), Clean(c.City)
	c.Country = strings.ToUpper(Clean(c.Country))
	c.Lang = strings.ToLower(Clean(c.Lang))
	if inv := c.Invoicing; inv != nil {
		inv.Organisation, inv.Department = Clean(inv.Organisation), Clean(inv.Department)
		inv.LastName, inv.FirstName = NormaliseName(inv.LastName), NormaliseName(inv.FirstName)
		inv.Email = NormaliseEmail(Clean(inv.Email))
		inv.Address, inv.Zip, inv.City = Clean(inv.Address), Clean(inv.Zip), Clean(inv.City)
		inv.Country = strings.ToUpper(Clean(inv.Country))
		inv.VATNumber = strings.ToUpper(strings.ReplaceAll(Clean(inv.VATNumber), " ", ""))
		inv.PlantCode = Clean(inv.PlantCode)
	}
}

// Validate checks the customer against the CUSTOMER step's required fields and the catalog's
// country restrictions.
func (c *Customer) Validate(cat *Catalog) error {
	var f Fields
	if !emailOK(c.Email) {
		f.Add("email", "must be a valid e-mail address")
	}
	if c.LastName == "" {
		f.Add("lastName", "is required")
	}
	if c.FirstName == "" {
		f.Add("firstName", "is required")
	}
	if c.City == "" {
		f.Add("city", "is required")
	}
	checkCountry(&f, "country", c.Country, cat)
	if c.Invoicing == nil {
		if c.Address == "" {
			f.Add("address", "is required (or give distinct invoicing information)")
		}
		if c.Zip == "" {
			f.Add("zip", "is required (or give distinct invoicing information)")
		}
	} else {
		inv := c.Invoicing
		for _, r := range []struct{ name, v string }{
			{"organisation", inv.Organisation}, {"address", inv.Address}, {"zip", inv.Zip},
			{"lastName", inv.LastName}, {"firstName", inv.FirstName}, {"city", inv.City},
		} {
			if r.v == "" {
				f.Add("invoicing."+r.name, "is required")
			}
		}
		if inv.Email != "" && !emailOK(inv.Email) {
			f.Add("invoicing.email", "must be a valid e-mail address")
		}
		checkCountry(&f, "invoicing.country", inv.Country, cat)
	}
	return f.Err("customer.validate", "customer information is incomplete or invalid")
}

func checkCountry(f *Fields, field, country string, cat *Catalog) {
	switch {
	case !countryPattern.MatchString(country) || !KnownCountry(country):
		f.Add(field, "must be an ISO 3166 alpha-2 country code")
	case cat != nil && !cat.CountryAllowed(country):
		f.Add(field, "this shop does not sell to %s", country)
	}
}
