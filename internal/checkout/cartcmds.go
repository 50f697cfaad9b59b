package checkout

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/lmsshop/checkout/internal/trace"
)

// CartCommands are the commands that change a cart. Each is one write to the store
// (internal/store implements them with one UpdateItem each, a PutItem at creation), and
// the rules below are its conditions: the store checks them in that same write, so two
// windows editing one cart never see a rule checked against a cart that changed since.
//
// Every command but CreateCart applies the rules all changes share (CanChange: the
// caller holds the cart, it has not expired, its order is not placed) and then its own
// (the Can… functions), and answers the cart as it now is. A refused command changes
// nothing and answers the error of the first rule that refused it (Refusal). What the
// domain can check without the cart (LineQuantity, PasswordMatches, CleanRequirements,
// CleanSeats, Customer.Validate) is checked by the caller before the command.
type CartCommands interface {
	// CreateCart stores c, a new cart, with the trace lines notes in the same write. A
	// retried creation of the same cart (same token) succeeds; a transaction ID already
	// in use by another cart → ECONFLICT.
	CreateCart(ctx context.Context, c *Cart, notes ...trace.Line) error
	// SetLine sets the quantity of item it to q, which LineQuantity returned (> 0; zero
	// is RemoveLine), under CanSetLine. A new line goes to the end of the cart; an
	// existing one keeps its place.
	SetLine(ctx context.Context, w CartWrite, it *Item, q int) (*Cart, error)
	// RemoveLine removes the line of code with its required data, under CanRemoveLine.
	RemoveLine(ctx context.Context, w CartWrite, code string) (*Cart, error)
	// Reset clears everything the buyer entered (lines, codes, unlocked items, data,
	// seats, customer, partner and their snapshots); the transaction ID and token stay.
	Reset(ctx context.Context, w CartWrite) (*Cart, error)
	// AddCode records a discount code that pricing accepted for this shop.
	AddCode(ctx context.Context, w CartWrite, code string) (*Cart, error)
	// RemoveCode forgets a discount code, under CanRemoveCode.
	RemoveCode(ctx context.Context, w CartWrite, code string) (*Cart, error)
	// Unlock records the password-protected item code as unlocked; the caller has
	// checked the password (PasswordMatches).
	Unlock(ctx context.Context, w CartWrite, code string) (*Cart, error)
	// SetRequirements replaces the per-unit data of the lines named in req (code → unit
	// → field → value, as CleanRequirements returned it), under CanSetRequirements.
	SetRequirements(ctx context.Context, w CartWrite, req map[string][]map[string]string) (*Cart, error)
	// SetSeats replaces the participants and seat assignments (as CleanSeats checked
	// them), under CanSetSeats.
	SetSeats(ctx context.Context, w CartWrite, people []Participant, seats []Assignment) (*Cart, error)
	// SetCustomer replaces the buyer's information and the snapshot of their earlier
	// paid orders (see Cart.PaidOrders), read just before.
	SetCustomer(ctx context.Context, w CartWrite, c *Customer, paidOrders int) (*Cart, error)
}

// MaxLineQuantity bounds a line's quantity whatever the item says: beyond it a request
// is absurd rather than a big order, and amounts stay far from overflow.
const MaxLineQuantity = 10000

// MaxLines bounds the number of lines in a cart.
const MaxLines = 50

// LineQuantity checks a requested quantity for an item and returns the quantity kept:
// clamped to maxQuantity, one for oneSeat items, 0 meaning "remove the line".
func LineQuantity(it *Item, q int) (int, error) {
	const op = "cart.setLine"
	if !it.Sellable() {
		return 0, Errorf(op, EINVALID, "item %s is not for sale", it.Code)
	}
	if q < 0 || q > MaxLineQuantity {
		return 0, Invalid(op, "quantity out of range", FieldError{Field: "quantity", Message: fmt.Sprintf("must be between 0 and %d", MaxLineQuantity)})
	}
	if q > 0 && it.Seats == SeatsOne {
		q = 1
	}
	if it.MaxQuantity > 0 && q > it.MaxQuantity {
		q = it.MaxQuantity
	}
	return q, nil
}

// PasswordMatches reports whether password unlocks the item, compared in constant time;
// an item without a password has none to match.
func PasswordMatches(it *Item, password string) bool {
	return it.Password != "" && subtle.ConstantTimeCompare([]byte(it.Password), []byte(password)) == 1
}

// CartWrite is what every cart command carries besides its own arguments: which cart,
// the proof that the caller holds it, how long it lives on, and the step's trace line.
type CartWrite struct {
	TxID string
	// TokenHash is HashToken of the caller's cart token.
	TokenHash string
	// TTL is how long the cart lives after this change: every command renews it.
	TTL time.Duration
	// Note is the command's trace line, stored with the change itself: only a caller
	// the command's rules prove to hold the cart may write to its trace, and the line is
	// stored exactly when the change is. Zero: no line.
	Note trace.Line
}

// HashToken is how a cart token is kept and compared: only its SHA-256, so the table
// never holds a credential.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TokenOpens reports whether a caller's token hash opens a cart or order holding
// stored, in constant time. A record with no stored hash opens to nobody: an empty hash
// is a record written wrong, never "no check".
func TokenOpens(stored, given string) bool {
	return stored != "" && subtle.ConstantTimeCompare([]byte(stored), []byte(given)) == 1
}

// opCartAccess is the operation of the errors that refuse a caller who does not hold
// the cart (no such cart, another token): see NotHolder.
const opCartAccess = "cart.access"

// NoCart is the refusal of a transaction ID that has no cart (or whose cart DynamoDB
// has deleted): ENOTFOUND.
func NoCart(txid string) error {
	return Errorf(opCartAccess, ENOTFOUND, "no cart %s", txid)
}

// NotHolder reports whether err refused the caller for not holding the cart (no such
// cart, or another token), before anything about the cart itself was checked: such a
// caller is not authenticated and may not write to the cart's trace.
func NotHolder(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Op == opCartAccess
}

// Open applies the rules every cart call shares, reads included: the token hash must
// open the cart (else EFORBIDDEN), and the cart must not have expired (else EGONE, even
// if DynamoDB has not deleted it yet).
func (c *Cart) Open(tokenHash string, now time.Time) error {
	if !TokenOpens(c.TokenHash, tokenHash) {
		return Errorf(opCartAccess, EFORBIDDEN, "this cart token does not open cart %s", c.TxID)
	}
	if c.Expired(now) {
		return Errorf("cart.open", EGONE, "cart %s has expired", c.TxID)
	}
	return nil
}

// CanChange is the rule every cart command shares: Open, and the cart's order is not
// placed (else ECONFLICT: a placed cart no longer changes).
func (c *Cart) CanChange(tokenHash string, now time.Time) error {
	if err := c.Open(tokenHash, now); err != nil {
		return err
	}
	if c.Placed {
		return Errorf("cart.change", ECONFLICT, "the order of cart %s is placed: it can no longer change", c.TxID)
	}
	return nil
}

// Locked reports whether the item must be unlocked with its password before it can be
// put in a cart.
func (it *Item) Locked() bool { return it.Password != "" }

// CanSetLine is SetLine's own rule: a password-protected item must have been unlocked
// (else EFORBIDDEN), and a new line needs room, the cart holding at most MaxLines
// (else EINVALID).
func (c *Cart) CanSetLine(it *Item) error {
	const op = "cart.setLine"
	if it.Locked() && !slices.Contains(c.Unlocked, it.Code) {
		return Errorf(op, EFORBIDDEN, "item %s is password-protected: unlock it first", it.Code)
	}
	if _, ok := c.Line(it.Code); !ok && len(c.Lines) >= MaxLines {
		return Errorf(op, EINVALID, "a cart holds at most %d lines", MaxLines)
	}
	return nil
}

// CanRemoveLine is RemoveLine's own rule: the item is a line of the cart (else
// ENOTFOUND).
func (c *Cart) CanRemoveLine(code string) error {
	if _, ok := c.Line(code); !ok {
		return Errorf("cart.removeLine", ENOTFOUND, "%s is not in the cart", code)
	}
	return nil
}

// CanRemoveCode is RemoveCode's own rule: the code is in the cart (else ENOTFOUND).
func (c *Cart) CanRemoveCode(code string) error {
	if !slices.Contains(c.Codes, code) {
		return Errorf("cart.removeCode", ENOTFOUND, "code %s is not in the cart", code)
	}
	return nil
}

// CanSetRequirements is SetRequirements' own rule: every item given data is a line of
// the cart (else EINVALID, one field per item).
func (c *Cart) CanSetRequirements(req map[string][]map[string]string) error {
	var f Fields
	for _, code := range slices.Sorted(maps.Keys(req)) {
		if _, ok := c.Line(code); !ok {
			f.Add(code, "is not a line of this cart")
		}
	}
	return f.Err("cart.setRequirements", "invalid required data")
}

// CanSetSeats is SetSeats' own rule: every item a seat is assigned on is a line of the
// cart (else EINVALID on the field seats).
func (c *Cart) CanSetSeats(seats []Assignment) error {
	var f Fields
	seen := map[string]bool{}
	for _, a := range seats {
		if seen[a.Code] {
			continue
		}
		seen[a.Code] = true
		if _, ok := c.Line(a.Code); !ok {
			f.Add("seats", "%s is not a line of this cart", a.Code)
		}
	}
	return f.Err("cart.setSeats", "invalid seats")
}

// Refusal explains a refused cart command from the cart as it was when refused (nil:
// there was none) and the command's own rule (nil: it has none): the first rule that
// fails, in the order NoCart, CanChange, own. When every rule holds of that cart, the
// cart changed between the rule's check and the write (another window's command): then
// ECONFLICT, to reload it.
func Refusal(txid string, was *Cart, tokenHash string, now time.Time, own func(*Cart) error) error {
	if was == nil {
		return NoCart(txid)
	}
	if err := was.CanChange(tokenHash, now); err != nil {
		return err
	}
	if own != nil {
		if err := own(was); err != nil {
			return err
		}
	}
	return Errorf("cart.change", ECONFLICT, "the cart changed meanwhile; reload it")
}
