package payment

import (
	"context"
	"fmt"
	"strings"

	"github.com/lmsshop/checkout/internal/checkout"
)

// Check is the "check" mode: the buyer posts a cheque and an operator records
// it, so the order stays PENDING meanwhile.
type Check struct{ cfg CheckConfig }

var _ Mode = (*Check)(nil)

// NewCheck validates c and returns the mode.
func NewCheck(c CheckConfig) (*Check, error) {
	if err := missing("Check", "Payee", c.Payee, "Address", c.Address); err != nil {
		return nil, err
	}
	return &Check{cfg: c}, nil
}

// Name implements Mode.
func (*Check) Name() string { return checkout.PaymodeCheck }

// Kind implements Mode.
func (*Check) Kind() Kind { return KindOffline }

// Start implements Mode.
func (m *Check) Start(_ context.Context, r Request) (Instructions, error) {
	if err := r.validate(); err != nil {
		return Instructions{}, err
	}
	amount, err := FormatAmount(r.Amount, r.Currency)
	if err != nil {
		return Instructions{}, err
	}
	text := m.cfg.Text
	if text == "" {
		text = fmt.Sprintf("Please send a cheque for %s %s payable to %s, to %s, writing the reference %s on its back.",
			amount, r.Currency, m.cfg.Payee, addressLine(m.cfg.Address), r.TxID)
	}
	return Instructions{Kind: InstructionsOffline, Offline: &Offline{
		Payee: m.cfg.Payee, Address: m.cfg.Address, Reference: r.TxID,
		Amount: r.Amount, Currency: r.Currency, Text: text,
	}}, nil
}

// addressLine joins a multi-line postal address for a sentence ("1 rue X, 75001 Paris").
func addressLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), ", ")
}
