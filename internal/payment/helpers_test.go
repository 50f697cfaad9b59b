package payment_test

import (
	"errors"
	"testing"
)

// verified checks a notification's verification error against the table's wantErr:
// with one, that err is it and there is nothing more to check (false); without, that
// there is no error.
func verified(t *testing.T, err, wantErr error) bool {
	t.Helper()
	if wantErr != nil {
		if !errors.Is(err, wantErr) {
			t.Fatalf("err = %v, want %v", err, wantErr)
		}
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}
