// Package moodle is the LMS adapter for Moodle's REST web services: every
// call is POST {base}/webservice/rest/server.php, form-encoded, with wstoken,
// wsfunction and moodlewsrestformat=json; array parameters use Moodle's
// bracket form (users[0][username]=…). Moodle reports failures as HTTP 200
// with {"exception","errorcode","message"}; they become *Error values.
//
// Limitation: Moodle's core web services do not return a user enrolment's
// end date, so Enrolment reports the role and a zero End ("no end known");
// the extension handler then refuses clearly rather than guess. A site that
// sells extensions needs a web service exposing timeend (a local plugin).
package moodle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lmsshop/checkout/internal/production"
)

// DefaultRoles maps role short names to the role IDs of a stock Moodle
// install. "supervisor" has no stock role: it maps to the non-editing teacher.
var DefaultRoles = map[string]int{
	"manager": 1, "coursecreator": 2, "editingteacher": 3, "teacher": 4, "student": 5,
	"guest": 6, "user": 7, "supervisor": 4,
}

// Client is the Moodle adapter.
type Client struct {
	endpoint string
	token    string
	http     *http.Client
	roles    map[string]int
}

var _ production.LMS = (*Client)(nil)

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (timeouts, transport).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithRoles replaces the role short name → role ID map (sites add roles such as "studentplus").
func WithRoles(r map[string]int) Option { return func(c *Client) { c.roles = r } }

// New returns a client for the Moodle site at baseURL (e.g. https://lms.example.org).
func New(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("moodle: base URL %q: want http(s)://host[/path]", baseURL)
	}
	if token == "" {
		return nil, errors.New("moodle: web-service token is empty")
	}
	c := &Client{
		endpoint: u.String() + "/webservice/rest/server.php",
		token:    token,
		http:     &http.Client{Timeout: 20 * time.Second},
		roles:    DefaultRoles,
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Error is an exception reported by Moodle.
type Error struct {
	Function  string
	Exception string `json:"exception"`
	ErrorCode string `json:"errorcode"`
	Message   string `json:"message"`
	DebugInfo string `json:"debuginfo"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("moodle %s: %s (%s)", e.Function, e.Message, e.ErrorCode)
}

// maxResponse bounds what is read from Moodle: answers here are small.
const maxResponse = 4 << 20

// call invokes a web-service function and decodes its JSON answer into out (nil to ignore it).
func (c *Client) call(ctx context.Context, function string, params url.Values, out any) error {
	form := url.Values{}
	for k, v := range params {
		form[k] = v
	}
	form.Set("wstoken", c.token)
	form.Set("wsfunction", function)
	form.Set("moodlewsrestformat", "json")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("moodle %s: %w", function, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("moodle %s: %w", function, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("moodle %s: read answer: %w", function, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moodle %s: HTTP %d: %.200s", function, resp.StatusCode, body)
	}
	// Exceptions come with HTTP 200; they are the only objects with "exception".
	if trimmed := strings.TrimSpace(string(body)); strings.HasPrefix(trimmed, "{") {
		var e Error
		if json.Unmarshal(body, &e) == nil && e.Exception != "" {
			e.Function = function
			return &e
		}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("moodle %s: decode answer: %w", function, err)
	}
	return nil
}

// set writes name[i][field]=value, Moodle's encoding of a list of structures.
func set(v url.Values, name string, i int, field, value string) {
	v.Set(name+"["+strconv.Itoa(i)+"]["+field+"]", value)
}

type user struct {
	ID       int    `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

func (c *Client) userByEmail(ctx context.Context, email string) (user, bool, error) {
	var users []user
	p := url.Values{"field": {"email"}, "values[0]": {email}}
	if err := c.call(ctx, "core_user_get_users_by_field", p, &users); err != nil {
		return user{}, false, err
	}
	for _, u := range users {
		if strings.EqualFold(u.Email, email) {
			return u, true, nil
		}
	}
	return user{}, false, nil
}

// FindUser implements production.LMS with core_user_get_users_by_field, creating
// nothing.
func (c *Client) FindUser(ctx context.Context, email string) (string, error) {
	u, found, err := c.userByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if err != nil {
		return "", err
	}
	if !found {
		return "", fmt.Errorf("moodle: user %s: %w", email, production.ErrNotFound)
	}
	return strconv.Itoa(u.ID), nil
}

// EnsureUser implements production.LMS. The username is the lowercased
// e-mail; Moodle mails the generated password (createpassword=1).
func (c *Client) EnsureUser(ctx context.Context, p production.Person) (string, bool, error) {
	email := strings.ToLower(strings.TrimSpace(p.Email))
	if !strings.Contains(email, "@") {
		return "", false, fmt.Errorf("moodle: user e-mail %q is not an address", p.Email)
	}
	if u, ok, err := c.userByEmail(ctx, email); err != nil {
		return "", false, err
	} else if ok {
		return strconv.Itoa(u.ID), false, nil
	}
	v := url.Values{}
	set(v, "users", 0, "username", email)
	set(v, "users", 0, "email", email)
	set(v, "users", 0, "firstname", p.FirstName)
	set(v, "users", 0, "lastname", p.LastName)
	set(v, "users", 0, "auth", "manual")
	set(v, "users", 0, "createpassword", "1")
	if p.Lang != "" {
		set(v, "users", 0, "lang", p.Lang)
	}
	if p.Organisation != "" {
		set(v, "users", 0, "institution", p.Organisation)
	}
	var created []user
	err := c.call(ctx, "core_user_create_users", v, &created)
	if err != nil {
		// A concurrent run may have created the account first: then it exists now.
		if u, ok, lerr := c.userByEmail(ctx, email); lerr == nil && ok {
			return strconv.Itoa(u.ID), false, nil
		}
		return "", false, err
	}
	if len(created) != 1 {
		return "", false, fmt.Errorf("moodle core_user_create_users: %d users returned, want 1", len(created))
	}
	return strconv.Itoa(created[0].ID), true, nil
}

type course struct {
	ID        int    `json:"id"`
	Shortname string `json:"shortname"`
}

// courseID returns the Moodle ID of a course; found is false when there is none.
func (c *Client) courseID(ctx context.Context, shortname string) (int, bool, error) {
	var out struct {
		Courses []course `json:"courses"`
	}
	p := url.Values{"field": {"shortname"}, "value": {shortname}}
	if err := c.call(ctx, "core_course_get_courses_by_field", p, &out); err != nil {
		return 0, false, err
	}
	for _, co := range out.Courses {
		if co.Shortname == shortname {
			return co.ID, true, nil
		}
	}
	return 0, false, nil
}

func (c *Client) mustCourse(ctx context.Context, shortname string) (int, error) {
	id, ok, err := c.courseID(ctx, shortname)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("moodle: course %q: %w", shortname, production.ErrNotFound)
	}
	return id, nil
}

// CourseExists implements production.LMS.
func (c *Client) CourseExists(ctx context.Context, shortname string) (bool, error) {
	_, ok, err := c.courseID(ctx, shortname)
	return ok, err
}

func (c *Client) roleID(role string) (int, error) {
	id, ok := c.roles[role]
	if !ok {
		return 0, fmt.Errorf("moodle: role %q has no Moodle role ID (configure WithRoles)", role)
	}
	return id, nil
}

func userID(user string) (int, error) {
	id, err := strconv.Atoi(user)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("moodle: user ID %q is not a Moodle user ID", user)
	}
	return id, nil
}

func (c *Client) enrol(ctx context.Context, uid, courseID, roleID int, start, end time.Time) error {
	v := url.Values{}
	set(v, "enrolments", 0, "roleid", strconv.Itoa(roleID))
	set(v, "enrolments", 0, "userid", strconv.Itoa(uid))
	set(v, "enrolments", 0, "courseid", strconv.Itoa(courseID))
	if !start.IsZero() {
		set(v, "enrolments", 0, "timestart", strconv.FormatInt(start.Unix(), 10))
	}
	if !end.IsZero() {
		set(v, "enrolments", 0, "timeend", strconv.FormatInt(end.Unix(), 10))
	}
	return c.call(ctx, "enrol_manual_enrol_users", v, nil)
}

// Enrol implements production.LMS with the manual enrolment plugin, which
// updates the dates of an existing enrolment, so enrolling again is harmless.
func (c *Client) Enrol(ctx context.Context, e production.Enrolment) error {
	uid, err := userID(e.User)
	if err != nil {
		return err
	}
	rid, err := c.roleID(e.Role)
	if err != nil {
		return err
	}
	cid, err := c.mustCourse(ctx, e.Course)
	if err != nil {
		return err
	}
	if err := c.enrol(ctx, uid, cid, rid, e.Start, e.End); err != nil {
		return err
	}
	if e.Group == "" {
		return nil
	}
	gid, err := c.ensureGroup(ctx, cid, e.Group)
	if err != nil {
		return err
	}
	v := url.Values{}
	set(v, "members", 0, "groupid", strconv.Itoa(gid))
	set(v, "members", 0, "userid", strconv.Itoa(uid))
	return c.call(ctx, "core_group_add_group_members", v, nil)
}

type group struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func (c *Client) ensureGroup(ctx context.Context, courseID int, name string) (int, error) {
	var groups []group
	if err := c.call(ctx, "core_group_get_course_groups", url.Values{"courseid": {strconv.Itoa(courseID)}}, &groups); err != nil {
		return 0, err
	}
	for _, g := range groups {
		if g.Name == name {
			return g.ID, nil
		}
	}
	v := url.Values{}
	set(v, "groups", 0, "courseid", strconv.Itoa(courseID))
	set(v, "groups", 0, "name", name)
	set(v, "groups", 0, "description", "")
	var created []group
	if err := c.call(ctx, "core_group_create_groups", v, &created); err != nil {
		return 0, err
	}
	if len(created) != 1 {
		return 0, fmt.Errorf("moodle core_group_create_groups: %d groups returned, want 1", len(created))
	}
	return created[0].ID, nil
}

// AssignRole implements production.LMS with core_role_assign_roles.
func (c *Client) AssignRole(ctx context.Context, user, role, level, instance string) error {
	return c.roleAssignment(ctx, "core_role_assign_roles", "assignments", user, role, level, instance)
}

// UnassignRole implements production.LMS with core_role_unassign_roles, which takes the
// same fields as the assignment.
func (c *Client) UnassignRole(ctx context.Context, user, role, level, instance string) error {
	return c.roleAssignment(ctx, "core_role_unassign_roles", "unassignments", user, role, level, instance)
}

func (c *Client) roleAssignment(ctx context.Context, fn, list, user, role, level, instance string) error {
	uid, err := userID(user)
	if err != nil {
		return err
	}
	rid, err := c.roleID(role)
	if err != nil {
		return err
	}
	v := url.Values{}
	set(v, list, 0, "roleid", strconv.Itoa(rid))
	set(v, list, 0, "userid", strconv.Itoa(uid))
	switch level {
	case production.ContextSite:
		set(v, list, 0, "contextlevel", "system")
		set(v, list, 0, "instanceid", "0")
	case production.ContextCourse:
		cid, err := c.mustCourse(ctx, instance)
		if err != nil {
			return err
		}
		set(v, list, 0, "contextlevel", "course")
		set(v, list, 0, "instanceid", strconv.Itoa(cid))
	default:
		return fmt.Errorf("moodle: unknown context level %q", level)
	}
	return c.call(ctx, fn, v, nil)
}

type enrolledUser struct {
	ID    int `json:"id"`
	Roles []struct {
		RoleID    int    `json:"roleid"`
		Shortname string `json:"shortname"`
	} `json:"roles"`
}

// Enrolment implements production.LMS with core_enrol_get_enrolled_users.
// End is zero: see the package comment.
func (c *Client) Enrolment(ctx context.Context, user, course string) (production.Enrolment, error) {
	uid, err := userID(user)
	if err != nil {
		return production.Enrolment{}, err
	}
	cid, err := c.mustCourse(ctx, course)
	if err != nil {
		return production.Enrolment{}, err
	}
	var users []enrolledUser
	if err := c.call(ctx, "core_enrol_get_enrolled_users", url.Values{"courseid": {strconv.Itoa(cid)}}, &users); err != nil {
		return production.Enrolment{}, err
	}
	for _, u := range users {
		if u.ID != uid {
			continue
		}
		e := production.Enrolment{User: user, Course: course}
		if len(u.Roles) > 0 {
			e.Role = u.Roles[0].Shortname
		}
		return e, nil
	}
	return production.Enrolment{}, fmt.Errorf("moodle: enrolment of user %s in %s: %w", user, course, production.ErrNotFound)
}

// ExtendEnrolment implements production.LMS: the manual enrolment is
// re-submitted with its current role and the new end.
func (c *Client) ExtendEnrolment(ctx context.Context, user, course string, until time.Time) error {
	e, err := c.Enrolment(ctx, user, course)
	if err != nil {
		return err
	}
	role := e.Role
	if role == "" {
		role = production.RoleStudent
	}
	uid, _ := userID(user)
	rid, err := c.roleID(role)
	if err != nil {
		return err
	}
	cid, err := c.mustCourse(ctx, course)
	if err != nil {
		return err
	}
	return c.enrol(ctx, uid, cid, rid, time.Time{}, until)
}

type category struct {
	ID     int    `json:"id"`
	Name   string `json:"name"`
	Parent int    `json:"parent"`
}

// EnsureCategory implements production.LMS. parent is a Moodle category ID ("" = top level).
func (c *Client) EnsureCategory(ctx context.Context, name, parent string) (string, bool, error) {
	pid := 0
	if parent != "" {
		var err error
		if pid, err = strconv.Atoi(parent); err != nil {
			return "", false, fmt.Errorf("moodle: parent category %q is not a category ID", parent)
		}
	}
	var found []category
	q := url.Values{"addsubcategories": {"0"}}
	q.Set("criteria[0][key]", "name")
	q.Set("criteria[0][value]", name)
	if err := c.call(ctx, "core_course_get_categories", q, &found); err != nil {
		return "", false, err
	}
	for _, cat := range found {
		if cat.Name == name && cat.Parent == pid {
			return strconv.Itoa(cat.ID), false, nil
		}
	}
	v := url.Values{}
	set(v, "categories", 0, "name", name)
	set(v, "categories", 0, "parent", strconv.Itoa(pid))
	var created []category
	if err := c.call(ctx, "core_course_create_categories", v, &created); err != nil {
		return "", false, err
	}
	if len(created) != 1 {
		return "", false, fmt.Errorf("moodle core_course_create_categories: %d categories returned, want 1", len(created))
	}
	return strconv.Itoa(created[0].ID), true, nil
}

// EnsureCourse implements production.LMS. category is a Moodle category ID.
func (c *Client) EnsureCourse(ctx context.Context, shortname, fullname, category string) (string, bool, error) {
	if id, ok, err := c.courseID(ctx, shortname); err != nil {
		return "", false, err
	} else if ok {
		return strconv.Itoa(id), false, nil
	}
	if _, err := strconv.Atoi(category); err != nil {
		return "", false, fmt.Errorf("moodle: category %q is not a category ID", category)
	}
	v := url.Values{}
	set(v, "courses", 0, "fullname", fullname)
	set(v, "courses", 0, "shortname", shortname)
	set(v, "courses", 0, "categoryid", category)
	var created []course
	if err := c.call(ctx, "core_course_create_courses", v, &created); err != nil {
		return "", false, err
	}
	if len(created) != 1 {
		return "", false, fmt.Errorf("moodle core_course_create_courses: %d courses returned, want 1", len(created))
	}
	return strconv.Itoa(created[0].ID), true, nil
}
