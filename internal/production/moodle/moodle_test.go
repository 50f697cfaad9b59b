package moodle

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/production/prodtest"
)

func newClient(t *testing.T) (*fakeMoodle, *Client) {
	t.Helper()
	f, srv := newFake(t)
	c, err := New(srv.URL+"/", f.token, WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

var ada = production.Person{Email: "Ada@Example.org", FirstName: "Ada", LastName: "Lovelace", Lang: "fr", Organisation: "Analytical"}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct{ name, base, token, wantErr string }{
		{"no scheme", "lms.example.org", "t", "base URL"},
		{"ftp", "ftp://lms.example.org", "t", "base URL"},
		{"no token", "https://lms.example.org", "", "token is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.base, tc.token); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestEnsureUser(t *testing.T) {
	f, c := newClient(t)
	ctx := context.Background()
	id, created, err := c.EnsureUser(ctx, ada)
	if err != nil || !created || id == "" {
		t.Fatalf("first EnsureUser = %q, %v, %v; want a new user", id, created, err)
	}
	form := f.lastCall("core_user_create_users")
	want := map[string]string{
		"wstoken": "secret-token", "wsfunction": "core_user_create_users", "moodlewsrestformat": "json",
		"users[0][username]": "ada@example.org", "users[0][email]": "ada@example.org",
		"users[0][firstname]": "Ada", "users[0][lastname]": "Lovelace", "users[0][auth]": "manual",
		"users[0][createpassword]": "1", "users[0][lang]": "fr", "users[0][institution]": "Analytical",
	}
	for k, v := range want {
		if got := form.Get(k); got != v {
			t.Errorf("create form %s = %q, want %q", k, got, v)
		}
	}
	again, created, err := c.EnsureUser(ctx, ada)
	if err != nil || created || again != id {
		t.Fatalf("second EnsureUser = %q, %v, %v; want existing %s", again, created, err, id)
	}
	if n := f.count("core_user_create_users"); n != 1 {
		t.Errorf("%d create calls, want 1", n)
	}
	if _, _, err := c.EnsureUser(ctx, production.Person{Email: "nobody"}); err == nil {
		t.Error("EnsureUser accepted an e-mail without @")
	}
}

// TestFindUser: placement's read finds an account by e-mail and never creates one.
func TestFindUser(t *testing.T) {
	f, c := newClient(t)
	ctx := context.Background()
	if _, err := c.FindUser(ctx, "ada@example.org"); !errors.Is(err, production.ErrNotFound) {
		t.Fatalf("FindUser before the account exists = %v, want ErrNotFound", err)
	}
	id, _, err := c.EnsureUser(ctx, ada)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.FindUser(ctx, " ADA@example.org"); err != nil || got != id {
		t.Fatalf("FindUser = %q, %v; want %s", got, err, id)
	}
	if n := f.count("core_user_create_users"); n != 1 {
		t.Errorf("%d create calls, want only EnsureUser's", n)
	}
}

func TestEnrol(t *testing.T) {
	f, c := newClient(t)
	ctx := context.Background()
	cid := f.addCourse("GO-101", 1)
	uid, _, err := c.EnsureUser(ctx, ada)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, 30)
	for i := 0; i < 2; i++ { // enrolling twice is a set
		if err := c.Enrol(ctx, production.Enrolment{User: uid, Course: "GO-101", Role: "student", Start: start, End: end, Group: "April"}); err != nil {
			t.Fatal(err)
		}
	}
	form := f.lastCall("enrol_manual_enrol_users")
	for k, v := range map[string]string{
		"enrolments[0][roleid]": "5", "enrolments[0][userid]": uid, "enrolments[0][courseid]": strconv.Itoa(cid),
		"enrolments[0][timestart]": strconv.FormatInt(start.Unix(), 10), "enrolments[0][timeend]": strconv.FormatInt(end.Unix(), 10),
	} {
		if got := form.Get(k); got != v {
			t.Errorf("enrol form %s = %q, want %q", k, got, v)
		}
	}
	if n := len(f.enrolments); n != 1 {
		t.Errorf("%d enrolments, want 1", n)
	}
	if n := f.count("core_group_create_groups"); n != 1 {
		t.Errorf("group created %d times, want once", n)
	}
	if n := len(f.members); n != 1 {
		t.Errorf("%d group memberships, want 1", n)
	}
	got, err := c.Enrolment(ctx, uid, "GO-101")
	if err != nil || got.Role != "student" {
		t.Fatalf("Enrolment = %+v, %v; want a student enrolment", got, err)
	}
}

func TestAssignRole(t *testing.T) {
	f, c := newClient(t)
	ctx := context.Background()
	cid := f.addCourse("SEC-201", 1)
	c.roles = map[string]int{"studentplus": 9}
	uid, _, _ := c.EnsureUser(ctx, ada)
	tests := []struct {
		name, level, instance, wantKey string
	}{
		{"site", production.ContextSite, "", "9/" + uid + "/system/0"},
		{"course", production.ContextCourse, "SEC-201", "9/" + uid + "/course/" + strconv.Itoa(cid)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.AssignRole(ctx, uid, "studentplus", tc.level, tc.instance); err != nil {
				t.Fatal(err)
			}
			if !f.assignments[tc.wantKey] {
				t.Fatalf("assignment %s not recorded: %v", tc.wantKey, f.assignments)
			}
			// A refund takes it back with core_role_unassign_roles, the same fields.
			if err := c.UnassignRole(ctx, uid, "studentplus", tc.level, tc.instance); err != nil {
				t.Fatal(err)
			}
			if f.assignments[tc.wantKey] {
				t.Fatalf("assignment %s still there after UnassignRole", tc.wantKey)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	f, c := newClient(t)
	ctx := context.Background()
	f.addCourse("GO-101", 1)
	uid, _, _ := c.EnsureUser(ctx, ada)
	bad, _ := New(c.endpoint[:strings.Index(c.endpoint, "/webservice")], "wrong-token", WithHTTPClient(c.http))
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "database down", http.StatusInternalServerError)
	}))
	defer broken.Close()
	down, _ := New(broken.URL, "t")
	tests := []struct {
		name     string
		call     func() error
		wantCode string // Moodle errorcode, when the error is a Moodle exception
		wantText string
		notFound bool
	}{
		{name: "invalid token", call: func() error { _, err := bad.CourseExists(ctx, "GO-101"); return err }, wantCode: "invalidtoken", wantText: "Invalid token"},
		{name: "course in missing category", call: func() error { _, _, err := c.EnsureCourse(ctx, "NEW-1", "New", "77"); return err }, wantCode: "invalidrecord", wantText: "course_categories"},
		{name: "HTTP 500", call: func() error { _, err := down.CourseExists(ctx, "GO-101"); return err }, wantText: "HTTP 500"},
		{name: "unknown role", call: func() error {
			return c.Enrol(ctx, production.Enrolment{User: uid, Course: "GO-101", Role: "wizard"})
		}, wantText: `role "wizard"`},
		{name: "unknown course", call: func() error {
			return c.Enrol(ctx, production.Enrolment{User: uid, Course: "NOPE", Role: "student"})
		}, notFound: true, wantText: "NOPE"},
		{name: "not enrolled", call: func() error { _, err := c.Enrolment(ctx, uid, "GO-101"); return err }, notFound: true},
		{name: "extend without enrolment", call: func() error { return c.ExtendEnrolment(ctx, uid, "GO-101", time.Now()) }, notFound: true},
		{name: "not a Moodle user ID", call: func() error { return c.AssignRole(ctx, "ada@example.org", "student", "site", "") }, wantText: "not a Moodle user ID"},
		{name: "bad parent category", call: func() error { _, _, err := c.EnsureCategory(ctx, "X", "abc"); return err }, wantText: "not a category ID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("err = %v, want it to mention %q", err, tc.wantText)
			}
			var me *Error
			if tc.wantCode != "" && (!errors.As(err, &me) || me.ErrorCode != tc.wantCode) {
				t.Errorf("err = %#v, want a Moodle exception %q", err, tc.wantCode)
			}
			if tc.notFound != errors.Is(err, production.ErrNotFound) {
				t.Errorf("errors.Is(err, ErrNotFound) = %v, want %v (err %v)", !tc.notFound, tc.notFound, err)
			}
		})
	}
}

func TestExtendEnrolment(t *testing.T) {
	f, c := newClient(t)
	ctx := context.Background()
	cid := f.addCourse("GO-101", 1)
	uid, _, _ := c.EnsureUser(ctx, ada)
	if err := c.Enrol(ctx, production.Enrolment{User: uid, Course: "GO-101", Role: "teacher"}); err != nil {
		t.Fatal(err)
	}
	until := time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)
	if err := c.ExtendEnrolment(ctx, uid, "GO-101", until); err != nil {
		t.Fatal(err)
	}
	got := f.enrolments[[2]int{cid, atoi(uid)}]
	if got.end != int(until.Unix()) || got.roleID != 4 {
		t.Fatalf("enrolment after extension = %+v, want end %d with the teacher role kept", got, until.Unix())
	}
}

func TestCategoriesAndCourses(t *testing.T) {
	f, c := newClient(t)
	ctx := context.Background()
	top, created, err := c.EnsureCategory(ctx, "Acme", "")
	if err != nil || !created {
		t.Fatalf("EnsureCategory = %q, %v, %v", top, created, err)
	}
	again, created, err := c.EnsureCategory(ctx, "Acme", "")
	if err != nil || created || again != top {
		t.Fatalf("second EnsureCategory = %q, %v, %v; want %s", again, created, err, top)
	}
	child, created, err := c.EnsureCategory(ctx, "Acme", top) // same name, other parent: another category
	if err != nil || !created || child == top {
		t.Fatalf("child EnsureCategory = %q, %v, %v", child, created, err)
	}
	if got := f.lastCall("core_course_create_categories").Get("categories[0][parent]"); got != top {
		t.Errorf("child parent = %q, want %s", got, top)
	}
	id, created, err := c.EnsureCourse(ctx, "ACME-1", "Acme onboarding", child)
	if err != nil || !created {
		t.Fatalf("EnsureCourse = %q, %v, %v", id, created, err)
	}
	form := f.lastCall("core_course_create_courses")
	if form.Get("courses[0][shortname]") != "ACME-1" || form.Get("courses[0][fullname]") != "Acme onboarding" || form.Get("courses[0][categoryid]") != child {
		t.Errorf("create course form = %v", form)
	}
	if again, created, err := c.EnsureCourse(ctx, "ACME-1", "Acme onboarding", child); err != nil || created || again != id {
		t.Fatalf("second EnsureCourse = %q, %v, %v; want %s", again, created, err, id)
	}
	if ok, err := c.CourseExists(ctx, "ACME-1"); err != nil || !ok {
		t.Fatalf("CourseExists(ACME-1) = %v, %v", ok, err)
	}
}

// TestEnrolHandlerThroughMoodle runs the enrol handler with this adapter and
// the real store: the Moodle effect happens once however often the step runs.
func TestEnrolHandlerThroughMoodle(t *testing.T) {
	f, c := newClient(t)
	f.addCourse("GO-101", 1)
	st := prodtest.NewStore(t)
	h := production.Handlers(c, st, nil)["enrol"]
	j := production.Job{
		TxID: "TU80WKRYTI9QUMJ4", LineID: "1", ItemCode: "GO-101-30D", Handler: "enrol", Quantity: 1,
		Params: map[string]string{"course": "GO-101", "duration": "30"}, Now: prodtest.Now,
		Customer: production.Customer{Email: ada.Email, FirstName: ada.FirstName, LastName: ada.LastName},
	}
	ctx := context.Background()
	pre, err := h.Prepay(ctx, j)
	if err != nil || !strings.Contains(pre.Feedback.Public, "created") {
		t.Fatalf("prepay = %+v, %v", pre, err)
	}
	var first production.Result
	for i := 0; i < 3; i++ {
		res, err := h.Postpay(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = res
		} else if res.Instances[0].Reference != first.Instances[0].Reference {
			t.Fatalf("run %d returned %s, want %s", i, res.Instances[0].Reference, first.Instances[0].Reference)
		}
	}
	if n := f.count("enrol_manual_enrol_users"); n != 1 {
		t.Errorf("Moodle enrolled %d times, want once", n)
	}
	if e := f.enrolments; len(e) != 1 {
		t.Errorf("%d enrolments in Moodle, want 1", len(e))
	}
	for _, e := range f.enrolments {
		if want := prodtest.Now.AddDate(0, 0, 30).Unix(); int64(e.end) != want {
			t.Errorf("Moodle timeend = %d, want %d", e.end, want)
		}
	}
}
