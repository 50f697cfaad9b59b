package pricing

import (
	"errors"
	"testing"
	"time"
)

var (
	t0    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	acme  = map[string]PartnerStats{"ACME": {Stats: Stats{Orders: 10, Revenue: 100000}, ByProduct: map[string]Stats{"A": {Orders: 5, Revenue: 20000}, "B": {Orders: 1, Revenue: 90000}}}}
	cartA = Line{Code: "A", Quantity: 1, Tiers: Tiers{{0, 10000}}, TaxCode: "T0"}
	cartB = Line{Code: "B", Quantity: 2, Tiers: Tiers{{0, 2500}}, TaxCode: "T0"}
)

// discountEngine prices with a 0 % tax so that totals show discounts only.
func discountEngine(t *testing.T, ds ...Discount) *Engine {
	t.Helper()
	e, err := NewEngine(Config{Taxes: TaxTable{ShopCountry: "FR", Taxes: []Tax{{Code: "T0"}}}, Discounts: ds})
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	return e
}

func TestDiscountRules(t *testing.T) {
	unc := func(name string, rate BasisPoints) Discount {
		return Discount{Name: name, Kind: KindUnconditional, Rate: rate}
	}
	promo := func(name, code string, rate BasisPoints) Discount {
		return Discount{Name: name, Kind: KindPromoCode, Code: code, Rate: rate}
	}
	partnerCodes := Discount{Name: "partner", Kind: KindPartnerCodes, Codes: []CodeRate{{Code: "P-ACME", Rate: 1000, Partner: "acme"}}}
	with := func(d Discount, f func(*Discount)) Discount { f(&d); return d }

	type want struct {
		applied  []string
		discount Money
		partner  string
		unused   []string
	}
	tests := []struct {
		name      string
		discounts []Discount
		codes     []string
		ctx       Context
		at        time.Time
		want      want
	}{
		// Each kind alone. The cart is A 10000 + B 2×2500 = 15000.
		{name: "unconditional", discounts: []Discount{unc("u", 1000)}, want: want{applied: []string{"u"}, discount: 1500}},
		{name: "promo code entered, trimmed and any case", discounts: []Discount{promo("p", "WELCOME", 1000)}, codes: []string{"  welcome "}, want: want{applied: []string{"p"}, discount: 1500}},
		{name: "promo code not entered", discounts: []Discount{promo("p", "WELCOME", 1000)}, want: want{}},
		{name: "wrong promo code is reported unused", discounts: []Discount{promo("p", "WELCOME", 1000)}, codes: []string{"nope"}, want: want{unused: []string{"NOPE"}}},
		{name: "multiple codes: each its rate", discounts: []Discount{{Name: "m", Kind: KindMultiCodes, Codes: []CodeRate{{Code: "GOLD", Rate: 2000}, {Code: "SILVER", Rate: 1000}}}}, codes: []string{"silver"}, want: want{applied: []string{"m"}, discount: 1500}},
		{name: "multiple codes: best entered rate wins", discounts: []Discount{{Name: "m", Kind: KindMultiCodes, Codes: []CodeRate{{Code: "GOLD", Rate: 2000}, {Code: "SILVER", Rate: 1000}}}}, codes: []string{"silver", "gold"}, want: want{applied: []string{"m"}, discount: 3000, unused: []string{"SILVER"}}},
		{name: "partner code tags the order", discounts: []Discount{partnerCodes}, codes: []string{"p-acme"}, want: want{applied: []string{"partner"}, discount: 1500, partner: "acme"}},
		{name: "minimum amount reached", discounts: []Discount{{Name: "min", Kind: KindMinAmount, MinAmount: 15000, Rate: 1000}}, want: want{applied: []string{"min"}, discount: 1500}},
		{name: "minimum amount missed by a cent", discounts: []Discount{{Name: "min", Kind: KindMinAmount, MinAmount: 15001, Rate: 1000}}, want: want{}},
		{name: "buyer capability", discounts: []Discount{{Name: "cap", Kind: KindBuyerCapability, Capabilities: []string{"local/shop:TEACHER"}, Rate: 1000}}, ctx: Context{Buyer: Buyer{Capabilities: []string{"mod/x:y", "local/shop:teacher"}}}, want: want{applied: []string{"cap"}, discount: 1500}},
		{name: "buyer lacks the capability", discounts: []Discount{{Name: "cap", Kind: KindBuyerCapability, Capabilities: []string{"local/shop:teacher"}, Rate: 1000}}, ctx: Context{Buyer: Buyer{Capabilities: []string{"mod/x:y"}}}, want: want{}},
		{name: "buyer institution", discounts: []Discount{{Name: "inst", Kind: KindBuyerInstitution, Institutions: []string{"Université de Nantes"}, Rate: 1000}}, ctx: Context{Buyer: Buyer{Organisation: " université de nantes "}}, want: want{applied: []string{"inst"}, discount: 1500}},
		{name: "other institution", discounts: []Discount{{Name: "inst", Kind: KindBuyerInstitution, Institutions: []string{"Université de Nantes"}, Rate: 1000}}, ctx: Context{Buyer: Buyer{Organisation: "Université de Rennes"}}, want: want{}},
		{name: "earlier orders reached", discounts: []Discount{{Name: "loyal", Kind: KindMinEarlierOrders, MinOrders: 3, Rate: 1000}}, ctx: Context{Buyer: Buyer{PaidOrders: 3}}, want: want{applied: []string{"loyal"}, discount: 1500}},
		{name: "earlier orders missed", discounts: []Discount{{Name: "loyal", Kind: KindMinEarlierOrders, MinOrders: 3, Rate: 1000}}, ctx: Context{Buyer: Buyer{PaidOrders: 2}}, want: want{}},
		{name: "partner identity", discounts: []Discount{{Name: "pid", Kind: KindPartner, Partners: []string{"ACME"}, Rate: 1000}}, ctx: Context{Partner: "acme"}, want: want{applied: []string{"pid"}, discount: 1500, partner: "acme"}},
		{name: "no partner", discounts: []Discount{{Name: "pid", Kind: KindPartner, Partners: []string{"ACME"}, Rate: 1000}}, want: want{}},
		{name: "customer account", discounts: []Discount{{Name: "vip", Kind: KindCustomer, Customers: []string{"u-42"}, Rate: 1000}}, ctx: Context{Buyer: Buyer{AccountID: "u-42"}}, want: want{applied: []string{"vip"}, discount: 1500}},
		{name: "other customer account", discounts: []Discount{{Name: "vip", Kind: KindCustomer, Customers: []string{"u-42"}, Rate: 1000}}, ctx: Context{Buyer: Buyer{AccountID: "u-43"}}, want: want{}},
		{name: "partner orders reached (global)", discounts: []Discount{{Name: "po", Kind: KindPartnerMinOrders, MinOrders: 10, Rate: 1000}}, ctx: Context{Partner: "acme", Partners: acme}, want: want{applied: []string{"po"}, discount: 1500, partner: "acme"}},
		{name: "partner orders missed (global)", discounts: []Discount{{Name: "po", Kind: KindPartnerMinOrders, MinOrders: 11, Rate: 1000}}, ctx: Context{Partner: "acme", Partners: acme}, want: want{partner: "acme"}},
		{name: "partner orders: partner not in the rule's list", discounts: []Discount{{Name: "po", Kind: KindPartnerMinOrders, MinOrders: 1, Partners: []string{"other"}, Rate: 1000}}, ctx: Context{Partner: "acme", Partners: acme}, want: want{partner: "acme"}},
		{name: "partner orders without a partner", discounts: []Discount{{Name: "po", Kind: KindPartnerMinOrders, MinOrders: 1, Rate: 1000}}, ctx: Context{Partners: acme}, want: want{}},
		{name: "partner orders per product: only A qualifies", discounts: []Discount{{Name: "pp", Kind: KindPartnerMinOrders, MinOrders: 5, PerProduct: true, Rate: 1000}}, ctx: Context{Partner: "acme", Partners: acme}, want: want{applied: []string{"pp"}, discount: 1000, partner: "acme"}},
		{name: "partner revenue reached (global)", discounts: []Discount{{Name: "pr", Kind: KindPartnerMinRevenue, MinAmount: 100000, Rate: 1000}}, ctx: Context{Partner: "acme", Partners: acme}, want: want{applied: []string{"pr"}, discount: 1500, partner: "acme"}},
		{name: "partner revenue missed (global)", discounts: []Discount{{Name: "pr", Kind: KindPartnerMinRevenue, MinAmount: 100001, Rate: 1000}}, ctx: Context{Partner: "acme", Partners: acme}, want: want{partner: "acme"}},
		{name: "partner revenue per product: only B qualifies", discounts: []Discount{{Name: "pr", Kind: KindPartnerMinRevenue, MinAmount: 50000, PerProduct: true, Rate: 1000}}, ctx: Context{Partner: "acme", Partners: acme}, want: want{applied: []string{"pr"}, discount: 500, partner: "acme"}},
		{name: "restricted to item B", discounts: []Discount{with(unc("u", 1000), func(d *Discount) { d.Items = []string{"B"} })}, want: want{applied: []string{"u"}, discount: 500}},
		{name: "restricted to an item not in the cart", discounts: []Discount{with(unc("u", 1000), func(d *Discount) { d.Items = []string{"Z"} })}, want: want{}},
		{name: "before its validity", discounts: []Discount{with(unc("u", 1000), func(d *Discount) { d.From = t0.Add(time.Hour) })}, want: want{}},
		{name: "inside its validity", discounts: []Discount{with(unc("u", 1000), func(d *Discount) { d.From, d.Until = t0, t0.Add(time.Hour) })}, want: want{applied: []string{"u"}, discount: 1500}},
		{name: "at its end (excluded)", discounts: []Discount{with(unc("u", 1000), func(d *Discount) { d.Until = t0 })}, want: want{}},
		{name: "100 % makes the cart free", discounts: []Discount{unc("free", FullRate)}, want: want{applied: []string{"free"}, discount: 15000}},

		// Chains.
		{name: "stacked rules compound on what is left", discounts: []Discount{unc("u1", 1000), unc("u2", 1000)}, want: want{applied: []string{"u1", "u2"}, discount: 1500 + 1350}},
		{name: "takeover cancels earlier rules and stops", discounts: []Discount{unc("u1", 1000), with(promo("big", "HALF", 5000), func(d *Discount) { d.Takeover = true }), unc("after", 1000)}, codes: []string{"half"}, want: want{applied: []string{"big"}, discount: 7500}},
		{name: "takeover that does not apply changes nothing", discounts: []Discount{unc("u1", 1000), with(promo("big", "HALF", 5000), func(d *Discount) { d.Takeover = true }), unc("u2", 1000)}, want: want{applied: []string{"u1", "u2"}, discount: 2850}},
		{name: "takeover cancels an earlier partner code and its tag", discounts: []Discount{partnerCodes, with(unc("t", 2000), func(d *Discount) { d.Takeover = true })}, codes: []string{"P-ACME"}, want: want{applied: []string{"t"}, discount: 3000, unused: []string{"P-ACME"}}},
		{name: "stop if applies", discounts: []Discount{with(unc("u1", 1000), func(d *Discount) { d.StopIfApplies = true }), unc("u2", 1000)}, want: want{applied: []string{"u1"}, discount: 1500}},
		{name: "stop if applies, when it does not", discounts: []Discount{with(promo("p", "X", 1000), func(d *Discount) { d.StopIfApplies = true }), unc("u2", 1000)}, want: want{applied: []string{"u2"}, discount: 1500}},
		{name: "stop if not applies", discounts: []Discount{with(promo("p", "X", 1000), func(d *Discount) { d.StopIfNotApplies = true }), unc("u2", 1000)}, want: want{}},
		{name: "stop if not applies, when it does", discounts: []Discount{with(promo("p", "X", 1000), func(d *Discount) { d.StopIfNotApplies = true }), unc("u2", 1000)}, codes: []string{"x"}, want: want{applied: []string{"p", "u2"}, discount: 2850}},
		{name: "partner code feeds a later partner rule", discounts: []Discount{partnerCodes, {Name: "pid", Kind: KindPartner, Partners: []string{"acme"}, Rate: 500}}, codes: []string{"p-acme"}, want: want{applied: []string{"partner", "pid"}, discount: 1500 + 675, partner: "acme"}},
		{name: "partner code overrides the prefill partner", discounts: []Discount{partnerCodes}, codes: []string{"p-acme"}, ctx: Context{Partner: "other"}, want: want{applied: []string{"partner"}, discount: 1500, partner: "acme"}},
		{name: "minimum amount looks at the total before discounts", discounts: []Discount{unc("u1", 5000), {Name: "min", Kind: KindMinAmount, MinAmount: 15000, Rate: 1000}}, want: want{applied: []string{"u1", "min"}, discount: 7500 + 750}},
		{name: "order matters: item rule first, then whole bill", discounts: []Discount{with(unc("b", 2000), func(d *Discount) { d.Items = []string{"B"} }), unc("all", 1000)}, want: want{applied: []string{"b", "all"}, discount: 1000 + 1400}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.at
			if at.IsZero() {
				at = t0
			}
			q, err := discountEngine(t, tt.discounts...).Quote(Input{Lines: []Line{cartA, cartB}, Codes: tt.codes, Context: tt.ctx, At: at})
			if err != nil {
				t.Fatalf("Quote: %v", err)
			}
			var applied []string
			for _, d := range q.Discounts {
				applied = append(applied, d.Name)
			}
			if !equalStrings(applied, tt.want.applied) {
				t.Errorf("applied = %q, want %q", applied, tt.want.applied)
			}
			if q.Totals.Discount != tt.want.discount {
				t.Errorf("discount = %d, want %d", q.Totals.Discount, tt.want.discount)
			}
			if q.Totals.Final != 15000-tt.want.discount {
				t.Errorf("final = %d, want %d", q.Totals.Final, 15000-tt.want.discount)
			}
			if q.Partner != tt.want.partner {
				t.Errorf("partner = %q, want %q", q.Partner, tt.want.partner)
			}
			if !equalStrings(q.UnusedCodes, tt.want.unused) {
				t.Errorf("unused codes = %q, want %q", q.UnusedCodes, tt.want.unused)
			}
		})
	}
}

func TestValidateCode(t *testing.T) {
	ds := []Discount{
		{Name: "p", Kind: KindPromoCode, Code: "Welcome", Rate: 1000},
		{Name: "m", Kind: KindMultiCodes, Codes: []CodeRate{{Code: "GOLD", Rate: 2000}}},
		{Name: "old", Kind: KindPromoCode, Code: "SUMMER25", Rate: 1000, Until: t0},
		{Name: "soon", Kind: KindPromoCode, Code: "AUTUMN", Rate: 1000, From: t0.Add(24 * time.Hour)},
		{Name: "old-again", Kind: KindPromoCode, Code: "RETURN", Rate: 1000, Until: t0},
		{Name: "new-again", Kind: KindPromoCode, Code: "RETURN", Rate: 500, From: t0.Add(-time.Hour)},
	}
	tests := []struct {
		entered string
		want    string
		wantErr error
	}{
		{" welcome ", "WELCOME", nil},
		{"gold", "GOLD", nil},
		{"return", "RETURN", nil}, // one of its two rules is active
		{"summer25", "", ErrCodeExpired},
		{"autumn", "", ErrCodeNotYetValid},
		{"nope", "", ErrUnknownCode},
		{"   ", "", ErrEmptyCode},
	}
	for _, tt := range tests {
		got, err := ValidateCode(ds, tt.entered, t0)
		if !errors.Is(err, tt.wantErr) || got != tt.want {
			t.Errorf("ValidateCode(%q) = %q, %v; want %q, %v", tt.entered, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDiscountValidate(t *testing.T) {
	tests := []struct {
		name   string
		d      Discount
		fields []string
	}{
		{"valid unconditional", Discount{Name: "u", Kind: KindUnconditional, Rate: 1000}, nil},
		{"no name, unknown kind", Discount{Kind: "bogus", Rate: 1000}, []string{"Name", "Kind"}},
		{"zero rate", Discount{Name: "u", Kind: KindUnconditional}, []string{"Rate"}},
		{"rate above 100 %", Discount{Name: "u", Kind: KindUnconditional, Rate: 10001}, []string{"Rate"}},
		{"promo without code", Discount{Name: "p", Kind: KindPromoCode, Code: "  ", Rate: 1000}, []string{"Code"}},
		{"multi without codes", Discount{Name: "m", Kind: KindMultiCodes}, []string{"Codes"}},
		{"multi with a global rate", Discount{Name: "m", Kind: KindMultiCodes, Rate: 5, Codes: []CodeRate{{Code: "A", Rate: 1}}}, []string{"Rate"}},
		{"multi code problems", Discount{Name: "m", Kind: KindMultiCodes, Codes: []CodeRate{{Code: "A", Rate: 1}, {Code: " a", Rate: 0}, {Rate: 1}}}, []string{"Codes[1].Code", "Codes[1].Rate", "Codes[2].Code"}},
		{"partner code without partner", Discount{Name: "pc", Kind: KindPartnerCodes, Codes: []CodeRate{{Code: "A", Rate: 1}}}, []string{"Codes[0].Partner"}},
		{"min amount missing", Discount{Name: "x", Kind: KindMinAmount, Rate: 1}, []string{"MinAmount"}},
		{"capabilities missing", Discount{Name: "x", Kind: KindBuyerCapability, Rate: 1}, []string{"Capabilities"}},
		{"empty institution", Discount{Name: "x", Kind: KindBuyerInstitution, Rate: 1, Institutions: []string{""}}, []string{"Institutions[0]"}},
		{"min orders missing", Discount{Name: "x", Kind: KindMinEarlierOrders, Rate: 1}, []string{"MinOrders"}},
		{"partners missing", Discount{Name: "x", Kind: KindPartner, Rate: 1}, []string{"Partners"}},
		{"customers missing", Discount{Name: "x", Kind: KindCustomer, Rate: 1}, []string{"Customers"}},
		{"partner orders missing", Discount{Name: "x", Kind: KindPartnerMinOrders, Rate: 1}, []string{"MinOrders"}},
		{"partner revenue missing", Discount{Name: "x", Kind: KindPartnerMinRevenue, Rate: 1}, []string{"MinAmount"}},
		{"per product on the wrong kind", Discount{Name: "x", Kind: KindUnconditional, Rate: 1, PerProduct: true}, []string{"PerProduct"}},
		{"empty item", Discount{Name: "x", Kind: KindUnconditional, Rate: 1, Items: []string{"A", ""}}, []string{"Items[1]"}},
		{"until before from", Discount{Name: "x", Kind: KindUnconditional, Rate: 1, From: t0, Until: t0}, []string{"Until"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.d.Validate()
			if got := fieldNames(err); !equalStrings(got, tt.fields) {
				t.Errorf("Validate() fields = %q, want %q (error: %v)", got, tt.fields, err)
			}
		})
	}
}

func TestConfigValidateNamesFields(t *testing.T) {
	cfg := Config{
		Taxes: TaxTable{ShopCountry: "FR", Taxes: []Tax{{Code: "T", Ratio: -5}}},
		Discounts: []Discount{
			{Name: "a", Kind: KindUnconditional, Rate: 100},
			{Name: "a", Kind: KindMultiCodes, Codes: []CodeRate{{Code: "X"}}},
		},
	}
	want := []string{"Taxes.Taxes[0].Ratio", "Discounts[1].Codes[0].Rate", "Discounts[1].Name"}
	err := cfg.Validate()
	if got := fieldNames(err); !equalStrings(got, want) {
		t.Errorf("Validate() fields = %q, want %q (error: %v)", got, want, err)
	}
	_, err = NewEngine(cfg)
	if got := fieldNames(err); !equalStrings(got, want) {
		t.Errorf("NewEngine() fields = %q, want %q through the wrapping (error: %v)", got, want, err)
	}
}
