package checkout

import (
	"time"

	"github.com/lmsshop/checkout/internal/pricing"
)

// Shop is the configuration of one shop (see docs/spec.md#the-catalog).
type Shop struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Currency      string   `json:"currency"` // ISO 4217
	Country       string   `json:"country"`  // the seller's, for VAT
	CatalogID     string   `json:"catalogId"`
	Steps         []string `json:"steps"`    // pre-placement steps in order
	Paymodes      []string `json:"paymodes"` // offered payment modes
	TestMode      bool     `json:"testMode"`
	Terms         string   `json:"terms"`
	SellerName    string   `json:"sellerName"`
	SellerEmail   string   `json:"sellerEmail"`
	SalesManagers []string `json:"salesManagers"`
	RequirePhone  bool     `json:"requirePhone,omitempty"`
	RequireOrg    bool     `json:"requireOrganisation,omitempty"`
	// Offline payment instructions.
	CheckPayee   string `json:"checkPayee,omitempty"`
	CheckAddress string `json:"checkAddress,omitempty"`
	IBAN         string `json:"iban,omitempty"`
	BIC          string `json:"bic,omitempty"`
	// How long each kind of payment may wait before the order is cancelled.
	OnlinePaymentWait  Duration `json:"onlinePaymentWait"`
	OfflinePaymentWait Duration `json:"offlinePaymentWait"`
	RetryWait          Duration `json:"retryWait"`
	// Pricing holds the taxes, country rates and discount rules (internal/pricing).
	Pricing pricing.Config `json:"pricing"`

	// engine is Pricing validated and its tax formulas parsed, built once per shop
	// version by PreparePricing and used by every quote of this shop. engineOf is the
	// shop it was built for: a copy of the struct (which may then be changed) does not
	// use it.
	engine   *pricing.Engine
	engineOf *Shop
}

// PreparePricing builds the shop's pricing engine once, for a shop that is read-only
// from now on (ShopCache calls it on the shop it shares between requests); an
// invalid configuration is left for Quote to report.
func (s *Shop) PreparePricing() {
	if eng, err := pricing.NewEngine(s.Pricing); err == nil {
		s.engine, s.engineOf = eng, s
	}
}

// pricingEngine is the prepared engine, or one built for this quote.
func (s *Shop) pricingEngine() (*pricing.Engine, error) {
	if s.engine != nil && s.engineOf == s {
		return s.engine, nil
	}
	return pricing.NewEngine(s.Pricing)
}

// Duration is a time.Duration that reads and writes as "36h", "15m".
type Duration struct{ time.Duration }

// MarshalText writes the duration as Go prints it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "36h", "15m", "90s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// Steps of the purchase sequence (see docs/spec.md#the-purchase-sequence).
const (
	StepShop         = "SHOP"
	StepRequirements = "PURCHASEREQUIS"
	StepUsers        = "USERS"
	StepCustomer     = "CUSTOMER"
	StepOrder        = "ORDER"
)

// DefaultSteps is the default pre-placement order.
var DefaultSteps = []string{StepShop, StepRequirements, StepUsers, StepCustomer, StepOrder}

// Validate checks the shop's configuration, including the rules on step order: SHOP
// first, ORDER last, each known step once, CUSTOMER present.
func (s *Shop) Validate() error {
	var f Fields
	if len(s.Currency) != 3 {
		f.Add("currency", "must be an ISO 4217 code")
	}
	steps := s.Steps
	if len(steps) == 0 {
		steps = DefaultSteps
	}
	seen := map[string]bool{}
	for _, step := range steps {
		switch step {
		case StepShop, StepRequirements, StepUsers, StepCustomer, StepOrder:
		default:
			f.Add("steps", "unknown step %q", step)
		}
		if seen[step] {
			f.Add("steps", "step %s appears twice", step)
		}
		seen[step] = true
	}
	if len(steps) > 0 && (steps[0] != StepShop || steps[len(steps)-1] != StepOrder) {
		f.Add("steps", "SHOP must be first and ORDER last")
	}
	if !seen[StepCustomer] {
		f.Add("steps", "CUSTOMER is required")
	}
	if len(s.Paymodes) == 0 {
		f.Add("paymodes", "at least one payment mode is required")
	}
	return f.Err("shop.validate", "invalid shop configuration")
}

// StepOrder returns the configured pre-placement steps.
func (s *Shop) StepOrder() []string {
	if len(s.Steps) == 0 {
		return DefaultSteps
	}
	return s.Steps
}
