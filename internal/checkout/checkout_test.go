package checkout_test

import (
	"strings"
	"testing"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/trace"
)

func TestTransitionTableIsSpecs(t *testing.T) {
	// The allowed moves are docs/spec.md's table, read rather than copied here: Sources
	// must say what the table says, as CanMove must.
	allowed := specTransitions(t)
	for _, from := range checkout.Statuses {
		for _, to := range checkout.Statuses {
			want := allowed[from][to]
			if got := checkout.CanMove(from, to); got != want {
				t.Errorf("CanMove(%s, %s) = %v, want %v", from, to, got, want)
			}
			inSources := false
			for _, s := range checkout.Sources(to) {
				inSources = inSources || s == from
			}
			if inSources != want {
				t.Errorf("Sources(%s) contains %s = %v, want %v", to, from, inSources, want)
			}
		}
	}
}

func TestLineQuantity(t *testing.T) {
	course := &checkout.Item{Code: "C", Status: checkout.StatusAvailable, MaxQuantity: 5}
	seat := &checkout.Item{Code: "S", Status: checkout.StatusAvailable, Seats: checkout.SeatsOne}
	suspended := &checkout.Item{Code: "X", Status: checkout.StatusSuspended}
	tests := []struct {
		it      *checkout.Item
		q, want int
		kind    checkout.Kind
	}{
		{course, 3, 3, ""}, {course, 9, 5, ""}, {course, 0, 0, ""},
		{seat, 4, 1, ""},
		{course, -1, 0, checkout.EINVALID}, {course, 10001, 0, checkout.EINVALID},
		{suspended, 1, 0, checkout.EINVALID},
	}
	for _, tc := range tests {
		got, err := checkout.LineQuantity(tc.it, tc.q)
		if tc.kind != "" {
			if checkout.KindOf(err) != tc.kind {
				t.Errorf("LineQuantity(%s, %d) err = %v, want kind %s", tc.it.Code, tc.q, err, tc.kind)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("LineQuantity(%s, %d) = %d, %v; want %d", tc.it.Code, tc.q, got, err, tc.want)
		}
	}
}

func TestUnitPriceHonoursAllFiveTiers(t *testing.T) {
	it := &checkout.Item{Tiers: []checkout.Tier{{1, 500}, {4, 400}, {9, 300}, {19, 200}, {0, 100}}}
	for q, want := range map[int]int64{1: 500, 2: 400, 4: 400, 5: 300, 10: 200, 19: 200, 20: 100, 1000: 100} {
		if got := it.UnitPrice(q); got != want {
			t.Errorf("UnitPrice(%d) = %d, want %d", q, got, want)
		}
	}
}

func TestCustomerValidation(t *testing.T) {
	cat := &checkout.Catalog{Countries: []string{"FR", "BE"}}
	base := func() checkout.Customer {
		return checkout.Customer{Email: "a@example.com", LastName: "A", FirstName: "B", Address: "1 rue", Zip: "75001", City: "Paris", Country: "FR"}
	}
	tests := []struct {
		name   string
		edit   func(*checkout.Customer)
		fields []string
	}{
		{"complete", func(*checkout.Customer) {}, nil},
		{"no e-mail", func(c *checkout.Customer) { c.Email = "" }, []string{"email"}},
		{"country not sold to", func(c *checkout.Customer) { c.Country = "DE" }, []string{"country"}},
		{"not a country", func(c *checkout.Customer) { c.Country = "XX" }, []string{"country"}},
		{"no address without invoicing", func(c *checkout.Customer) { c.Address, c.Zip = "", "" }, []string{"address", "zip"}},
		{"invoicing replaces the address", func(c *checkout.Customer) {
			c.Address, c.Zip = "", ""
			c.Invoicing = &checkout.Invoicing{Organisation: "Acme", LastName: "A", FirstName: "B", Address: "2 av", Zip: "1000", City: "Bruxelles", Country: "BE"}
		}, nil},
		{"incomplete invoicing", func(c *checkout.Customer) {
			c.Invoicing = &checkout.Invoicing{Country: "BE"}
		}, []string{"invoicing.organisation", "invoicing.address", "invoicing.zip", "invoicing.lastName", "invoicing.firstName", "invoicing.city"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(&c)
			err := c.Validate(cat)
			var got []string
			if e, ok := err.(*checkout.Error); ok {
				for _, f := range e.Fields {
					got = append(got, f.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("fields at fault = %v, want %v", got, tc.fields)
			}
		})
	}
}

func TestNormalisation(t *testing.T) {
	for in, want := range map[string]string{"  jean-PAUL  du   pont ": "Jean-Paul Du Pont", "o'brien": "O'Brien", "ÉLODIE": "Élodie", "a\nb": "Ab"} {
		if got := checkout.NormaliseName(in); got != want {
			t.Errorf("NormaliseName(%q) = %q, want %q", in, got, want)
		}
	}
	p := checkout.Participant{Email: " Bob@Example.COM\r\n", LastName: "martin"}
	p.Normalise()
	if p.Email != "bob@example.com" || p.LastName != "Martin" {
		t.Errorf("normalised participant = %+v", p)
	}
}

func TestStepsSkipAndReport(t *testing.T) {
	shop := &checkout.Shop{}
	cat := &checkout.Catalog{Items: []checkout.Item{
		{Code: "C", Status: checkout.StatusAvailable},
		{Code: "S", Status: checkout.StatusAvailable, Seats: checkout.SeatsFromQuantity, SeatRoles: []string{"supervisor"}},
		{Code: "R", Status: checkout.StatusAvailable, RequiredData: []checkout.RequiredField{{Field: "f", Type: "select", Options: []string{"a", "b"}, Required: true}}},
	}}
	cart := &checkout.Cart{Lines: []checkout.Line{{Code: "C", Quantity: 1}}}
	byName := func(c *checkout.Cart) map[string]checkout.StepState {
		out := map[string]checkout.StepState{}
		for _, s := range checkout.Steps(shop, cat, c) {
			out[s.Name] = s
		}
		return out
	}
	st := byName(cart)
	if st["PURCHASEREQUIS"].Applies || st["USERS"].Applies || !st["CUSTOMER"].Applies || st["CUSTOMER"].Complete {
		t.Errorf("steps for a plain course = %+v", st)
	}
	cart.Lines = append(cart.Lines, checkout.Line{Code: "S", Quantity: 2}, checkout.Line{Code: "R", Quantity: 2})
	cart.Required = map[string][]map[string]string{"R": {{"f": "a"}, {"f": "z"}}}
	cart.Seats = []checkout.Assignment{{Code: "S", Role: "student", Email: "a@x.io"}}
	st = byName(cart)
	missing := func(name string) string {
		var out []string
		for _, m := range st[name].Missing {
			out = append(out, m.Field)
		}
		return strings.Join(out, ",")
	}
	if got := missing("PURCHASEREQUIS"); got != "R[2].f" {
		t.Errorf("PURCHASEREQUIS missing %q, want R[2].f (z is not an option)", got)
	}
	if got := missing("USERS"); got != "S.student,S.supervisor" {
		t.Errorf("USERS missing %q, want S.student,S.supervisor", got)
	}
	if n := len(checkout.Incomplete(checkout.Steps(shop, cat, cart))); n != 4 {
		t.Errorf("Incomplete lists %d problems, want 4 (R[2].f, two seats, customer)", n)
	}
}

func TestAccountRuleOf(t *testing.T) {
	cat := &checkout.Catalog{Items: []checkout.Item{
		{Code: "ANY", Audience: checkout.AudienceAnyone}, {Code: "OLD", Audience: checkout.AudienceCustomers},
		{Code: "IN", Audience: checkout.AudienceLoggedIn}, {Code: "NEW", Audience: checkout.AudienceAnonymous},
	}}
	tests := []struct {
		codes []string
		want  checkout.AccountRule
		err   bool
	}{
		{[]string{"ANY"}, checkout.AnyAccount, false},
		{[]string{"ANY", "OLD"}, checkout.ExistingAccount, false},
		{[]string{"IN"}, checkout.ExistingAccount, false},
		{[]string{"NEW", "ANY"}, checkout.NoAccount, false},
		{[]string{"OLD", "NEW"}, checkout.AnyAccount, true},
	}
	for _, tc := range tests {
		c := &checkout.Cart{}
		for _, code := range tc.codes {
			c.Lines = append(c.Lines, checkout.Line{Code: code, Quantity: 1})
		}
		got, err := checkout.AccountRuleOf(cat, c)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("AccountRuleOf(%v) = %v, %v; want %v, error %v", tc.codes, got, err, tc.want, tc.err)
		}
	}
}

// TestShopStepRefusesWhatIsNotOnSale: a line whose item was suspended or withdrawn
// after it entered the cart keeps the SHOP step incomplete, named by its code, and so
// does an empty cart; placement refuses an incomplete step.
func TestShopStepRefusesWhatIsNotOnSale(t *testing.T) {
	shop := &checkout.Shop{}
	cat := &checkout.Catalog{Items: []checkout.Item{
		{Code: "OK", Status: checkout.StatusAvailable},
		{Code: "PROV", Status: checkout.StatusProviding},
		{Code: "SUSP", Status: checkout.StatusSuspended},
		{Code: "PREV", Status: checkout.StatusPreview},
		{Code: "GONE", Status: checkout.StatusAbandoned},
	}}
	tests := []struct {
		name  string
		lines []checkout.Line
		want  string // the SHOP step's missing fields
	}{
		{"on sale", []checkout.Line{{Code: "OK", Quantity: 1}, {Code: "PROV", Quantity: 1}}, ""},
		{"empty", nil, "lines"},
		{"suspended", []checkout.Line{{Code: "OK", Quantity: 1}, {Code: "SUSP", Quantity: 1}}, "lines.SUSP"},
		{"preview and abandoned", []checkout.Line{{Code: "PREV", Quantity: 1}, {Code: "GONE", Quantity: 1}}, "lines.PREV,lines.GONE"},
		{"withdrawn from the catalog", []checkout.Line{{Code: "NOPE", Quantity: 1}}, "lines.NOPE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, s := range checkout.Steps(shop, cat, &checkout.Cart{Lines: tt.lines}) {
				if s.Name != checkout.StepShop {
					continue
				}
				for _, m := range s.Missing {
					got = append(got, m.Field)
				}
				if s.Complete != (tt.want == "") {
					t.Errorf("SHOP complete = %v with missing %v", s.Complete, s.Missing)
				}
			}
			if g := strings.Join(got, ","); g != tt.want {
				t.Errorf("SHOP missing %q, want %q", g, tt.want)
			}
		})
	}
}

// TestStepsTheListLeavesOut: a shop's list may leave out PURCHASEREQUIS and USERS, but a
// cart whose items need participants or data still has those steps, before ORDER, and
// placement is refused while they are incomplete (docs/spec.md#skip-rules).
func TestStepsTheListLeavesOut(t *testing.T) {
	cat := &checkout.Catalog{Items: []checkout.Item{
		{Code: "BOOK", Status: checkout.StatusAvailable},
		{Code: "SEAT", Status: checkout.StatusAvailable, Seats: checkout.SeatsFromQuantity},
		{Code: "DATA", Status: checkout.StatusAvailable, RequiredData: []checkout.RequiredField{{Field: "course", Type: "text", Required: true}}},
	}}
	short := []string{checkout.StepShop, checkout.StepCustomer, checkout.StepOrder}
	tests := []struct {
		name      string
		steps     []string
		lines     []checkout.Line
		wantSteps string // names of the steps returned, in order
		wantMiss  string // what Incomplete lists, apart from CUSTOMER
	}{
		{"short list, nothing needed", short, []checkout.Line{{Code: "BOOK", Quantity: 1}},
			"SHOP,CUSTOMER,ORDER", ""},
		{"short list, seats needed", short, []checkout.Line{{Code: "SEAT", Quantity: 2}},
			"SHOP,CUSTOMER,USERS,ORDER", "USERS:SEAT.student"},
		{"short list, data needed", short, []checkout.Line{{Code: "DATA", Quantity: 1}},
			"SHOP,CUSTOMER,PURCHASEREQUIS,ORDER", "PURCHASEREQUIS:DATA[1].course"},
		{"short list, both needed", short, []checkout.Line{{Code: "SEAT", Quantity: 1}, {Code: "DATA", Quantity: 1}},
			"SHOP,CUSTOMER,PURCHASEREQUIS,USERS,ORDER", "PURCHASEREQUIS:DATA[1].course,USERS:SEAT.student"},
		{"list without USERS, data needed", []string{checkout.StepShop, checkout.StepRequirements, checkout.StepCustomer, checkout.StepOrder},
			[]checkout.Line{{Code: "DATA", Quantity: 1}, {Code: "SEAT", Quantity: 1}},
			"SHOP,PURCHASEREQUIS,CUSTOMER,USERS,ORDER", "PURCHASEREQUIS:DATA[1].course,USERS:SEAT.student"},
		{"full list keeps its order", []string{checkout.StepShop, checkout.StepCustomer, checkout.StepUsers, checkout.StepRequirements, checkout.StepOrder},
			[]checkout.Line{{Code: "SEAT", Quantity: 1}},
			"SHOP,CUSTOMER,USERS,PURCHASEREQUIS,ORDER", "USERS:SEAT.student"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shop := &checkout.Shop{Currency: "EUR", Steps: tt.steps, Paymodes: []string{"card"}}
			if err := shop.Validate(); err != nil {
				t.Fatalf("the shop is refused: %v", err)
			}
			steps := checkout.Steps(shop, cat, &checkout.Cart{Lines: tt.lines})
			var names, miss []string
			for _, s := range steps {
				names = append(names, s.Name)
			}
			for _, m := range checkout.Incomplete(steps) {
				if !strings.HasPrefix(m.Field, checkout.StepCustomer+":") {
					miss = append(miss, m.Field)
				}
			}
			if g := strings.Join(names, ","); g != tt.wantSteps {
				t.Errorf("steps %q, want %q", g, tt.wantSteps)
			}
			if g := strings.Join(miss, ","); g != tt.wantMiss {
				t.Errorf("placement refused for %q, want %q", g, tt.wantMiss)
			}
		})
	}
}

// The cleaners of one-line text share trace.BreaksLine but not what they put in a
// breaking rune's place: a stored field loses it (Clean), a trace line gets a space in
// its place (trace.Sanitize). What each stores stays as it was.
func TestCleanersKeepTheirOwnOutput(t *testing.T) {
	tests := []struct {
		in, clean, sanitized string
	}{
		{" Paris\nCedex ", "ParisCedex", "Paris Cedex"},
		{"a\u2028b\u0085c\td", "abcd", "a b c d"},
		{"x  \r\n  y", "x    y", "x      y"},
	}
	for _, tt := range tests {
		if got := checkout.Clean(tt.in); got != tt.clean {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.clean)
		}
		if got := trace.Sanitize(tt.in); got != tt.sanitized {
			t.Errorf("trace.Sanitize(%q) = %q, want %q", tt.in, got, tt.sanitized)
		}
	}
}
