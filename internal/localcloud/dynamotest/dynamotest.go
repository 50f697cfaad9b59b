// Package dynamotest gives tests a fresh table, made from template.yaml's definition, in
// a DynamoDB Local started once per test binary (or the one at $DYNAMODB_ENDPOINT).
package dynamotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lmsshop/checkout/internal/localcloud/dynamolocal"
	"github.com/lmsshop/checkout/internal/localcloud/faultproxy"
	"github.com/lmsshop/checkout/internal/samtemplate"
)

var (
	once     sync.Once
	endpoint string
	startErr error
)

// RepoRoot finds the module root from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("dynamotest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Endpoint returns a running DynamoDB Local's URL, starting one on first use. The server
// lives as long as the test binary: its process dies with it.
func Endpoint(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if e := os.Getenv("DYNAMODB_ENDPOINT"); e != "" {
			endpoint = e
			return
		}
		root, err := RepoRoot()
		if err != nil {
			startErr = err
			return
		}
		lib, err := dynamolocal.Ensure(context.Background(), root)
		if err != nil {
			startErr = err
			return
		}
		srv, err := dynamolocal.Start(context.Background(), dynamolocal.Options{LibDir: lib})
		if err != nil {
			startErr = err
			return
		}
		endpoint = srv.Endpoint()
	})
	if startErr != nil {
		t.Fatalf("DynamoDB Local: %v", startErr)
	}
	return endpoint
}

// Client returns a DynamoDB client for the test server, with optional client options
// (e.g. middleware that counts round trips).
func Client(t testing.TB, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	t.Helper()
	ep := Endpoint(t)
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "localsecret", ""),
	}
	opts = append([]func(*dynamodb.Options){func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ep) }}, opts...)
	return dynamodb.NewFromConfig(cfg, opts...)
}

// ThroughFaults returns a DynamoDB client that reaches the test server through a fault
// proxy, and the proxy, which starts without faults and stops when the test ends: the
// test sets the failures it needs (faultproxy.Faults; ResetAfter loses an answer after
// DynamoDB did the work, and the SDK retries the call). Each call is tried attempts
// times (Retries).
func ThroughFaults(t testing.TB, attempts int) (*dynamodb.Client, *faultproxy.Proxy) {
	t.Helper()
	p, url := StartProxy(t, Endpoint(t), faultproxy.Options{Name: "dynamodb"})
	return Client(t, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(url) }, Retries(attempts)), p
}

// StartProxy puts a listening fault proxy in front of upstream (DynamoDB Local, or a
// test's fake of it) and returns it with its URL; it stops when the test ends.
func StartProxy(t testing.TB, upstream string, opts faultproxy.Options) (*faultproxy.Proxy, string) {
	t.Helper()
	p, err := faultproxy.New(upstream, opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err := p.Listen()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p, url
}

// Retries makes a client try each call attempts times, a millisecond apart,
// and without the standard retryer's token bucket, which would stop retrying after a
// burst of injected failures: what a test of retries measures is what they do, not when.
func Retries(attempts int) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = attempts
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
			so.RateLimiter = ratelimit.None
		})
	}
}

// NewTable creates a uniquely named table from template.yaml and deletes it when the
// test ends.
func NewTable(t testing.TB, opts ...func(*dynamodb.Options)) (*dynamodb.Client, string) {
	t.Helper()
	db := Client(t, opts...)
	name := CreateTable(t, db)
	return db, name
}

// CreateTable creates a uniquely named table from template.yaml with db.
func CreateTable(t testing.TB, db *dynamodb.Client) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "test-" + hex.EncodeToString(b[:])
	if err := dynamolocal.CreateTable(context.Background(), db, tpl, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name
}
