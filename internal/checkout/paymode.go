package checkout

import "time"

// The payment modes a shop may offer, by the name orders, shops and the API carry.
const (
	PaymodeTest      = "test"
	PaymodeFreeOrder = "freeorder"
	PaymodeCheck     = "check"
	PaymodeTransfer  = "transfer"
	PaymodePayPal    = "paypal"
	PaymodeStripe    = "stripe"
	PaymodeSystempay = "systempay"
)

// The kinds of payment modes: how the workflow waits for the money, and what the
// buyer's view says of it.
const (
	KindInstant = "instant" // nothing to pay
	KindOffline = "offline" // the money comes by post or by bank
	KindOnline  = "online"  // a payment provider's page
	KindTest    = "test"    // a test shop's pretend payment
)

// paymode is what the checkout knows of one payment mode.
type paymode struct {
	kind   string
	en, fr string // its name for the buyer
}

// paymodes is the one table of the payment modes; a mode it does not list is an
// online one named by its code.
var paymodes = map[string]paymode{
	PaymodeTest:      {KindTest, "test payment", "paiement de test"},
	PaymodeFreeOrder: {KindInstant, "free order", "commande gratuite"},
	PaymodeCheck:     {KindOffline, "cheque", "chèque"},
	PaymodeTransfer:  {KindOffline, "bank transfer", "virement bancaire"},
	PaymodePayPal:    {KindOnline, "PayPal", "PayPal"},
	PaymodeStripe:    {KindOnline, "card (Stripe)", "carte bancaire (Stripe)"},
	PaymodeSystempay: {KindOnline, "card (Systempay)", "carte bancaire (Systempay)"},
}

// PaymodeKind is the kind of a payment mode: instant, offline, online or test.
func PaymodeKind(mode string) string {
	if m, ok := paymodes[mode]; ok {
		return m.kind
	}
	return KindOnline
}

// PaymodeLabel names a payment mode for the buyer in lang ("fr" or English); an
// unknown mode is named by its code.
func PaymodeLabel(mode, lang string) string {
	m, ok := paymodes[mode]
	if !ok {
		return mode
	}
	if lang == "fr" {
		return m.fr
	}
	return m.en
}

// Offered lists the payment modes a total allows in a shop: only freeorder for 0,
// never freeorder otherwise, test only in a test shop.
func Offered(shop *Shop, final int64) []string {
	if final == 0 {
		return []string{PaymodeFreeOrder}
	}
	out := []string{}
	for _, m := range shop.Paymodes {
		if m == PaymodeFreeOrder || (m == PaymodeTest && !shop.TestMode) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// PaymentPlan is the part of the execution input that tells the Payment state how
// long to wait: per kind of mode, from the shop's settings.
type PaymentPlan struct {
	Kind           string `json:"kind"` // instant, offline, online, test
	TimeoutSeconds int64  `json:"timeoutSeconds"`
	RetrySeconds   int64  `json:"retrySeconds"`
}

// PlanFor tells the workflow how to wait for a mode's payment.
func PlanFor(shop *Shop, mode string) PaymentPlan {
	secs := func(d Duration, def time.Duration) int64 {
		if d.Duration <= 0 {
			return int64(def / time.Second)
		}
		return int64(d.Duration / time.Second)
	}
	p := PaymentPlan{Kind: PaymodeKind(mode), RetrySeconds: secs(shop.RetryWait, 48*time.Hour)}
	switch p.Kind {
	case KindInstant:
		p.TimeoutSeconds = 300
	case KindOffline:
		p.TimeoutSeconds = secs(shop.OfflinePaymentWait, 14*24*time.Hour)
	default:
		p.TimeoutSeconds = secs(shop.OnlinePaymentWait, time.Hour)
	}
	return p
}
