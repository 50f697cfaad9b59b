package store

import (
	"context"
	"strconv"
	"strings"

	"github.com/lmsshop/checkout/internal/checkout"
)

// The cart's commands (checkout.CartCommands), each one mutation applied in one
// UpdateItem (Store.change): the domain's rule for the command becomes its condition
// expression here, and when that condition fails the same rule, run on the cart as it
// was, says why (checkout.Refusal).
var _ checkout.CartCommands = (*Store)(nil)

// mutation is one cart command as a DynamoDB update: its SET/REMOVE clauses, its own
// condition, the names and values they use, and its own rule, which the condition
// enforces, to explain a failure of it.
type mutation struct {
	set, remove []string
	cond        string
	names       map[string]string
	values      map[string]any
	own         func(c *checkout.Cart) error
	codes       int // item codes named so far
}

// code gives an item code its own name placeholder (#c0, #c1…) and returns it: item
// codes are the buyer's input and go in ExpressionAttributeNames, never in the
// expression's text. This counter rather than
// github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression: that module is in neither
// go.mod nor go.sum, and its builder makes an expression tree and renders every clause,
// the fixed ones every command shares included, with generated aliases on each call,
// where a command here only names one path per code and every cart request's CPU is
// measured (docs/bench); the shared clauses stay fixed strings (Store.update).
func (m *mutation) code(code string) string {
	if m.names == nil {
		m.names = map[string]string{}
	}
	p := "#c" + strconv.Itoa(m.codes)
	m.codes++
	m.names[p] = code
	return p
}

// SetLine sets an item's quantity. Quantity and position are distinct paths: a new line
// takes its place at the end (if_not_exists), an existing one keeps it.
func (st *Store) SetLine(ctx context.Context, w checkout.CartWrite, it *checkout.Item, q int) (*checkout.Cart, error) {
	var m mutation
	c := m.code(it.Code)
	m.set = []string{"#lines." + c + " = :q", "#ord." + c + " = if_not_exists(#ord." + c + ", :at)"}
	m.values = map[string]any{":q": q, ":at": st.now().UnixMilli(), ":max": checkout.MaxLines}
	// checkout.Cart.CanSetLine as a condition.
	m.cond = "attribute_exists(#lines." + c + ") OR size(#lines) < :max"
	if it.Locked() {
		m.cond = "(" + m.cond + ") AND attribute_exists(#unl." + c + ")"
		m.names["#unl"] = "unlocked"
	}
	m.names["#lines"], m.names["#ord"] = "lines", "lineOrder"
	m.own = func(was *checkout.Cart) error { return was.CanSetLine(it) }
	return st.change(ctx, w, m)
}

// RemoveLine removes an item with its required data.
func (st *Store) RemoveLine(ctx context.Context, w checkout.CartWrite, code string) (*checkout.Cart, error) {
	var m mutation
	c := m.code(code)
	m.remove = []string{"#lines." + c, "#ord." + c, "#req." + c}
	m.cond = "attribute_exists(#lines." + c + ")" // checkout.Cart.CanRemoveLine
	m.names["#lines"], m.names["#ord"], m.names["#req"] = "lines", "lineOrder", "required"
	m.own = func(was *checkout.Cart) error { return was.CanRemoveLine(code) }
	return st.change(ctx, w, m)
}

// Reset clears everything the buyer entered.
func (st *Store) Reset(ctx context.Context, w checkout.CartWrite) (*checkout.Cart, error) {
	return st.change(ctx, w, mutation{
		set:    []string{"#lines = :empty", "#ord = :empty", "#codes = :empty", "#unl = :empty", "#req = :empty"},
		remove: []string{"participants", "seats", "customer", "partner", "paidOrders", "partnerStats"},
		names:  map[string]string{"#lines": "lines", "#ord": "lineOrder", "#codes": "codes", "#unl": "unlocked", "#req": "required"},
		values: map[string]any{":empty": map[string]int{}},
	})
}

// AddCode records a discount code.
func (st *Store) AddCode(ctx context.Context, w checkout.CartWrite, code string) (*checkout.Cart, error) {
	return st.change(ctx, w, st.stamp("codes", code))
}

// RemoveCode forgets a discount code.
func (st *Store) RemoveCode(ctx context.Context, w checkout.CartWrite, code string) (*checkout.Cart, error) {
	var m mutation
	c := m.code(code)
	m.remove = []string{"#codes." + c}
	m.cond = "attribute_exists(#codes." + c + ")" // checkout.Cart.CanRemoveCode
	m.names["#codes"] = "codes"
	m.own = func(was *checkout.Cart) error { return was.CanRemoveCode(code) }
	return st.change(ctx, w, m)
}

// Unlock records a password-protected item as unlocked.
func (st *Store) Unlock(ctx context.Context, w checkout.CartWrite, code string) (*checkout.Cart, error) {
	return st.change(ctx, w, st.stamp("unlocked", code))
}

// stamp sets code in the map attribute attr to now (unix ms): the time the buyer added
// it, which orders the map's keys when the cart is read (keysByValue).
func (st *Store) stamp(attr, code string) mutation {
	var m mutation
	m.set = []string{"#m." + m.code(code) + " = :at"}
	m.names["#m"] = attr
	m.values = map[string]any{":at": st.now().UnixMilli()}
	return m
}

// SetRequirements replaces the per-unit data of the given lines.
func (st *Store) SetRequirements(ctx context.Context, w checkout.CartWrite, req map[string][]map[string]string) (*checkout.Cart, error) {
	m := mutation{names: map[string]string{}, values: map[string]any{}}
	conds := make([]string, 0, len(req))
	for code, units := range req {
		c := m.code(code)
		v := ":u" + c[2:] // the data of #cN is :uN
		m.values[v] = units
		m.set = append(m.set, "#req."+c+" = "+v)
		conds = append(conds, "attribute_exists(#lines."+c+")") // checkout.Cart.CanSetRequirements
	}
	m.cond = strings.Join(conds, " AND ")
	m.names["#lines"], m.names["#req"] = "lines", "required"
	m.own = func(was *checkout.Cart) error { return was.CanSetRequirements(req) }
	return st.change(ctx, w, m)
}

// SetSeats replaces participants and seat assignments.
func (st *Store) SetSeats(ctx context.Context, w checkout.CartWrite, people []checkout.Participant, seats []checkout.Assignment) (*checkout.Cart, error) {
	if people == nil {
		people = []checkout.Participant{}
	}
	if seats == nil {
		seats = []checkout.Assignment{}
	}
	m := mutation{set: []string{"#p = :p", "#s = :s"}, names: map[string]string{}, values: map[string]any{":p": people, ":s": seats}}
	named := map[string]bool{}
	var conds []string
	for _, a := range seats {
		if !named[a.Code] {
			named[a.Code] = true
			conds = append(conds, "attribute_exists(#lines."+m.code(a.Code)+")") // checkout.Cart.CanSetSeats
		}
	}
	m.cond = strings.Join(conds, " AND ")
	m.names["#p"], m.names["#s"], m.names["#lines"] = "participants", "seats", "lines"
	m.own = func(was *checkout.Cart) error { return was.CanSetSeats(seats) }
	return st.change(ctx, w, m)
}

// SetCustomer replaces the buyer's information and the snapshot of their earlier paid
// orders (Store.PaidOrders, read just before), which the discount rules then read from
// the cart.
func (st *Store) SetCustomer(ctx context.Context, w checkout.CartWrite, cu *checkout.Customer, paidOrders int) (*checkout.Cart, error) {
	return st.change(ctx, w, mutation{
		set:    []string{"#cu = :cu", "#po = :po"},
		names:  map[string]string{"#cu": "customer", "#po": "paidOrders"},
		values: map[string]any{":cu": cu, ":po": paidOrders},
	})
}
