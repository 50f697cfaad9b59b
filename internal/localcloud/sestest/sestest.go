// Package sestest gives a test the SES emulator (aws-ses-v2-local) that the local cloud
// runs, for tests that send or read mail without the whole local cloud.
package sestest

import (
	"context"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/localcloud/seslocal"
)

// Start runs aws-ses-v2-local on a free port for the test and stops it on cleanup. A
// machine without it fails the test, saying how to install it.
func Start(t testing.TB) *seslocal.Server {
	t.Helper()
	if _, err := seslocal.Binary(); err != nil {
		t.Fatalf("this test needs aws-ses-v2-local (make deps): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := seslocal.Start(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop aws-ses-v2-local: %v", err)
		}
	})
	return srv
}
