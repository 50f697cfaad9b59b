package workflow

// BackofficeActions lists the actions the back office's router serves, for the test
// that each has its roles.
func BackofficeActions(s *Backoffice) []string { return s.routes().RouteKeys() }

// BackofficePermissions is the back office's table of roles, action by action, for the
// test that docs/api.md's table says the same.
func BackofficePermissions() map[string][]string { return permissions }
