package store

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lmsshop/checkout/internal/checkout"
)

// The cart commands of the purchase steps, each one Mutation (one UpdateItem). The
// domain has validated the input against the catalog; these add what only the stored
// cart can tell, as conditions.

// SetLine sets an item's quantity (q > 0, already clamped). A password-protected item
// must have been unlocked; a new line needs room in the cart.
func SetLine(it *checkout.Item, q int, nowMs int64) Mutation {
	// Quantity and position are distinct paths: a new line takes its place at the end
	// (if_not_exists), an existing one keeps it.
	m := Mutation{
		Set:    []string{"#lines.#c = :q", "#ord.#c = if_not_exists(#ord.#c, :at)"},
		Names:  map[string]string{"#lines": "lines", "#ord": "lineOrder", "#c": it.Code},
		Values: map[string]any{":q": q, ":at": nowMs, ":max": checkout.MaxLines},
	}
	m.Condition = "attribute_exists(#lines.#c) OR size(#lines) < :max"
	if it.Password != "" {
		m.Condition = "(" + m.Condition + ") AND attribute_exists(#unl.#c)"
		m.Names["#unl"] = "unlocked"
	}
	m.Refused = func(c *checkout.Cart) error {
		if it.Password != "" && !slices.Contains(c.Unlocked, it.Code) {
			return checkout.Errorf("cart.setLine", checkout.EFORBIDDEN, "item %s is password-protected: unlock it first", it.Code)
		}
		return checkout.Errorf("cart.setLine", checkout.EINVALID, "a cart holds at most %d lines", checkout.MaxLines)
	}
	return m
}

// RemoveLine removes an item with its required data and seats.
func RemoveLine(code string) Mutation {
	return Mutation{
		Remove:    []string{"#lines.#c", "#ord.#c", "#req.#c"},
		Condition: "attribute_exists(#lines.#c)",
		Names:     map[string]string{"#lines": "lines", "#ord": "lineOrder", "#req": "required", "#c": code},
		Refused: func(*checkout.Cart) error {
			return checkout.Errorf("cart.removeLine", checkout.ENOTFOUND, "%s is not in the cart", code)
		},
	}
}

// Reset clears everything the buyer entered; the transaction ID and token stay.
func Reset() Mutation {
	return Mutation{
		Set:    []string{"#lines = :empty", "#ord = :empty", "#codes = :empty", "#unl = :empty", "#req = :empty"},
		Remove: []string{"participants", "seats", "customer", "partner", "paidOrders", "partnerStats"},
		Names:  map[string]string{"#lines": "lines", "#ord": "lineOrder", "#codes": "codes", "#unl": "unlocked", "#req": "required"},
		Values: map[string]any{":empty": map[string]int{}},
	}
}

// AddCode records a discount code (validated by pricing beforehand).
func AddCode(code string, nowMs int64) Mutation {
	return Mutation{
		Set:    []string{"#codes.#c = :at"},
		Names:  map[string]string{"#codes": "codes", "#c": code},
		Values: map[string]any{":at": nowMs},
	}
}

// RemoveCode forgets a discount code.
func RemoveCode(code string) Mutation {
	return Mutation{
		Remove:    []string{"#codes.#c"},
		Condition: "attribute_exists(#codes.#c)",
		Names:     map[string]string{"#codes": "codes", "#c": code},
		Refused: func(*checkout.Cart) error {
			return checkout.Errorf("cart.removeCode", checkout.ENOTFOUND, "code %s is not in the cart", code)
		},
	}
}

// Unlock records a password-protected item as unlocked (password checked beforehand).
func Unlock(code string, nowMs int64) Mutation {
	return Mutation{
		Set:    []string{"#unl.#c = :at"},
		Names:  map[string]string{"#unl": "unlocked", "#c": code},
		Values: map[string]any{":at": nowMs},
	}
}

// SetRequirements replaces the per-unit data of the given lines, which must be in the cart.
func SetRequirements(in map[string][]map[string]string) Mutation {
	m := Mutation{Names: map[string]string{"#lines": "lines", "#req": "required"}, Values: map[string]any{}}
	var conds []string
	i := 0
	var codes []string
	for code, units := range in {
		cn, vn := fmt.Sprintf("#c%d", i), fmt.Sprintf(":u%d", i)
		m.Names[cn] = code
		m.Values[vn] = units
		m.Set = append(m.Set, fmt.Sprintf("#req.%s = %s", cn, vn))
		conds = append(conds, fmt.Sprintf("attribute_exists(#lines.%s)", cn))
		codes = append(codes, code)
		i++
	}
	m.Condition = strings.Join(conds, " AND ")
	m.Refused = func(c *checkout.Cart) error {
		var f checkout.Fields
		for _, code := range codes {
			if _, ok := c.Line(code); !ok {
				f.Add(code, "is not a line of this cart")
			}
		}
		return checkout.Invalid("cart.setRequirements", "invalid required data", f...)
	}
	return m
}

// SetSeats replaces participants and seat assignments; every item assigned must be a
// line of the cart.
func SetSeats(people []checkout.Participant, seats []checkout.Assignment) Mutation {
	m := Mutation{
		Set:    []string{"#p = :p", "#s = :s"},
		Names:  map[string]string{"#p": "participants", "#s": "seats", "#lines": "lines"},
		Values: map[string]any{":p": people, ":s": seats},
	}
	if people == nil {
		m.Values[":p"] = []checkout.Participant{}
	}
	if seats == nil {
		m.Values[":s"] = []checkout.Assignment{}
	}
	seen := map[string]string{}
	var conds []string
	for _, a := range seats {
		if _, ok := seen[a.Code]; ok {
			continue
		}
		cn := fmt.Sprintf("#c%d", len(seen))
		seen[a.Code] = cn
		m.Names[cn] = a.Code
		conds = append(conds, fmt.Sprintf("attribute_exists(#lines.%s)", cn))
	}
	m.Condition = strings.Join(conds, " AND ")
	m.Refused = func(c *checkout.Cart) error {
		var f checkout.Fields
		for code := range seen {
			if _, ok := c.Line(code); !ok {
				f.Add("seats", "%s is not a line of this cart", code)
			}
		}
		return checkout.Invalid("cart.setSeats", "invalid seats", f...)
	}
	return m
}

// SetCustomer replaces the buyer's information and the snapshot of their earlier paid
// orders (Store.PaidOrders, read just before), which the discount rules then read from
// the cart.
func SetCustomer(c *checkout.Customer, paidOrders int) Mutation {
	return Mutation{
		Set:    []string{"#cu = :cu", "#po = :po"},
		Names:  map[string]string{"#cu": "customer", "#po": "paidOrders"},
		Values: map[string]any{":cu": c, ":po": paidOrders},
	}
}
