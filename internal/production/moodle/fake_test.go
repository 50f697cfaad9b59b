package moodle

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeMoodle speaks the subset of Moodle's REST protocol the adapter uses,
// keeping users, courses, categories, groups, enrolments and role
// assignments in memory. Moodle is a third party the tests do not run; the fake
// follows its documented parameter names and answer shapes, including
// exceptions returned with HTTP 200.
type fakeMoodle struct {
	t     *testing.T
	token string

	mu          sync.Mutex
	nextID      int
	users       map[int]map[string]string // id → fields
	courses     map[int]map[string]string
	categories  map[int]map[string]string
	groups      map[int]map[string]string
	members     map[[2]int]bool      // groupid, userid
	enrolments  map[[2]int]fakeEnrol // courseid, userid
	assignments map[string]bool      // roleid/userid/contextlevel/instanceid
	calls       []fakeCall
}

type fakeEnrol struct{ roleID, start, end int }

type fakeCall struct {
	function string
	form     url.Values
}

func newFake(t *testing.T) (*fakeMoodle, *httptest.Server) {
	f := &fakeMoodle{
		t: t, token: "secret-token", nextID: 100,
		users: map[int]map[string]string{}, courses: map[int]map[string]string{}, categories: map[int]map[string]string{},
		groups: map[int]map[string]string{}, members: map[[2]int]bool{}, enrolments: map[[2]int]fakeEnrol{}, assignments: map[string]bool{},
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeMoodle) id() int { f.nextID++; return f.nextID }

func (f *fakeMoodle) addCourse(short string, category int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.id()
	f.courses[id] = map[string]string{"shortname": short, "fullname": short, "categoryid": strconv.Itoa(category)}
	return id
}

// list decodes Moodle's name[i][field] parameters.
func list(form url.Values, name string) []map[string]string {
	var out []map[string]string
	for i := 0; ; i++ {
		prefix := name + "[" + strconv.Itoa(i) + "]["
		item := map[string]string{}
		for k, v := range form {
			if strings.HasPrefix(k, prefix) && strings.HasSuffix(k, "]") {
				item[strings.TrimSuffix(strings.TrimPrefix(k, prefix), "]")] = v[0]
			}
		}
		if len(item) == 0 {
			return out
		}
		out = append(out, item)
	}
}

type exception struct {
	Exception string `json:"exception"`
	ErrorCode string `json:"errorcode"`
	Message   string `json:"message"`
}

func fail(code, msg string) exception {
	return exception{Exception: "moodle_exception", ErrorCode: code, Message: msg}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func (f *fakeMoodle) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/webservice/rest/server.php" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		f.t.Errorf("Content-Type %q, want form encoding", ct)
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fn := r.PostForm.Get("wsfunction")
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{function: fn, form: r.PostForm})
	var answer any
	switch {
	case r.PostForm.Get("wstoken") != f.token:
		answer = exception{Exception: "moodle_exception", ErrorCode: "invalidtoken", Message: "Invalid token - token not found"}
	case r.PostForm.Get("moodlewsrestformat") != "json":
		answer = fail("invalidformat", "answer format must be json for this fake")
	default:
		answer = f.dispatch(fn, r.PostForm)
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(answer)
}

func (f *fakeMoodle) courseBy(field, value string) (int, map[string]string) {
	for id, c := range f.courses {
		if c[field] == value {
			return id, c
		}
	}
	return 0, nil
}

func (f *fakeMoodle) dispatch(fn string, form url.Values) any {
	switch fn {
	case "core_user_get_users_by_field":
		if form.Get("field") != "email" {
			return fail("invalidparameter", "field")
		}
		out := []map[string]any{}
		for id, u := range f.users {
			if u["email"] == form.Get("values[0]") {
				out = append(out, map[string]any{"id": id, "username": u["username"], "email": u["email"]})
			}
		}
		return out
	case "core_user_create_users":
		var out []map[string]any
		for _, u := range list(form, "users") {
			if u["username"] == "" || u["firstname"] == "" || u["lastname"] == "" || u["email"] == "" {
				return fail("invalidparameter", "Invalid parameter value detected")
			}
			for _, other := range f.users {
				if other["username"] == u["username"] {
					return fail("invalidparameter", "Username already exists: "+u["username"])
				}
			}
			id := f.id()
			f.users[id] = u
			out = append(out, map[string]any{"id": id, "username": u["username"]})
		}
		return out
	case "core_course_get_courses_by_field":
		courses := []map[string]any{}
		if id, c := f.courseBy(form.Get("field"), form.Get("value")); c != nil {
			courses = append(courses, map[string]any{"id": id, "shortname": c["shortname"], "fullname": c["fullname"], "categoryid": atoi(c["categoryid"])})
		}
		return map[string]any{"courses": courses, "warnings": []any{}}
	case "enrol_manual_enrol_users":
		for _, e := range list(form, "enrolments") {
			uid, cid := atoi(e["userid"]), atoi(e["courseid"])
			if f.users[uid] == nil || f.courses[cid] == nil || atoi(e["roleid"]) == 0 {
				return fail("invalidparameter", "Invalid parameter value detected")
			}
			f.enrolments[[2]int{cid, uid}] = fakeEnrol{roleID: atoi(e["roleid"]), start: atoi(e["timestart"]), end: atoi(e["timeend"])}
		}
		return nil
	case "core_enrol_get_enrolled_users":
		cid := atoi(form.Get("courseid"))
		out := []map[string]any{}
		for k, e := range f.enrolments {
			if k[0] == cid {
				out = append(out, map[string]any{"id": k[1], "roles": []map[string]any{{"roleid": e.roleID, "shortname": shortnameOf(e.roleID)}}})
			}
		}
		return out
	case "core_role_assign_roles":
		for _, a := range list(form, "assignments") {
			if f.users[atoi(a["userid"])] == nil || (a["contextlevel"] != "system" && a["contextlevel"] != "course") {
				return fail("invalidparameter", "Invalid parameter value detected")
			}
			f.assignments[a["roleid"]+"/"+a["userid"]+"/"+a["contextlevel"]+"/"+a["instanceid"]] = true
		}
		return nil
	case "core_role_unassign_roles":
		for _, a := range list(form, "unassignments") {
			if f.users[atoi(a["userid"])] == nil || (a["contextlevel"] != "system" && a["contextlevel"] != "course") {
				return fail("invalidparameter", "Invalid parameter value detected")
			}
			delete(f.assignments, a["roleid"]+"/"+a["userid"]+"/"+a["contextlevel"]+"/"+a["instanceid"])
		}
		return nil
	case "core_group_get_course_groups":
		out := []map[string]any{}
		for id, g := range f.groups {
			if g["courseid"] == form.Get("courseid") {
				out = append(out, map[string]any{"id": id, "name": g["name"], "courseid": atoi(g["courseid"])})
			}
		}
		return out
	case "core_group_create_groups":
		var out []map[string]any
		for _, g := range list(form, "groups") {
			id := f.id()
			f.groups[id] = g
			out = append(out, map[string]any{"id": id, "name": g["name"], "courseid": atoi(g["courseid"])})
		}
		return out
	case "core_group_add_group_members":
		for _, m := range list(form, "members") {
			gid, uid := atoi(m["groupid"]), atoi(m["userid"])
			if f.groups[gid] == nil || f.users[uid] == nil {
				return fail("invalidparameter", "Invalid parameter value detected")
			}
			f.members[[2]int{gid, uid}] = true
		}
		return nil
	case "core_course_get_categories":
		out := []map[string]any{}
		for id, c := range f.categories {
			if form.Get("criteria[0][key]") == "name" && c["name"] == form.Get("criteria[0][value]") {
				out = append(out, map[string]any{"id": id, "name": c["name"], "parent": atoi(c["parent"])})
			}
		}
		return out
	case "core_course_create_categories":
		var out []map[string]any
		for _, c := range list(form, "categories") {
			if p := atoi(c["parent"]); p != 0 && f.categories[p] == nil {
				return fail("invalidparameter", "parent category does not exist")
			}
			id := f.id()
			f.categories[id] = c
			out = append(out, map[string]any{"id": id, "name": c["name"]})
		}
		return out
	case "core_course_create_courses":
		var out []map[string]any
		for _, c := range list(form, "courses") {
			if _, dup := f.courseBy("shortname", c["shortname"]); dup != nil {
				return fail("shortnametaken", fmt.Sprintf("Short name is already used for another course (%s)", c["shortname"]))
			}
			if f.categories[atoi(c["categoryid"])] == nil {
				return exception{Exception: "dml_missing_record_exception", ErrorCode: "invalidrecord", Message: "Can't find data record in database table course_categories."}
			}
			id := f.id()
			f.courses[id] = c
			out = append(out, map[string]any{"id": id, "shortname": c["shortname"]})
		}
		return out
	}
	return exception{Exception: "dml_missing_record_exception", ErrorCode: "invalidrecord", Message: "Can't find data record in database table external_functions."}
}

func shortnameOf(roleID int) string {
	for name, id := range DefaultRoles {
		if id == roleID && name != "supervisor" {
			return name
		}
	}
	return ""
}

// lastCall returns the form of the last call to fn.
func (f *fakeMoodle) lastCall(fn string) url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.calls) - 1; i >= 0; i-- {
		if f.calls[i].function == fn {
			return f.calls[i].form
		}
	}
	return nil
}

func (f *fakeMoodle) count(fn string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.function == fn {
			n++
		}
	}
	return n
}
