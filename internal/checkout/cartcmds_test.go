package checkout_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
)

func TestHashTokenKeepsNoCredential(t *testing.T) {
	h := checkout.HashToken("secret-token")
	if len(h) != 64 || strings.Contains(h, "secret") || h != checkout.HashToken("secret-token") || h == checkout.HashToken("secret-tokeN") {
		t.Errorf("HashToken = %q: want a stable 64-hex-digit digest that differs per token", h)
	}
	tests := []struct {
		name          string
		stored, given string
		want          bool
	}{
		{"the holder's hash", h, h, true},
		{"another token's hash", h, checkout.HashToken("other"), false},
		{"no hash given", h, "", false},
		{"a record stored without hash opens to nobody", "", "", false},
		{"a record stored without hash, any hash given", "", h, false},
	}
	for _, tt := range tests {
		if got := checkout.TokenOpens(tt.stored, tt.given); got != tt.want {
			t.Errorf("%s: TokenOpens = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// cart is a cart of the holder of token "tok", expiring in an hour from now, with
// lines of the given codes.
func cart(now time.Time, codes ...string) *checkout.Cart {
	c := &checkout.Cart{TxID: "TX1", TokenHash: checkout.HashToken("tok"), ExpiresAt: now.Add(time.Hour)}
	for _, code := range codes {
		c.Lines = append(c.Lines, checkout.Line{Code: code, Quantity: 1})
	}
	return c
}

// The rules every cart command shares, and which refusals tell that the caller does not
// hold the cart (and so may not write to its trace).
func TestCartCanChange(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		cart      func() *checkout.Cart
		token     string
		want      checkout.Kind // "" for allowed
		notHolder bool          // the refusal says the caller does not hold the cart
	}{
		{"the holder, in time", func() *checkout.Cart { return cart(now) }, "tok", "", false},
		{"another token", func() *checkout.Cart { return cart(now) }, "other", checkout.EFORBIDDEN, true},
		{"a cart stored without token hash", func() *checkout.Cart { c := cart(now); c.TokenHash = ""; return c }, "", checkout.EFORBIDDEN, true},
		{"expired at this very second", func() *checkout.Cart { c := cart(now); c.ExpiresAt = now; return c }, "tok", checkout.EGONE, false},
		{"expired, another token: the token is checked first", func() *checkout.Cart { c := cart(now); c.ExpiresAt = now.Add(-time.Hour); return c }, "other", checkout.EFORBIDDEN, true},
		{"placed", func() *checkout.Cart { c := cart(now); c.Placed = true; return c }, "tok", checkout.ECONFLICT, false},
	}
	for _, tt := range tests {
		err := tt.cart().CanChange(checkout.HashToken(tt.token), now)
		if got := kindOrNone(err); got != tt.want {
			t.Errorf("%s: CanChange = %v, want kind %q", tt.name, err, tt.want)
		}
		if got := checkout.NotHolder(err); got != tt.notHolder {
			t.Errorf("%s: NotHolder(%v) = %v, want %v", tt.name, err, got, tt.notHolder)
		}
	}
	// Open is the same rule for reads, which a placed cart allows.
	placed := cart(now)
	placed.Placed = true
	if err := placed.Open(checkout.HashToken("tok"), now); err != nil {
		t.Errorf("Open(placed cart) = %v, want nil: its holder may still read it", err)
	}
}

func kindOrNone(err error) checkout.Kind {
	if err == nil {
		return ""
	}
	return checkout.KindOf(err)
}

// Each command's own rule, as the store's conditions enforce it, with the kind and
// message of its refusal.
func TestCartCommandRules(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	open := &checkout.Item{Code: "GO-101"}
	locked := &checkout.Item{Code: "VIP-1", Password: "s3cret"}
	full := make([]string, checkout.MaxLines)
	for i := range full {
		full[i] = fmt.Sprintf("C%02d", i)
	}
	unlocked := cart(now)
	unlocked.Unlocked = []string{"VIP-1"}
	withCode := cart(now)
	withCode.Codes = []string{"SPRING"}
	tests := []struct {
		name    string
		rule    func() error
		want    checkout.Kind
		message string // part of the error's text
	}{
		{"a new line in an empty cart", func() error { return cart(now).CanSetLine(open) }, "", ""},
		{"a new line in a cart with room for one more", func() error { return cart(now, full[1:]...).CanSetLine(open) }, "", ""},
		{"a new line in a full cart", func() error { return cart(now, full...).CanSetLine(open) }, checkout.EINVALID, fmt.Sprintf("at most %d lines", checkout.MaxLines)},
		{"a line of a full cart changes", func() error { return cart(now, full...).CanSetLine(&checkout.Item{Code: "C07"}) }, "", ""},
		{"a locked item never unlocked", func() error { return cart(now).CanSetLine(locked) }, checkout.EFORBIDDEN, "unlock it first"},
		{"a locked item, full cart: the lock is told first", func() error { return cart(now, full...).CanSetLine(locked) }, checkout.EFORBIDDEN, "unlock it first"},
		{"an unlocked item", func() error { return unlocked.CanSetLine(locked) }, "", ""},
		{"removing a line of the cart", func() error { return cart(now, "GO-101").CanRemoveLine("GO-101") }, "", ""},
		{"removing a line not in the cart", func() error { return cart(now).CanRemoveLine("GO-101") }, checkout.ENOTFOUND, "GO-101 is not in the cart"},
		{"removing a code of the cart", func() error { return withCode.CanRemoveCode("SPRING") }, "", ""},
		{"removing a code not in the cart", func() error { return withCode.CanRemoveCode("NOPE") }, checkout.ENOTFOUND, "code NOPE is not in the cart"},
		{"data for lines of the cart", func() error {
			return cart(now, "A", "B").CanSetRequirements(map[string][]map[string]string{"A": nil, "B": nil})
		}, "", ""},
		{"data for items not in the cart, each named", func() error {
			return cart(now, "A").CanSetRequirements(map[string][]map[string]string{"A": nil, "Z": nil, "Y": nil})
		}, checkout.EINVALID, "Y: is not a line of this cart; Z: is not a line of this cart"},
		{"seats on lines of the cart", func() error {
			return cart(now, "A").CanSetSeats([]checkout.Assignment{{Code: "A", Email: "a@x.eu"}, {Code: "A", Email: "b@x.eu"}})
		}, "", ""},
		{"seats on an item not in the cart, named once", func() error {
			return cart(now, "A").CanSetSeats([]checkout.Assignment{{Code: "Z", Email: "a@x.eu"}, {Code: "Z", Email: "b@x.eu"}})
		}, checkout.EINVALID, "invalid seats; seats: Z is not a line of this cart"},
	}
	for _, tt := range tests {
		err := tt.rule()
		if got := kindOrNone(err); got != tt.want {
			t.Errorf("%s: %v, want kind %q", tt.name, err, tt.want)
			continue
		}
		if err != nil && (!strings.Contains(err.Error(), tt.message) || strings.Count(err.Error(), tt.message) != 1) {
			t.Errorf("%s: %q, want it to say %q once", tt.name, err, tt.message)
		}
	}
}

// Refusal: which rule a refused command broke, from the cart as it was.
func TestCartRefusal(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	full := make([]string, checkout.MaxLines)
	for i := range full {
		full[i] = fmt.Sprintf("C%02d", i)
	}
	setLine := func(c *checkout.Cart) error { return c.CanSetLine(&checkout.Item{Code: "NEW"}) }
	placedFull := cart(now, full...)
	placedFull.Placed = true
	tests := []struct {
		name       string
		was        *checkout.Cart
		token      string
		own        func(*checkout.Cart) error
		want       checkout.Kind
		notHolder  bool
		mentioning string
	}{
		{"no cart", nil, "tok", setLine, checkout.ENOTFOUND, true, "no cart TX1"},
		{"another token, full cart", cart(now, full...), "other", setLine, checkout.EFORBIDDEN, true, "does not open cart TX1"},
		{"placed, full cart: the placement is told", placedFull, "tok", setLine, checkout.ECONFLICT, false, "placed"},
		{"full cart", cart(now, full...), "tok", setLine, checkout.EINVALID, false, "at most"},
		{"every rule holds: another window changed the cart", cart(now), "tok", setLine, checkout.ECONFLICT, false, "changed meanwhile"},
		{"a command with no rule of its own", cart(now), "tok", nil, checkout.ECONFLICT, false, "changed meanwhile"},
	}
	for _, tt := range tests {
		err := checkout.Refusal("TX1", tt.was, checkout.HashToken(tt.token), now, tt.own)
		if checkout.KindOf(err) != tt.want || checkout.NotHolder(err) != tt.notHolder || !strings.Contains(err.Error(), tt.mentioning) {
			t.Errorf("%s: Refusal = %v (not holder %v), want kind %q, not holder %v, mentioning %q",
				tt.name, err, checkout.NotHolder(err), tt.want, tt.notHolder, tt.mentioning)
		}
	}
}

func TestPasswordMatches(t *testing.T) {
	locked := &checkout.Item{Code: "VIP-1", Password: "vip-2026"}
	tests := []struct {
		name     string
		it       *checkout.Item
		password string
		want     bool
	}{
		{"the password", locked, "vip-2026", true},
		{"another password", locked, "vip-2027", false},
		{"a prefix of it", locked, "vip", false},
		{"no password given", locked, "", false},
		{"an item without password, none given", &checkout.Item{Code: "GO-101"}, "", false},
	}
	for _, tt := range tests {
		if got := checkout.PasswordMatches(tt.it, tt.password); got != tt.want {
			t.Errorf("%s: PasswordMatches = %v, want %v", tt.name, got, tt.want)
		}
	}
}
