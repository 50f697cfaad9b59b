package checkout_test

import (
	"errors"
	"net/mail"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/seed"
)

// demo returns the demo shop and its first catalog: it holds an item with required data
// (COURSE-SPACE), one with seats and a supervisor role (SEC-201-SEATS) and plain items.
func demo(tb testing.TB) (*checkout.Shop, *checkout.Catalog) {
	tb.Helper()
	shop, cats, err := seed.Demo()
	if err != nil || len(cats) == 0 {
		tb.Fatalf("seed.Demo: %v (%d catalogs)", err, len(cats))
	}
	return shop, cats[0]
}

// controlFree reports the first rune of s that could split a trace line or an e-mail
// header: a C0/C1 control (CR, LF, NEL…) or a Unicode line or paragraph separator.
func controlFree(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return r, false
		}
	}
	return 0, true
}

// stringsOf lists every string field reachable from v (structs, pointers, slices, maps),
// so a new text field is covered by the control-character property without editing it.
func stringsOf(v reflect.Value, path string, out map[string]string) {
	switch v.Kind() {
	case reflect.String:
		out[path] = v.String()
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			stringsOf(v.Elem(), path, out)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				stringsOf(v.Field(i), path+"."+v.Type().Field(i).Name, out)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			stringsOf(v.Index(i), path+"[]", out)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			stringsOf(v.MapIndex(k), path+"["+k.String()+"]", out)
		}
	}
}

func assertClean(t *testing.T, what string, v any) {
	t.Helper()
	fields := map[string]string{}
	stringsOf(reflect.ValueOf(v), what, fields)
	for path, s := range fields {
		if r, ok := controlFree(s); !ok {
			t.Fatalf("%s = %q keeps %U", path, s, r)
		}
		if s != strings.TrimSpace(s) {
			t.Fatalf("%s = %q is not trimmed", path, s)
		}
	}
}

// invalidFields fails unless err is an EINVALID *checkout.Error addressing at least one
// field: the 400 a client gets must say what to fix.
func invalidFields(t *testing.T, err error) []checkout.FieldError {
	t.Helper()
	var e *checkout.Error
	if !errors.As(err, &e) || e.Kind != checkout.EINVALID {
		t.Fatalf("error %v is not an EINVALID *checkout.Error", err)
	}
	if len(e.Fields) == 0 {
		t.Fatalf("error %v names no field", err)
	}
	return e.Fields
}

// FuzzClean checks the cleaner behind every text field: no control character or line
// separator survives, the result is trimmed, and cleaning twice changes nothing.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"Ada", " Ada\r\nBcc: x@evil.example ", "a\u2028b\u2029c\u0085d", "\x00\x1b[2J", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := checkout.Clean(s)
		if r, ok := controlFree(c); !ok {
			t.Fatalf("Clean(%q) = %q keeps %U", s, c, r)
		}
		if c != strings.TrimSpace(c) {
			t.Fatalf("Clean(%q) = %q is not trimmed", s, c)
		}
		if again := checkout.Clean(c); again != c {
			t.Fatalf("Clean is not idempotent: %q then %q", c, again)
		}
	})
}

// FuzzCustomer fills every text field of the buyer and the invoicing party with the same
// fuzzed shapes: after Normalise no field holds a control character, Normalise is
// idempotent, Validate never panics, refuses with field errors only, and what it accepts
// has an e-mail address that parses to itself (so it can go into a To: header as is) and
// a known country.
func FuzzCustomer(f *testing.F) {
	f.Add("Ada.Lovelace@Example.com", "lovelace", "ada", "1 Analytical Row", "75005", "Paris", "fr", false)
	f.Add("a@b.fr\r\nBcc: all@evil.example", "x\u2028y", "jean-PAUL", "rue\n2", "7500\x005", "Paris", "FR", true)
	f.Add(" ", "", "", "", "", "", "", true)
	f.Add("\"a b\"@example.com", "O'BRIEN", "ǅemal", "\u0085", "1", "Lyon", "ZZ", false)
	_, cat := demo(f)
	f.Fuzz(func(t *testing.T, email, last, first, address, zip, city, country string, invoicing bool) {
		c := checkout.Customer{Email: email, LastName: last, FirstName: first, Organisation: city, Address: address,
			Zip: zip, City: city, Country: country, Lang: last}
		if invoicing {
			c.Invoicing = &checkout.Invoicing{Organisation: first, Department: address, LastName: last, FirstName: first,
				Email: email, Address: address, Zip: zip, City: city, Country: country, VATNumber: zip, PlantCode: city}
		}
		c.Normalise()
		assertClean(t, "customer", c)
		once := c
		if c.Invoicing != nil {
			inv := *c.Invoicing
			once.Invoicing = &inv
		}
		c.Normalise()
		if !reflect.DeepEqual(c, once) {
			t.Fatalf("Normalise is not idempotent:\n%+v\n%+v", once, c)
		}
		err := c.Validate(cat)
		if err != nil {
			invalidFields(t, err)
			return
		}
		a, perr := mail.ParseAddress(c.Email)
		if perr != nil || a.Address != c.Email {
			t.Fatalf("accepted e-mail %q does not parse to itself: %v", c.Email, perr)
		}
		if len(c.Country) != 2 || !checkout.KnownCountry(c.Country) {
			t.Fatalf("accepted country %q", c.Country)
		}
		if c.LastName == "" || c.FirstName == "" || c.City == "" {
			t.Fatalf("accepted a customer without a required field: %+v", c)
		}
	})
}

// FuzzCleanRequirements sends per-unit data for an item code: the result holds only
// known fields of items that take data, at most as many units as can be bought, every
// value cleaned; anything else is a 400 naming the field.
func FuzzCleanRequirements(f *testing.F) {
	f.Add("COURSE-SPACE", "shortname", "GO-ADV\r\nx", uint8(1))
	f.Add("COURSE-SPACE", "format", "weeks", uint8(5))
	f.Add("COURSE-SPACE", "price", "0", uint8(1))
	f.Add("COURSE-SPACE", "fullname", "ok", uint8(6))
	f.Add("GO-101", "shortname", "X", uint8(1))
	f.Add("NOPE", "x", "y", uint8(0))
	_, cat := demo(f)
	f.Fuzz(func(t *testing.T, code, field, value string, units uint8) {
		in := map[string][]map[string]string{code: make([]map[string]string, units)}
		for u := range in[code] {
			in[code][u] = map[string]string{field: value, "fullname": value}
		}
		out, err := checkout.CleanRequirements(cat, in)
		it, known := cat.Item(code)
		if err != nil {
			invalidFields(t, err)
			return
		}
		if !known || len(it.RequiredData) == 0 {
			t.Fatalf("accepted data for %q, which takes none", code)
		}
		if int(units) > checkout.MaxLineQuantity || (it.MaxQuantity > 0 && int(units) > it.MaxQuantity) {
			t.Fatalf("accepted %d units for %s (max %d)", units, code, it.MaxQuantity)
		}
		if len(out[code]) != int(units) {
			t.Fatalf("kept %d units of %d", len(out[code]), units)
		}
		for _, vals := range out[code] {
			for k := range vals {
				if !hasField(it, k) {
					t.Fatalf("kept unknown field %q", k)
				}
			}
		}
		assertClean(t, "requirements", out)
	})
}

func hasField(it *checkout.Item, name string) bool {
	for _, rf := range it.RequiredData {
		if rf.Field == name {
			return true
		}
	}
	return false
}

// FuzzCleanSeats sends two participants and an assignment: after the call every
// participant is normalised (no control character, lower-cased e-mail); an accepted
// assignment names a participant, a role its item asks for, on an item with seats.
func FuzzCleanSeats(f *testing.F) {
	f.Add("a@example.com", "Lovelace", "Ada", "Paris", "B@example.com", "SEC-201-SEATS", "student", "A@Example.com")
	f.Add("a@example.com\r\nBcc: x@y.z", "L\u2028", "A", "P", "a@example.com", "SEC-201-SEATS", "supervisor", "a@example.com")
	f.Add("a@example.com", "L", "A", "P", "b@example.com", "GO-101", "student", "a@example.com")
	f.Add("", "", "", "", "", "", "", "")
	shop, cat := demo(f)
	f.Fuzz(func(t *testing.T, email, last, first, city, email2, code, role, seatEmail string) {
		people := []checkout.Participant{
			{Email: email, LastName: last, FirstName: first, City: city, Phone: last, Organisation: city},
			{Email: email2, LastName: first, FirstName: last, City: city},
		}
		seats := []checkout.Assignment{{Code: code, Role: role, Email: seatEmail}}
		err := checkout.CleanSeats(shop, cat, people, seats)
		assertClean(t, "participants", people)
		for _, p := range people {
			if p.Email != strings.ToLower(p.Email) {
				t.Fatalf("participant e-mail %q is not lower-cased", p.Email)
			}
		}
		if err != nil {
			invalidFields(t, err)
			return
		}
		it, ok := cat.Item(code)
		if !ok || it.Seats == checkout.SeatsNone || it.Seats == "" {
			t.Fatalf("accepted a seat on %q, which has none", code)
		}
		if seats[0].Email != people[0].Email && seats[0].Email != people[1].Email {
			t.Fatalf("accepted a seat for %q, who is not a participant", seats[0].Email)
		}
		if people[0].Email == people[1].Email {
			t.Fatalf("accepted the participant %q twice", people[0].Email)
		}
		roleOK := false
		for _, r := range checkout.RolesOf(it) {
			roleOK = roleOK || r == seats[0].Role
		}
		if !roleOK {
			t.Fatalf("accepted role %q on %s", seats[0].Role, code)
		}
	})
}
