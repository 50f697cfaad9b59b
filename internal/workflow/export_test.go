package workflow

import "time"

// SetReleaseReserve sets releaseReserve until the returned func puts it back, for the
// test that a send ends before the invocation's deadline without waiting for it.
func SetReleaseReserve(d time.Duration) (restore func()) {
	old := releaseReserve
	releaseReserve = d
	return func() { releaseReserve = old }
}

// BackofficeActions lists the actions the back office's router serves, for the test
// that each has its roles.
func BackofficeActions(s *Backoffice) []string { return s.routes().RouteKeys() }

// BackofficePermissions is the back office's table of roles, action by action, for the
// test that docs/api.md's table says the same.
func BackofficePermissions() map[string][]string { return permissions }
