package checkout

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// StepState tells the client whether a step applies, whether it is complete and what is
// missing, so the storefront can skip empty steps in both directions and the server can
// refuse to place an incomplete order.
type StepState struct {
	Name     string       `json:"name"`
	Applies  bool         `json:"applies"`
	Complete bool         `json:"complete"`
	Missing  []FieldError `json:"missing,omitempty"`
}

// Checker is the product handlers' own rule on a required datum (e.g. "this course short
// name is free"); nil accepts everything. It may reach the LMS, so it runs when data is
// entered and at placement, not at every view.
type Checker func(ctx context.Context, handler, field, value string) error

// Steps evaluates every pre-placement step of the shop, in its configured order
// (docs/spec.md#skip-rules). Whether PURCHASEREQUIS and USERS apply depends on the cart,
// not on the shop's list: a list may leave them out (a shop selling nothing with seats
// or data needs neither), but when the cart needs one the list left out it is still
// evaluated, just before ORDER, so the storefront shows it and placement refuses the
// order until it is complete rather than placing it without participants or data.
func Steps(shop *Shop, cat *Catalog, c *Cart) []StepState {
	var out []StepState
	for _, name := range stepsFor(shop, cat, c) {
		state := StepState{Name: name, Applies: true}
		switch name {
		case StepShop:
			if len(c.Lines) == 0 {
				state.Missing = append(state.Missing, FieldError{Field: "lines", Message: "the cart is empty"})
			}
			// An item suspended or withdrawn since it entered the cart is not sold:
			// placement refuses it rather than pricing it or dropping it silently.
			for _, l := range c.Lines {
				it, ok := cat.Item(l.Code)
				switch {
				case !ok:
					state.Missing = append(state.Missing, FieldError{Field: "lines." + l.Code, Message: "is no longer in the catalog: remove it"})
				case !it.Sellable():
					state.Missing = append(state.Missing, FieldError{Field: "lines." + l.Code, Message: fmt.Sprintf("is not on sale (%s): remove it", it.Status)})
				}
			}
		case StepRequirements:
			state.Applies = needsRequirements(cat, c)
			state.Missing = RequirementErrors(cat, c)
		case StepUsers:
			state.Applies = len(SeatsNeeded(c, cat)) > 0
			state.Missing = SeatErrors(shop, cat, c)
		case StepCustomer:
			if c.Customer == nil {
				state.Missing = append(state.Missing, FieldError{Field: "customer", Message: "the buyer's information is missing"})
			} else if err := c.Customer.Validate(cat); err != nil {
				if e, ok := err.(*Error); ok {
					for _, f := range e.Fields {
						state.Missing = append(state.Missing, FieldError{Field: "customer." + f.Field, Message: f.Message})
					}
				}
			}
		case StepOrder:
			// Terms and payment mode are given with the placement request itself.
		}
		state.Complete = !state.Applies || len(state.Missing) == 0
		if !state.Applies {
			state.Missing = nil
		}
		out = append(out, state)
	}
	return out
}

// stepsFor is the shop's step order with, before ORDER, every data-collecting step the
// list leaves out but the cart needs.
func stepsFor(shop *Shop, cat *Catalog, c *Cart) []string {
	order := shop.StepOrder()
	var added []string
	if !slices.Contains(order, StepRequirements) && needsRequirements(cat, c) {
		added = append(added, StepRequirements)
	}
	if !slices.Contains(order, StepUsers) && len(SeatsNeeded(c, cat)) > 0 {
		added = append(added, StepUsers)
	}
	if len(added) == 0 {
		return order
	}
	at := len(order)
	if i := slices.Index(order, StepOrder); i >= 0 {
		at = i
	}
	return slices.Concat(order[:at], added, order[at:])
}

// Incomplete lists what stops placement, step by step.
func Incomplete(steps []StepState) []FieldError {
	var out []FieldError
	for _, s := range steps {
		if s.Applies && !s.Complete {
			for _, m := range s.Missing {
				out = append(out, FieldError{Field: s.Name + ":" + m.Field, Message: m.Message})
			}
		}
	}
	return out
}

func needsRequirements(cat *Catalog, c *Cart) bool {
	for _, l := range c.Lines {
		if it, ok := cat.Item(l.Code); ok && len(it.RequiredData) > 0 {
			return true
		}
	}
	return false
}

// RequirementErrors validates the per-unit data of every line that needs some; errors
// are addressed "CODE[unit].field" (units counted from 1).
func RequirementErrors(cat *Catalog, c *Cart) []FieldError {
	var f Fields
	for _, l := range c.Lines {
		it, ok := cat.Item(l.Code)
		if !ok || len(it.RequiredData) == 0 {
			continue
		}
		units := c.Required[l.Code]
		for u := 0; u < l.Quantity; u++ {
			var vals map[string]string
			if u < len(units) {
				vals = units[u]
			}
			for _, rf := range it.RequiredData {
				addr := fmt.Sprintf("%s[%d].%s", l.Code, u+1, rf.Field)
				if msg := checkValue(rf, vals[rf.Field]); msg != "" {
					f.Add(addr, "%s", msg)
				}
			}
		}
	}
	return f
}

// HandlerErrors asks each item's handler about the data entered for it.
func HandlerErrors(ctx context.Context, cat *Catalog, required map[string][]map[string]string, check Checker) []FieldError {
	var f Fields
	if check == nil {
		return nil
	}
	for code, units := range required {
		it, ok := cat.Item(code)
		if !ok {
			continue
		}
		for u, vals := range units {
			for _, rf := range it.RequiredData {
				v := vals[rf.Field]
				if v == "" || checkValue(rf, v) != "" {
					continue
				}
				if err := check(ctx, it.Handler, rf.Field, v); err != nil {
					f.Add(fmt.Sprintf("%s[%d].%s", code, u+1, rf.Field), "%s", err.Error())
				}
			}
		}
	}
	return f
}

func checkValue(rf RequiredField, v string) string {
	if v == "" {
		if rf.Required {
			return "is required"
		}
		return ""
	}
	if len(v) > 2000 {
		return "is too long (2000 characters at most)"
	}
	switch rf.Type {
	case "checkbox":
		if _, err := strconv.ParseBool(v); err != nil {
			return "must be true or false"
		}
		if rf.Required && v != "true" {
			return "must be checked"
		}
	case "select":
		if !slices.Contains(rf.Options, v) {
			return fmt.Sprintf("must be one of %v", rf.Options)
		}
	case "text":
		if len(v) > 255 {
			return "is too long (255 characters at most)"
		}
	}
	if rf.Pattern != "" {
		if re, err := regexp.Compile("^(?:" + rf.Pattern + ")$"); err == nil && !re.MatchString(v) {
			return "does not have the expected format"
		}
	}
	return ""
}

// CleanRequirements validates per-unit data against the catalog (each code an item that
// requires data, no more units than a line may have, only known fields) and returns it
// cleaned of control characters. Whether each code is a line of the cart is the store's
// condition; whether every unit is filled is checked by the steps.
func CleanRequirements(cat *Catalog, in map[string][]map[string]string) (map[string][]map[string]string, error) {
	var f Fields
	out := map[string][]map[string]string{}
	for code, units := range in {
		it, known := cat.Item(code)
		switch {
		case !known:
			f.Add(code, "is not an item of this shop")
			continue
		case len(it.RequiredData) == 0:
			f.Add(code, "requires no data")
			continue
		case len(units) > MaxLineQuantity || (it.MaxQuantity > 0 && len(units) > it.MaxQuantity):
			f.Add(code, "has data for more units than can be bought")
			continue
		}
		clean := make([]map[string]string, len(units))
		for u, vals := range units {
			clean[u] = map[string]string{}
			for k, v := range vals {
				if !hasField(it, k) {
					f.Add(fmt.Sprintf("%s[%d].%s", code, u+1, k), "is not a field of this item")
					continue
				}
				clean[u][k] = Clean(v)
			}
		}
		out[code] = clean
	}
	if err := f.Err("cart.setRequirements", "invalid required data"); err != nil {
		return nil, err
	}
	return out, nil
}

func hasField(it *Item, name string) bool {
	for _, rf := range it.RequiredData {
		if rf.Field == name {
			return true
		}
	}
	return false
}

// RolesOf lists the seat roles an item asks for: student, then the handler's.
func RolesOf(it *Item) []string { return append([]string{"student"}, it.SeatRoles...) }

// SeatErrors reports seats not assigned, or assigned beyond what was bought, per item.
// Students fill the seats bought; other roles (e.g. supervisor) need at least one
// participant when the item asks for them.
func SeatErrors(shop *Shop, cat *Catalog, c *Cart) []FieldError {
	var f Fields
	need := SeatsNeeded(c, cat)
	count := map[string]map[string]int{}
	for _, a := range c.Seats {
		if count[a.Code] == nil {
			count[a.Code] = map[string]int{}
		}
		count[a.Code][a.Role]++
	}
	for _, l := range c.Lines {
		n, ok := need[l.Code]
		if !ok {
			continue
		}
		it, _ := cat.Item(l.Code)
		if got := count[l.Code]["student"]; got != n {
			f.Add(l.Code+".student", "%d of %d seats assigned", got, n)
		}
		for _, r := range it.SeatRoles {
			if count[l.Code][r] == 0 {
				f.Add(l.Code+"."+r, "no participant assigned")
			}
		}
	}
	return f
}

// CleanSeats normalises and validates participants and assignments: every participant
// complete and listed once, every assignment on an item that has seats, with a role the
// item asks for, naming a participant, once per item. Whether the items are lines of the
// cart is the store's condition; whether the counts match the seats bought is checked by
// the steps (and so refused at placement).
func CleanSeats(shop *Shop, cat *Catalog, people []Participant, seats []Assignment) error {
	var f Fields
	if len(people) > MaxLineQuantity || len(seats) > 2*MaxLineQuantity {
		return Errorf("cart.setSeats", EINVALID, "too many participants or seats")
	}
	byEmail := map[string]bool{}
	for i := range people {
		people[i].Normalise()
		f = append(f, people[i].Validate(fmt.Sprintf("participants[%d]", i), shop)...)
		if byEmail[people[i].Email] {
			f.Add(fmt.Sprintf("participants[%d].email", i), "appears twice")
		}
		byEmail[people[i].Email] = true
	}
	seen := map[string]bool{}
	for i := range seats {
		a := &seats[i]
		a.Email = NormaliseEmail(a.Email)
		addr := fmt.Sprintf("seats[%d]", i)
		it, ok := cat.Item(a.Code)
		if !ok || it.Seats == SeatsNone || it.Seats == "" {
			f.Add(addr+".code", "%q is not an item with seats", a.Code)
			continue
		}
		if !slices.Contains(RolesOf(it), a.Role) {
			f.Add(addr+".role", "must be one of %v", RolesOf(it))
		}
		if !byEmail[a.Email] {
			f.Add(addr+".email", "is not one of the participants")
		}
		key := a.Code + "|" + a.Email
		if seen[key] {
			f.Add(addr+".email", "already has a seat on %s", a.Code)
		}
		seen[key] = true
	}
	return f.Err("cart.setSeats", "invalid participants or seats")
}
