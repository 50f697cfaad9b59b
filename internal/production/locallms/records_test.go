package locallms

import (
	"context"
	"errors"
	"testing"

	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/production/prodtest"
)

var t0 = prodtest.Now

func TestLocalLMSRecords(t *testing.T) {
	st := prodtest.NewStore(t)
	l := New(st.DB, st.Table)
	ctx := context.Background()
	u, created, err := l.ensureUser(ctx, User{Email: "Bob@X.org", FirstName: "Bob"})
	if err != nil || !created || u.ID != "bob@x.org" {
		t.Fatalf("ensureUser = %+v, %v, %v", u, created, err)
	}
	if again, created, err := l.ensureUser(ctx, User{Email: "BOB@x.org", FirstName: "Robert"}); err != nil || created || again.FirstName != "Bob" {
		t.Fatalf("second ensureUser = %+v, %v, %v; want the first record kept", again, created, err)
	}
	if err := l.setEnrolmentEnd(ctx, "bob@x.org", "GO-101", t0); !errors.Is(err, production.ErrNotFound) {
		t.Fatalf("extend a missing enrolment: err = %v, want ErrNotFound", err)
	}
	id1, created1, err := l.ensureCategory(ctx, "Acme", "")
	if err != nil || !created1 {
		t.Fatal(created1, err)
	}
	id2, created2, err := l.ensureCategory(ctx, "Acme", "")
	if err != nil || created2 || id1 != id2 {
		t.Fatalf("second ensureCategory = %s, %v, %v; want %s", id2, created2, err, id1)
	}
	if ok, err := l.categoryExists(ctx, id1); err != nil || !ok {
		t.Fatalf("categoryExists(%s) = %v, %v", id1, ok, err)
	}
}
