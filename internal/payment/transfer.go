package payment

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/lmsshop/checkout/internal/checkout"
)

// Transfer is the "transfer" mode: the buyer wires the money quoting the
// transaction ID and an operator records it.
type Transfer struct {
	cfg  TransferConfig
	iban string // normalised: upper case, no spaces
}

var _ Mode = (*Transfer)(nil)

// NewTransfer validates c, including the IBAN checksum and BIC format, and
// returns the mode. Checking here means a typo in the bank details is caught
// at deployment rather than by a buyer whose transfer bounces.
func NewTransfer(c TransferConfig) (*Transfer, error) {
	if err := missing("Transfer", "Payee", c.Payee, "IBAN", c.IBAN, "BIC", c.BIC); err != nil {
		return nil, err
	}
	iban, err := NormalizeIBAN(c.IBAN)
	if err != nil {
		return nil, fmt.Errorf("Transfer.IBAN: %w", err)
	}
	bic := strings.ToUpper(strings.ReplaceAll(c.BIC, " ", ""))
	if err := ValidateBIC(bic); err != nil {
		return nil, fmt.Errorf("Transfer.BIC: %w", err)
	}
	c.BIC = bic
	return &Transfer{cfg: c, iban: iban}, nil
}

// Name implements Mode.
func (*Transfer) Name() string { return checkout.PaymodeTransfer }

// Kind implements Mode.
func (*Transfer) Kind() Kind { return KindOffline }

// Start implements Mode.
func (m *Transfer) Start(_ context.Context, r Request) (Instructions, error) {
	if err := r.validate(); err != nil {
		return Instructions{}, err
	}
	amount, err := FormatAmount(r.Amount, r.Currency)
	if err != nil {
		return Instructions{}, err
	}
	iban := groupIBAN(m.iban)
	text := m.cfg.Text
	if text == "" {
		text = fmt.Sprintf("Please transfer %s %s to %s, IBAN %s, BIC %s, quoting the reference %s.",
			amount, r.Currency, m.cfg.Payee, iban, m.cfg.BIC, r.TxID)
	}
	return Instructions{Kind: InstructionsOffline, Offline: &Offline{
		Payee: m.cfg.Payee, Address: m.cfg.Address, IBAN: iban, BIC: m.cfg.BIC,
		Reference: r.TxID, Amount: r.Amount, Currency: r.Currency, Text: text,
	}}, nil
}

// ibanLengths holds the IBAN length of common countries; an IBAN from a
// country not listed is checked by checksum only.
var ibanLengths = map[string]int{
	"AT": 20, "BE": 16, "CH": 21, "CZ": 24, "DE": 22, "DK": 18, "ES": 24, "FI": 18,
	"FR": 27, "GB": 22, "GR": 27, "IE": 22, "IT": 27, "LU": 20, "MC": 27, "NL": 18,
	"NO": 15, "PL": 28, "PT": 25, "SE": 24,
}

// NormalizeIBAN removes spaces, upper-cases iban and checks its structure and
// ISO 13616 mod-97 checksum.
func NormalizeIBAN(iban string) (string, error) {
	s := strings.ToUpper(strings.Join(strings.Fields(iban), ""))
	if len(s) < 15 || len(s) > 34 {
		return "", fmt.Errorf("IBAN %q: length %d not in 15..34", iban, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'A' && c <= 'Z'
		digit := c >= '0' && c <= '9'
		if (i < 2 && !letter) || (i >= 2 && i < 4 && !digit) || (!letter && !digit) {
			return "", fmt.Errorf("IBAN %q: unexpected character %q at %d", iban, c, i)
		}
	}
	if n, ok := ibanLengths[s[:2]]; ok && len(s) != n {
		return "", fmt.Errorf("IBAN %q: %s IBANs have %d characters, not %d", iban, s[:2], n, len(s))
	}
	// Move the country and check digits to the end, turn letters into
	// numbers (A=10 … Z=35), and the result mod 97 must be 1.
	var digits strings.Builder
	for _, c := range s[4:] + s[:4] {
		if c >= 'A' {
			fmt.Fprintf(&digits, "%d", c-'A'+10)
		} else {
			digits.WriteRune(c)
		}
	}
	n, _ := new(big.Int).SetString(digits.String(), 10)
	if new(big.Int).Mod(n, big.NewInt(97)).Int64() != 1 {
		return "", errors.New("IBAN " + iban + ": checksum mismatch")
	}
	return s, nil
}

// ValidateBIC checks the ISO 9362 shape of a BIC: 4 letters (bank), 2 letters
// (country), 2 letters or digits (location), optionally 3 more (branch).
func ValidateBIC(bic string) error {
	if len(bic) != 8 && len(bic) != 11 {
		return fmt.Errorf("BIC %q: must have 8 or 11 characters", bic)
	}
	for i := 0; i < len(bic); i++ {
		c := bic[i]
		letter := c >= 'A' && c <= 'Z'
		digit := c >= '0' && c <= '9'
		if (i < 6 && !letter) || (!letter && !digit) {
			return fmt.Errorf("BIC %q: unexpected character %q at %d", bic, c, i)
		}
	}
	return nil
}

// groupIBAN prints an IBAN in groups of four, as banks do.
func groupIBAN(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}
