package payment

import "github.com/lmsshop/checkout/internal/checkout"

// ModeFor returns the payment mode named name, among those configured for this
// deployment (NewModes). Cheques and transfers are described by the shop's own
// settings when it has them, so an operator changes them in the back office without
// redeploying; the test mode needs nothing.
func ModeFor(shop *checkout.Shop, name string, configured map[string]Mode) (Mode, error) {
	switch {
	case name == checkout.PaymodeCheck && shop.CheckPayee != "" && shop.CheckAddress != "":
		return NewCheck(CheckConfig{Payee: shop.CheckPayee, Address: shop.CheckAddress})
	case name == checkout.PaymodeTransfer && shop.IBAN != "" && shop.BIC != "":
		payee := shop.SellerName
		if payee == "" {
			payee = shop.Name
		}
		return NewTransfer(TransferConfig{Payee: payee, IBAN: shop.IBAN, BIC: shop.BIC})
	case name == checkout.PaymodeFreeOrder:
		return FreeOrder{}, nil
	case name == checkout.PaymodeTest:
		if !shop.TestMode {
			return nil, checkout.Errorf("payment.mode", checkout.EINVALID, "the test mode is offered only by shops in test mode")
		}
		return TestMode{}, nil
	}
	if m, ok := configured[name]; ok {
		return m, nil
	}
	return nil, checkout.Errorf("payment.mode", checkout.EINVALID, "payment mode %q is not available", name)
}

// Offered lists the payment modes a buyer may choose for an order of this total in
// this shop: those the checkout allows (checkout.Offered: only freeorder for a zero
// total, test only in a test shop) that this deployment can run
// (docs/spec.md#which-modes-are-offered).
func Offered(shop *checkout.Shop, total int64, configured map[string]Mode) []string {
	out := []string{}
	for _, m := range checkout.Offered(shop, total) {
		if _, err := ModeFor(shop, m, configured); err == nil {
			out = append(out, m)
		}
	}
	return out
}
