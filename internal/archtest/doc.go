// Package archtest holds the tests that keep the repository's structure true to its
// docs: the import graph in its layers (archtest_test.go, see
// docs/architecture.md#package-graph) and as that page draws it (graphdoc_test.go),
// every link to a docs heading leading to one (anchors_test.go), docs/spec.md's tables
// of names matching the code's statuses, handlers, payment modes and discount kinds
// (spectables_test.go), and the back-office page's copies of the rules on statuses and
// currencies matching the code's (pagerules_test.go). It has no code of its own, so
// that a change which breaks them fails `go test ./...`.
package archtest
