package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

// module is the module path; the rules below name packages relative to it.
const module = "github.com/lmsshop/checkout"

// A layer is a set of packages and the layers they may import. docs/architecture.md
// (Package graph) draws the same layers; change both together.
type layer struct {
	name    string
	pkgs    []string // package paths relative to the module; "dir/*" means every package below dir
	imports []string // the layers this one may import, itself included when listed
}

// layers is the direction of imports, lowest first. A package imports only packages of
// the layers its own layer lists: nothing below imports what is above, and sideways
// imports between packages of one layer are allowed only where the layer lists itself.
var layers = []layer{
	{"domain", []string{"internal/checkout", "internal/pricing", "internal/trace"},
		[]string{"domain"}},
	// ports: what the workflow delivers, pays and notifies through, each with its
	// implementations that need nothing but the domain.
	{"ports", []string{"internal/production", "internal/payment", "internal/notify", "internal/vies"},
		[]string{"domain"}},
	// config: readers of the SAM template and of the demo shop. The SAM template reader
	// (samtemplate) speaks the transformed template's (cfn) Route, one type for one thing.
	{"config", []string{"internal/samtemplate", "internal/seed", "internal/cfn"},
		[]string{"domain", "config"}},
	// protocols: AWS wire protocols shared by the local stand-ins and the tools (request
	// signing; the Cognito user pools API operators sign in with), and how the local
	// stand-ins' processes are launched.
	{"protocols", []string{"internal/localcloud/sigv4", "internal/cognito", "internal/localcloud/proc"},
		nil},
	// adapters: DynamoDB, Step Functions, SES, the LMS adapters, the local stand-ins of AWS.
	{"adapters", []string{
		"internal/store", "internal/stepfn", "internal/production/moodle", "internal/production/locallms",
		"internal/notify/sesmail",
		"internal/localcloud/seslocal", "internal/localcloud/apigw", "internal/localcloud/dynamolocal",
		"internal/localcloud/sfnlocal", "internal/localcloud/faultproxy", "internal/localcloud/iam",
		"internal/localcloud/secretslocal", "internal/localcloud/cognitolocal",
	}, []string{"domain", "ports", "config", "protocols"}},
	// clients: the operators' client of the back-office API speaks the API's types only;
	// the storefront's client of the public API needs nothing of the repository.
	{"clients", []string{"internal/opsclient", "internal/storefront"},
		[]string{"domain"}},
	// edge: the HTTP edge every handler answers through (router, request decoding with
	// limits, errors answered with their kind's status, the cart token), which knows only
	// the domain's errors and problems.
	{"edge", []string{"internal/httpapi"},
		[]string{"domain"}},
	// handlers: the pre-placement service (purchase: the steps SHOP to ORDER) and the
	// post-placement workflow. Neither imports the other.
	{"handlers", []string{"internal/purchase", "internal/workflow"},
		[]string{"domain", "ports", "config", "adapters", "edge"}},
	// composition: builds each function's handler once per cold start: the core (wire),
	// the roots that add a client (settings: Secrets Manager; order: Step Functions;
	// post: the post-placement functions without settings, task tokens or e-mail; mail:
	// SES; ops: Step Functions, the back office; flow: Step Functions and SES) and the
	// list of them all (all).
	{"composition", []string{"internal/wire", "internal/wire/settings", "internal/wire/order", "internal/wire/post", "internal/wire/mail", "internal/wire/ops", "internal/wire/flow", "internal/wire/all"},
		[]string{"domain", "ports", "config", "adapters", "edge", "handlers", "composition"}},
	// testkits: fakes and local services for tests.
	{"testkits", []string{
		"internal/localcloud/dynamotest", "internal/production/prodtest", "internal/opsclient/opstest",
		"internal/payment/providertest", "internal/vies/viestest", "internal/cfn/cfntest",
		"internal/localcloud/sestest",
	}, []string{"domain", "ports", "config", "protocols", "adapters", "clients", "testkits"}},
	// tools: the local cloud's launcher, the benchmark, and this test.
	{"tools", []string{"internal/localcloud/launcher", "internal/localcloud/cloudtest", "internal/bench", "internal/archtest"},
		[]string{"domain", "ports", "config", "protocols", "adapters", "clients", "edge", "handlers", "composition", "testkits", "tools"}},
	// mains: one line each (functions), or commands over the layers below.
	{"mains", []string{"functions/*", "cmd/*", "e2e"},
		[]string{"domain", "ports", "config", "protocols", "adapters", "clients", "edge", "handlers", "composition", "testkits", "tools"}},
}

// noAWS are the layers whose packages import no AWS package, directly or through
// another package: the domain is plain Go.
var noAWS = []string{"domain"}

// exceptions are imports that break the rules today. Each is listed, with why it is
// still there, so that the test stays green now and fails on any new violation; one
// that disappears must be removed from here (the test says so). None is left: the last
// (workflow importing httpapi for its Response, ShopCache and Bearer) went when the HTTP
// edge was split from the pre-placement service (internal/purchase).
var exceptions = map[string]string{}

// pkg is one package of `go list`.
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// violation is one import that breaks a rule.
type violation struct {
	from, to, rule string
}

func (v violation) key() string { return v.from + " -> " + v.to }

func (v violation) String() string { return v.key() + ": " + v.rule }

// layerOf returns the layer of a package path relative to the module.
func layerOf(rel string) (layer, bool) {
	for _, l := range layers {
		for _, p := range l.pkgs {
			if dir, ok := strings.CutSuffix(p, "/*"); (ok && strings.HasPrefix(rel, dir+"/")) || p == rel {
				return l, true
			}
		}
	}
	return layer{}, false
}

func isAWS(path string) bool { return strings.HasPrefix(path, "github.com/aws/") }

// check applies the rules to a graph and returns every violation, sorted.
func check(pkgs []pkg) []violation {
	var out []violation
	for _, p := range pkgs {
		from, ok := strings.CutPrefix(p.ImportPath, module+"/")
		if !ok {
			continue
		}
		l, ok := layerOf(from)
		if !ok {
			out = append(out, violation{from, "", "the package is in no layer: add it to internal/archtest's layers and to docs/architecture.md"})
			continue
		}
		for _, imp := range p.Imports {
			to, ok := strings.CutPrefix(imp, module+"/")
			if !ok {
				continue
			}
			tl, ok := layerOf(to)
			if !ok {
				continue // reported as a package of its own
			}
			if !slices.Contains(l.imports, tl.name) {
				out = append(out, violation{from, to, fmt.Sprintf("%s may not import %s", l.name, tl.name)})
			}
		}
		if slices.Contains(noAWS, l.name) {
			for _, d := range p.Deps {
				if isAWS(d) {
					out = append(out, violation{from, d, l.name + " imports no AWS package"})
					break
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// graph lists the module's packages with `go list`, test imports excluded: tests may
// use the test kits of any layer.
func graph(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages: is the test running inside the module?", len(pkgs))
	}
	return pkgs
}

// TestImportsFollowTheLayers fails on any import that breaks the layers and is not a
// listed exception, and on any exception that no longer happens.
func TestImportsFollowTheLayers(t *testing.T) {
	found := map[string]bool{}
	for _, v := range check(graph(t)) {
		found[v.key()] = true
		if _, ok := exceptions[v.key()]; !ok {
			t.Errorf("import breaks the layers: %s", v)
		}
	}
	for e := range exceptions {
		if !found[e] {
			t.Errorf("exception %q no longer happens: remove it from internal/archtest's exceptions", e)
		}
	}
}

// TestCheckFindsViolations proves the rules can fail: each case is a small graph with
// one bad import, or none.
func TestCheckFindsViolations(t *testing.T) {
	m := func(rel string) string { return module + "/" + rel }
	tests := []struct {
		name string
		pkgs []pkg
		want []string // violation keys
	}{
		{"clean graph", []pkg{
			{ImportPath: m("internal/checkout"), Imports: []string{m("internal/pricing"), "fmt"}, Deps: []string{m("internal/pricing"), "fmt"}},
			{ImportPath: m("internal/store"), Imports: []string{m("internal/checkout"), "github.com/aws/aws-sdk-go-v2/service/dynamodb"}},
			{ImportPath: m("functions/shop"), Imports: []string{m("internal/wire")}},
		}, nil},
		{"domain imports AWS directly", []pkg{
			{ImportPath: m("internal/checkout"), Imports: []string{"github.com/aws/aws-sdk-go-v2/aws"}, Deps: []string{"github.com/aws/aws-sdk-go-v2/aws"}},
		}, []string{"internal/checkout -> github.com/aws/aws-sdk-go-v2/aws"}},
		{"pricing imports AWS through another package", []pkg{
			{ImportPath: m("internal/pricing"), Imports: []string{"example.com/x"}, Deps: []string{"example.com/x", "github.com/aws/smithy-go"}},
		}, []string{"internal/pricing -> github.com/aws/smithy-go"}},
		{"an adapter imports the HTTP edge", []pkg{
			{ImportPath: m("internal/store"), Imports: []string{m("internal/httpapi")}},
		}, []string{"internal/store -> internal/httpapi"}},
		{"a local stand-in imports the HTTP edge", []pkg{
			{ImportPath: m("internal/localcloud/sfnlocal"), Imports: []string{m("internal/httpapi")}},
		}, []string{"internal/localcloud/sfnlocal -> internal/httpapi"}},
		{"the domain imports an adapter", []pkg{
			{ImportPath: m("internal/checkout"), Imports: []string{m("internal/store")}},
		}, []string{"internal/checkout -> internal/store"}},
		{"a port imports the composition", []pkg{
			{ImportPath: m("internal/payment"), Imports: []string{m("internal/wire")}},
		}, []string{"internal/payment -> internal/wire"}},
		{"handlers import each other", []pkg{
			{ImportPath: m("internal/workflow"), Imports: []string{m("internal/purchase")}},
		}, []string{"internal/workflow -> internal/purchase"}},
		{"the HTTP edge imports a handler", []pkg{
			{ImportPath: m("internal/httpapi"), Imports: []string{m("internal/workflow")}},
		}, []string{"internal/httpapi -> internal/workflow"}},
		{"handlers import the HTTP edge", []pkg{
			{ImportPath: m("internal/purchase"), Imports: []string{m("internal/httpapi"), m("internal/store")}},
			{ImportPath: m("internal/workflow"), Imports: []string{m("internal/httpapi"), m("internal/checkout")}},
		}, nil},
		{"a package in no layer", []pkg{
			{ImportPath: m("internal/newthing")},
		}, []string{"internal/newthing -> "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, v := range check(tt.pkgs) {
				got = append(got, v.key())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("violations = %q, want %q", got, tt.want)
			}
		})
	}
}
