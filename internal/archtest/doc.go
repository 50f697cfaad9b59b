// Package archtest holds the test that keeps the import graph in its layers (see
// docs/architecture.md, Package graph). It has no code of its own: the rules are in
// archtest_test.go, so that a change which breaks them fails `go test ./...`.
package archtest
