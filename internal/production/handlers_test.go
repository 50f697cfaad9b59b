package production_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/production/locallms"
	"github.com/lmsshop/checkout/internal/production/prodtest"
	"github.com/lmsshop/checkout/internal/store"
)

var now = prodtest.Now

// env is one test's table, local LMS and handlers.
type env struct {
	st  *store.Store
	lms *locallms.LMS
	hs  map[string]production.Handler
}

func newEnv(t *testing.T) env {
	t.Helper()
	st := prodtest.NewStore(t)
	lms := locallms.New(st.DB, st.Table)
	if err := lms.Seed(context.Background(), "GO-101", "SEC-201", "PM-301"); err != nil {
		t.Fatal(err)
	}
	return env{st: st, lms: lms, hs: production.Handlers(lms, st, func() time.Time { return now })}
}

// postpay runs a handler's Postpay on j. With wantErr, it checks that the error names
// it and says there is nothing more to check (false).
func (e env) postpay(t *testing.T, handler string, j production.Job, wantErr string) (production.Result, bool) {
	t.Helper()
	res, err := e.hs[handler].Postpay(context.Background(), j)
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v, want it to mention %q", err, wantErr)
		}
		return res, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return res, true
}

var buyer = production.Customer{Email: "Ada@Example.org", FirstName: "Ada", LastName: "Lovelace", Lang: "en"}

func job(handler string, qty int, params map[string]string) production.Job {
	return production.Job{
		TxID: "TU80WKRYTI9QUMJ4", LineID: "1", ItemCode: strings.ToUpper(handler) + "-ITEM", ItemName: "Item " + handler,
		Handler: handler, Params: params, Quantity: qty, Customer: buyer, Now: now,
	}
}

func seat(email, role string) production.Seat {
	return production.Seat{Participant: production.Participant{Email: email, FirstName: "F", LastName: "L"}, Role: role}
}

func (e env) enrolment(t *testing.T, user, course string) (production.Enrolment, bool) {
	t.Helper()
	got, err := e.lms.Enrolment(context.Background(), user, course)
	if errors.Is(err, production.ErrNotFound) {
		return got, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return got, true
}

func days(n int) time.Time { return now.AddDate(0, 0, n) }

func checkInstances(t *testing.T, res production.Result, want int) {
	t.Helper()
	if len(res.Instances) != want {
		t.Fatalf("got %d instances, want %d", len(res.Instances), want)
	}
	for _, in := range res.Instances {
		if !production.ValidReference(in.Reference) {
			t.Errorf("instance reference %q is not valid", in.Reference)
		}
		if in.Customer != "ada@example.org" {
			t.Errorf("instance customer %q, want the lowercased buyer e-mail", in.Customer)
		}
		if len(in.Events) == 0 {
			t.Errorf("instance %s has no event", in.Reference)
		}
	}
}

func TestEnrol(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name      string
		line      string
		params    map[string]string
		seats     []production.Seat
		qty       int
		wantUsers []string
		wantRole  string
		wantStart time.Time
		wantEnd   time.Time
		wantErr   string
	}{
		{name: "buyer for 30 days", line: "a", params: map[string]string{"course": "GO-101", "duration": "30"}, qty: 1,
			wantUsers: []string{"ada@example.org"}, wantRole: "student", wantStart: now, wantEnd: days(30)},
		{name: "seats with fixed dates and group", line: "b", params: map[string]string{"course": "SEC-201", "start": "2026-04-01", "end": "2026-06-30", "group": "April", "role": "student"},
			seats: []production.Seat{seat("Bob@x.org", "student"), seat("cy@x.org", "student")}, qty: 2,
			wantUsers: []string{"bob@x.org", "cy@x.org"}, wantRole: "student",
			wantStart: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), wantEnd: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)},
		{name: "teacher role without end", line: "c", params: map[string]string{"course": "PM-301", "role": "teacher"}, qty: 1,
			wantUsers: []string{"ada@example.org"}, wantRole: "teacher", wantStart: now},
		{name: "unknown course", line: "d", params: map[string]string{"course": "NOPE-1"}, qty: 1, wantErr: "NOPE-1"},
		{name: "quantity without seats", line: "e", params: map[string]string{"course": "GO-101"}, qty: 3, wantErr: "needs 3 assigned seats"},
		{name: "missing course", line: "f", params: map[string]string{}, qty: 1, wantErr: `"course" is required`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := job("enrol", tc.qty, tc.params)
			j.LineID, j.Seats = tc.line, tc.seats
			res, ok := e.postpay(t, "enrol", j, tc.wantErr)
			if !ok {
				return
			}
			checkInstances(t, res, len(tc.wantUsers))
			for i, u := range tc.wantUsers {
				got, ok := e.enrolment(t, u, tc.params["course"])
				if !ok {
					t.Fatalf("%s is not enrolled in %s", u, tc.params["course"])
				}
				if got.Role != tc.wantRole || !got.Start.Equal(tc.wantStart) || !got.End.Equal(tc.wantEnd) || got.Group != tc.params["group"] {
					t.Errorf("enrolment of %s = %+v, want role %s %s→%s group %q", u, got, tc.wantRole, tc.wantStart, tc.wantEnd, tc.params["group"])
				}
				in := res.Instances[i]
				if in.Beneficiary != u || in.Context != tc.params["course"] || !in.End.Equal(tc.wantEnd) {
					t.Errorf("instance %+v does not describe %s in %s until %s", in, u, tc.params["course"], tc.wantEnd)
				}
				if !strings.Contains(res.Feedback.Public, u) || !strings.Contains(res.Feedback.SalesAdmin, in.Reference) {
					t.Errorf("feedback %+v does not name %s and its reference", res.Feedback, u)
				}
			}
		})
	}
}

func TestAssignRole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name, line            string
		params                map[string]string
		wantLevel, wantTarget string
		wantErr               string
	}{
		{name: "site-wide", line: "a", params: map[string]string{"role": "studentplus"}, wantLevel: "site"},
		{name: "on a course", line: "b", params: map[string]string{"role": "studentplus", "context": "GO-101"}, wantLevel: "course", wantTarget: "GO-101"},
		{name: "on a missing course", line: "c", params: map[string]string{"role": "studentplus", "context": "NOPE"}, wantErr: "NOPE"},
		{name: "no role", line: "d", params: map[string]string{}, wantErr: `"role" is required`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := job("assignrole", 1, tc.params)
			j.LineID = tc.line
			res, ok := e.postpay(t, "assignrole", j, tc.wantErr)
			if !ok {
				return
			}
			checkInstances(t, res, 1)
			roles, err := e.lms.Roles(ctx, "ada@example.org")
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, r := range roles {
				found = found || (r.Role == "studentplus" && r.Level == tc.wantLevel && r.Instance == tc.wantTarget)
			}
			if !found {
				t.Fatalf("roles %+v lack studentplus on %s %q", roles, tc.wantLevel, tc.wantTarget)
			}
		})
	}
}

func TestExtension(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	uid, _, err := e.lms.EnsureUser(ctx, buyer.Person())
	if err != nil {
		t.Fatal(err)
	}
	// GO-101 ends in 10 days; SEC-201 ended 5 days ago; PM-301 has no end.
	for course, end := range map[string]time.Time{"GO-101": days(10), "SEC-201": days(-5), "PM-301": {}} {
		if err := e.lms.Enrol(ctx, production.Enrolment{User: uid, Course: course, Role: "student", Start: days(-60), End: end}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, line, course string
		qty                int
		wantEnd            time.Time
		wantErr            string
	}{
		{name: "running enrolment, 2 units of 30 days", line: "a", course: "GO-101", qty: 2, wantEnd: days(10 + 60)},
		{name: "expired enrolment counts from now", line: "b", course: "SEC-201", qty: 1, wantEnd: days(30)},
		{name: "no enrolment", line: "c", course: "NOPE-9", qty: 1, wantErr: "has no enrolment in NOPE-9"},
		{name: "unlimited enrolment", line: "d", course: "PM-301", qty: 1, wantErr: "no end date"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := job("extension", tc.qty, map[string]string{"course": tc.course, "days": "30"})
			j.LineID = tc.line
			res, ok := e.postpay(t, "extension", j, tc.wantErr)
			if !ok {
				return
			}
			checkInstances(t, res, 1)
			got, _ := e.enrolment(t, uid, tc.course)
			if !got.End.Equal(tc.wantEnd) || !res.Instances[0].End.Equal(tc.wantEnd) {
				t.Fatalf("end = %s (instance %s), want %s", got.End, res.Instances[0].End, tc.wantEnd)
			}
			if res.Instances[0].Events[0].Type != production.EventExtended {
				t.Errorf("event %q, want extended", res.Instances[0].Events[0].Type)
			}
		})
	}
}

func TestSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	j := job("session", 2, map[string]string{"course": "GO-101", "group": "Spring", "duration": "5"})
	j.Seats = []production.Seat{seat("s1@x.org", "student"), seat("boss@x.org", "supervisor")}
	res, err := e.hs["session"].Postpay(ctx, j)
	if err != nil {
		t.Fatal(err)
	}
	checkInstances(t, res, 3)
	want := map[string]string{"s1@x.org": "student", "boss@x.org": "supervisor", "ada@example.org": "supervisor"}
	list, err := e.lms.Enrolments(ctx, "GO-101")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(want) {
		t.Fatalf("%d enrolments in GO-101, want %d: %+v", len(list), len(want), list)
	}
	for _, en := range list {
		if want[en.User] != en.Role || en.Group != "Spring" || !en.End.Equal(days(5)) {
			t.Errorf("enrolment %+v, want role %q group Spring until %s", en, want[en.User], days(5))
		}
	}
	if got := e.hs["session"].Roles(); len(got) != 1 || got[0] != "supervisor" {
		t.Errorf("Roles() = %v, want [supervisor]", got)
	}
	j.Seats, j.LineID = nil, "2"
	if _, err := e.hs["session"].Postpay(ctx, j); err == nil || !strings.Contains(err.Error(), "no participant") {
		t.Fatalf("session without seats: err = %v", err)
	}
}

func TestSeatsPack(t *testing.T) {
	e := newEnv(t)
	res, err := e.hs["seatspack"].Postpay(context.Background(), job("seatspack", 5, map[string]string{"course": "GO-101"}))
	if err != nil {
		t.Fatal(err)
	}
	checkInstances(t, res, 5)
	refs := map[string]bool{}
	for _, in := range res.Instances {
		if in.Status != production.StatusUnassigned || in.Beneficiary != "" || in.Events[0].Type != production.EventUnassigned {
			t.Errorf("seat %+v is not unassigned", in)
		}
		refs[in.Reference] = true
		if !strings.Contains(res.Feedback.Private, in.Reference) {
			t.Errorf("private feedback lacks seat %s", in.Reference)
		}
	}
	if len(refs) != 5 {
		t.Errorf("%d distinct references, want 5", len(refs))
	}
	stored, err := e.st.CustomerInstances(context.Background(), "ADA@example.org")
	if err != nil || len(stored) != 5 {
		t.Fatalf("stored instances: %d, %v; want 5", len(stored), err)
	}
}

func TestBalances(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name, handler, line string
		params              map[string]string
		qty                 int
		balance             string
		want                int64
		wantErr             string
	}{
		{name: "credits 10 × 3", handler: "credits", line: "a", params: map[string]string{"credits": "10"}, qty: 3, balance: production.BalanceCredits, want: 30},
		{name: "more credits add up", handler: "credits", line: "b", params: map[string]string{"credits": "5"}, qty: 1, balance: production.BalanceCredits, want: 35},
		{name: "quiz attempts 2 × 2", handler: "quizattempts", line: "c", params: map[string]string{"quiz": "final-exam", "attempts": "2"}, qty: 2, balance: production.QuizAttemptsBalance("final-exam"), want: 4},
		{name: "credits not a number", handler: "credits", line: "d", params: map[string]string{"credits": "ten"}, qty: 1, wantErr: "positive integer"},
		{name: "quiz missing", handler: "quizattempts", line: "e", params: map[string]string{"attempts": "1"}, qty: 1, wantErr: `"quiz" is required`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := job(tc.handler, tc.qty, tc.params)
			j.LineID = tc.line
			res, ok := e.postpay(t, tc.handler, j, tc.wantErr)
			if !ok {
				return
			}
			checkInstances(t, res, 1)
			got, err := e.st.Balance(ctx, buyer.Email, tc.balance)
			if err != nil || got != tc.want {
				t.Fatalf("balance %s = %d, %v; want %d", tc.balance, got, err, tc.want)
			}
		})
	}
}

func TestCertificate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	uid, _, _ := e.lms.EnsureUser(ctx, buyer.Person())
	if err := e.lms.Enrol(ctx, production.Enrolment{User: uid, Course: "GO-101", Role: "student", Start: now}); err != nil {
		t.Fatal(err)
	}
	res, err := e.hs["certificate"].Postpay(ctx, job("certificate", 1, map[string]string{"course": "GO-101"}))
	if err != nil {
		t.Fatal(err)
	}
	checkInstances(t, res, 1)
	if res.Instances[0].Data["certificate"] != "released" || res.Instances[0].Context != "GO-101" {
		t.Errorf("instance %+v is not a GO-101 release", res.Instances[0])
	}
	j := job("certificate", 1, map[string]string{"course": "SEC-201"})
	j.LineID = "2"
	if _, err := e.hs["certificate"].Postpay(ctx, j); err == nil || !strings.Contains(err.Error(), "not enrolled in SEC-201") {
		t.Fatalf("certificate without enrolment: err = %v", err)
	}
}

var keyPattern = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$`)

func TestLicence(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	j := job("licence", 3, map[string]string{"product": "Authoring Tool"})
	res, err := e.hs["licence"].Postpay(ctx, j)
	if err != nil {
		t.Fatal(err)
	}
	checkInstances(t, res, 3)
	keys := map[string]bool{}
	for _, in := range res.Instances {
		k := in.Data["key"]
		if !keyPattern.MatchString(k) {
			t.Errorf("key %q is not 5 groups of 5 Crockford base-32 characters", k)
		}
		if !strings.Contains(res.Feedback.Private, k) || strings.Contains(res.Feedback.Public, k) {
			t.Errorf("key %s must be in private feedback only: %+v", k, res.Feedback)
		}
		keys[k] = true
	}
	if len(keys) != 3 {
		t.Fatalf("%d distinct keys, want 3", len(keys))
	}
	again, err := e.hs["licence"].Postpay(ctx, j)
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range again.Instances {
		if in.Data["key"] != res.Instances[i].Data["key"] {
			t.Errorf("retry changed key %d: %s → %s", i, res.Instances[i].Data["key"], in.Data["key"])
		}
	}
}

func TestCategoryAndCourseSpace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cj := job("category", 1, map[string]string{})
	cj.Required = []map[string]string{{"name": "Acme Academy"}}
	cres, err := e.hs["category"].Postpay(ctx, cj)
	if err != nil {
		t.Fatal(err)
	}
	checkInstances(t, cres, 1)
	catID := cres.Instances[0].Data["categoryId"]
	if catID == "" {
		t.Fatal("category instance has no categoryId")
	}
	if err := e.hs["coursespace"].Check(ctx, "shortname", "GO-101"); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("Check(existing shortname) = %v", err)
	}
	if err := e.hs["coursespace"].Check(ctx, "shortname", "bad name!"); err == nil {
		t.Fatal("Check(malformed shortname) = nil")
	}
	if err := e.hs["coursespace"].Check(ctx, "shortname", "ACME-1"); err != nil {
		t.Fatalf("Check(free shortname) = %v", err)
	}
	sj := job("coursespace", 2, map[string]string{"category": catID})
	sj.LineID = "2"
	sj.Required = []map[string]string{{"shortname": "ACME-1", "fullname": "Acme onboarding"}, {"shortname": "ACME-2"}}
	sres, err := e.hs["coursespace"].Postpay(ctx, sj)
	if err != nil {
		t.Fatal(err)
	}
	checkInstances(t, sres, 2)
	for _, short := range []string{"ACME-1", "ACME-2"} {
		c, err := e.lms.Course(ctx, short)
		if err != nil || c.Category != catID {
			t.Fatalf("course %s = %+v, %v; want it in category %s", short, c, err, catID)
		}
		if en, ok := e.enrolment(t, "ada@example.org", short); !ok || en.Role != "editingteacher" {
			t.Errorf("buyer enrolment in %s = %+v, %v; want editingteacher", short, en, ok)
		}
	}
	// A short name that exists already (Check bypassed, or taken after it
	// ran) must not make the buyer teacher of someone else's course.
	taken := job("coursespace", 1, map[string]string{"category": catID})
	taken.LineID = "4"
	taken.Required = []map[string]string{{"shortname": "GO-101"}}
	if _, err := e.hs["coursespace"].Postpay(ctx, taken); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("course space on a taken short name: err = %v", err)
	}
	if _, ok := e.enrolment(t, "ada@example.org", "GO-101"); ok {
		t.Fatal("the buyer was enrolled in the existing course GO-101")
	}
	// Running the same line again (a retry) finds its own courses and succeeds.
	if again, err := e.hs["coursespace"].Postpay(ctx, sj); err != nil || again.Instances[0].Reference != sres.Instances[0].Reference {
		t.Fatalf("retry of the course space line: %v", err)
	}
	bad := job("coursespace", 1, map[string]string{"category": "cat-missing"})
	bad.LineID = "3"
	bad.Required = []map[string]string{{"shortname": "ACME-3"}}
	if _, err := e.hs["coursespace"].Postpay(ctx, bad); err == nil || !strings.Contains(err.Error(), "cat-missing") {
		t.Fatalf("course space in a missing category: err = %v", err)
	}
}

func TestPrepayEnsuresAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, name := range []string{"enrol", "licence"} {
		t.Run(name, func(t *testing.T) {
			j := job(name, 1, map[string]string{"course": "GO-101"})
			j.Customer.Email = name + "-buyer@example.org"
			first, err := e.hs[name].Prepay(ctx, j)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(first.Feedback.Public, "created") || !strings.Contains(first.Feedback.SalesAdmin, "account created") {
				t.Errorf("first prepay feedback %+v does not announce the account", first.Feedback)
			}
			second, err := e.hs[name].Prepay(ctx, j)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(second.Feedback.Public, "created") {
				t.Errorf("second prepay feedback %+v announces a new account again", second.Feedback)
			}
		})
	}
	bad := job("enrol", 1, nil)
	bad.Customer.Email = "not-an-address"
	if _, err := e.hs["enrol"].Prepay(ctx, bad); err == nil || !strings.Contains(err.Error(), "not an address") {
		t.Fatalf("prepay with a bad e-mail: err = %v", err)
	}
}

func TestRegistryAndValidateParams(t *testing.T) {
	hs := production.Handlers(nil, nil, nil)
	names := []string{"enrol", "assignrole", "extension", "session", "seatspack", "credits", "quizattempts", "certificate", "licence", "category", "coursespace"}
	if len(hs) != len(names) {
		t.Errorf("%d handlers, want %d", len(hs), len(names))
	}
	for _, n := range names {
		if h, ok := hs[n]; !ok || h.Name() != n {
			t.Errorf("handler %q missing or misnamed", n)
		}
	}
	tests := []struct {
		handler string
		params  map[string]string
		wantErr string
	}{
		{"enrol", map[string]string{"course": "GO-101", "duration": "30"}, ""},
		{"enrol", map[string]string{"course": "GO-101", "duration": "-3"}, "positive integer"},
		{"enrol", map[string]string{"course": "GO-101", "duration": "3", "end": "2026-01-01"}, "exclusive"},
		{"enrol", map[string]string{"course": "GO-101", "start": "2026-05-01", "end": "2026-04-01"}, "not after start"},
		{"enrol", map[string]string{"course": "GO-101", "start": "01/05/2026"}, "YYYY-MM-DD"},
		{"assignrole", map[string]string{"role": "studentplus", "context": "site"}, ""},
		{"assignrole", map[string]string{"context": "site"}, `"role" is required`},
		{"extension", map[string]string{"course": "GO-101", "days": "30"}, ""},
		{"extension", map[string]string{"course": "GO-101"}, `"days" is required`},
		{"session", map[string]string{}, `"course" is required`},
		{"credits", map[string]string{"credits": "0"}, "positive integer"},
		{"quizattempts", map[string]string{"quiz": "q1", "attempts": "2"}, ""},
		{"certificate", map[string]string{}, `"course" is required`},
		{"coursespace", map[string]string{}, `"category" is required`},
		{"seatspack", map[string]string{}, ""},
		{"licence", nil, ""},
		{"category", nil, ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %v", tc.handler, tc.params), func(t *testing.T) {
			err := hs[tc.handler].ValidateParams(tc.params)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("err = %v, want none", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestCheckCourse(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.hs["enrol"].Check(ctx, "course", "GO-101"); err != nil {
		t.Errorf("Check(existing course) = %v", err)
	}
	if err := e.hs["enrol"].Check(ctx, "course", "ZZ-999"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Check(missing course) = %v", err)
	}
	if err := e.hs["enrol"].Check(ctx, "comment", "anything"); err != nil {
		t.Errorf("Check(other field) = %v", err)
	}
}

// ---- Idempotency ----

// lineCount reads what a repeated production must not multiply.
func (e env) counts(t *testing.T) (instances, enrolments int, credits int64) {
	t.Helper()
	ctx := context.Background()
	list, err := e.st.CustomerInstances(ctx, buyer.Email)
	if err != nil {
		t.Fatal(err)
	}
	ens, err := e.lms.Enrolments(ctx, "GO-101")
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.st.Balance(ctx, buyer.Email, production.BalanceCredits)
	if err != nil {
		t.Fatal(err)
	}
	return len(list), len(ens), c
}

func TestIdempotentProduction(t *testing.T) {
	enrolJob := job("enrol", 1, map[string]string{"course": "GO-101", "duration": "30"})
	creditJob := job("credits", 2, map[string]string{"credits": "10"})
	creditJob.LineID = "2"
	for _, mode := range []struct {
		name string
		runs int
		par  bool
	}{{"sequential twice", 2, false}, {"20 concurrent", 20, true}} {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			refs := make(chan string, 2*mode.runs)
			run := func() error {
				for _, j := range []production.Job{enrolJob, creditJob} {
					res, err := e.hs[j.Handler].Postpay(ctx, j)
					if err != nil {
						return err
					}
					refs <- res.Instances[0].Reference
				}
				return nil
			}
			errs := make(chan error, mode.runs)
			var wg sync.WaitGroup
			for i := 0; i < mode.runs; i++ {
				if !mode.par {
					errs <- run()
					continue
				}
				wg.Add(1)
				go func() { defer wg.Done(); errs <- run() }()
			}
			wg.Wait()
			close(errs)
			close(refs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			distinct := map[string]bool{}
			for r := range refs {
				distinct[r] = true
			}
			if len(distinct) != 2 {
				t.Errorf("runs returned %d distinct references, want 2 (one per line)", len(distinct))
			}
			inst, ens, credits := e.counts(t)
			if inst != 2 || ens != 1 || credits != 20 {
				t.Fatalf("after %d runs: %d instances, %d enrolments, %d credits; want 2, 1, 20", mode.runs, inst, ens, credits)
			}
		})
	}
}

// crashingStore fails the first Commit, as if the Lambda died after the LMS
// call and before the marker was written.
type crashingStore struct {
	production.InstanceStore
	mu      sync.Mutex
	crashed bool
}

func (c *crashingStore) Commit(ctx context.Context, cm production.Commit) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.crashed {
		c.crashed = true
		return errors.New("simulated crash before commit")
	}
	return c.InstanceStore.Commit(ctx, cm)
}

func TestRetryAfterCrashDoesNotDoubleDeliver(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	uid, _, _ := e.lms.EnsureUser(ctx, buyer.Person())
	if err := e.lms.Enrol(ctx, production.Enrolment{User: uid, Course: "GO-101", Role: "student", Start: days(-20), End: days(10)}); err != nil {
		t.Fatal(err)
	}
	catID, _, err := e.lms.EnsureCategory(ctx, "Crash tests", "")
	if err != nil {
		t.Fatal(err)
	}
	spaceJob := job("coursespace", 1, map[string]string{"category": catID})
	spaceJob.Required = []map[string]string{{"shortname": "CRASH-1"}}
	cs := &crashingStore{InstanceStore: e.st}
	crashing := production.Handlers(e.lms, cs, func() time.Time { return now })
	tests := []struct {
		name  string
		j     production.Job
		check func(t *testing.T)
	}{
		{"extension is not applied twice", job("extension", 1, map[string]string{"course": "GO-101", "days": "30"}), func(t *testing.T) {
			if got, _ := e.enrolment(t, uid, "GO-101"); !got.End.Equal(days(40)) {
				t.Fatalf("end after crash and retry = %s, want %s", got.End, days(40))
			}
		}},
		{"credits are added once", job("credits", 1, map[string]string{"credits": "7"}), func(t *testing.T) {
			if got, _ := e.st.Balance(ctx, buyer.Email, production.BalanceCredits); got != 7 {
				t.Fatalf("credits after crash and retry = %d, want 7", got)
			}
		}},
		{"a course space it created itself is not refused as taken", spaceJob, func(t *testing.T) {
			if en, ok := e.enrolment(t, "ada@example.org", "CRASH-1"); !ok || en.Role != "editingteacher" {
				t.Fatalf("buyer enrolment in CRASH-1 = %+v, %v", en, ok)
			}
		}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.j.LineID = fmt.Sprint("crash-", i)
			cs.crashed = false
			if _, err := crashing[tc.j.Handler].Postpay(ctx, tc.j); err == nil {
				t.Fatal("the simulated crash was not reported")
			}
			// The workflow retries the task later, with the same job.
			retry := tc.j
			retry.Now = now.Add(3 * time.Minute)
			res, err := crashing[tc.j.Handler].Postpay(ctx, retry)
			if err != nil {
				t.Fatal(err)
			}
			checkInstances(t, res, 1)
			tc.check(t)
			again, err := e.hs[tc.j.Handler].Postpay(ctx, retry)
			if err != nil || again.Instances[0].Reference != res.Instances[0].Reference {
				t.Fatalf("third run: %v, reference %v vs %s", err, again.Instances, res.Instances[0].Reference)
			}
			tc.check(t)
		})
	}
}

func TestInstanceLookupByReference(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	res, err := e.hs["enrol"].Postpay(ctx, job("enrol", 1, map[string]string{"course": "GO-101", "duration": "7"}))
	if err != nil {
		t.Fatal(err)
	}
	want := res.Instances[0]
	got, err := e.st.Instance(ctx, want.Reference)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != want.ID || got.TxID != want.TxID || !got.End.Equal(want.End) || len(got.Events) != 1 || got.Events[0].Type != production.EventDelivered {
		t.Fatalf("Instance(%s) = %+v, want %+v", want.Reference, got, want)
	}
	if err := e.st.AddProductEvent(ctx, want.Reference, production.Event{Type: production.EventBilled, At: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, _ = e.st.Instance(ctx, want.Reference)
	if len(got.Events) != 2 || got.Events[1].Type != production.EventBilled {
		t.Fatalf("events after billing = %+v", got.Events)
	}
	if _, err := e.st.Instance(ctx, "0000-0000-0000-0000"); !errors.Is(err, production.ErrNotFound) {
		t.Fatalf("unknown reference: err = %v, want ErrNotFound", err)
	}
}
