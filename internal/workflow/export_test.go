package workflow

// BackofficeActions lists the actions the back office's router serves, for the test
// that each has its roles.
func BackofficeActions(s *Backoffice) []string { return s.routes().RouteKeys() }
