// Package dynamolocal fetches and runs Amazon's DynamoDB Local (a Java library from
// Maven Central) for local runs and tests.
package dynamolocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/localcloud/proc"
)

// pom is the Maven project that lists DynamoDB Local; it copies the jars to .cache.
const pom = "tools/dynamodb-local/pom.xml"

// LibDir is where Ensure puts the jars, relative to the repo root.
const LibDir = ".cache/dynamodb-local/lib"

// Ensure makes sure the DynamoDB Local jars and the sqlite4java native library are in
// repoRoot/.cache, fetching them with Maven on first use. It returns the library directory.
func Ensure(ctx context.Context, repoRoot string) (string, error) {
	lib := filepath.Join(repoRoot, LibDir)
	native := filepath.Join(lib, "libsqlite4java-linux-amd64.so")
	if _, err := os.Stat(native); err == nil {
		return lib, nil
	}
	if _, err := exec.LookPath("java"); err != nil {
		return "", errors.New("dynamolocal: java is not installed (DynamoDB Local needs Java 17): install a JDK, then run `make deps`")
	}
	if _, err := os.Stat(filepath.Join(lib, "DynamoDBLocal-2.6.1.jar")); err != nil {
		if _, err := exec.LookPath("mvn"); err != nil {
			return "", errors.New("dynamolocal: mvn is not installed; it fetches DynamoDB Local from Maven Central (`make deps`)")
		}
		cmd := exec.CommandContext(ctx, "mvn", "-q", "-B", "-f", filepath.Join(repoRoot, pom), "dependency:copy-dependencies")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("dynamolocal: fetching DynamoDB Local with Maven: %w\n%s", err, out)
		}
	}
	// Maven names the native library with its version; sqlite4java looks it up without.
	matches, _ := filepath.Glob(filepath.Join(lib, "libsqlite4java-linux-amd64-*.so"))
	if len(matches) == 0 {
		return "", fmt.Errorf("dynamolocal: no libsqlite4java-linux-amd64 in %s", lib)
	}
	raw, err := os.ReadFile(matches[0])
	if err != nil {
		return "", fmt.Errorf("dynamolocal: %w", err)
	}
	if err := os.WriteFile(native, raw, 0o644); err != nil {
		return "", fmt.Errorf("dynamolocal: %w", err)
	}
	return lib, nil
}

// Options configure Start.
type Options struct {
	LibDir string
	Port   int       // 0 picks a free port
	Log    io.Writer // DynamoDB Local's own output; nil discards it
}

// Server is a running DynamoDB Local.
type Server struct {
	proc     *proc.Process
	endpoint string
}

// Start runs DynamoDB Local in memory and waits until it answers.
func Start(ctx context.Context, o Options) (*Server, error) {
	port := o.Port
	if port == 0 {
		p, err := proc.FreePort()
		if err != nil {
			return nil, err
		}
		port = p
	} else if err := proc.PortFree(port); err != nil {
		return nil, fmt.Errorf("port %d (DynamoDB Local) is already in use", port)
	}
	cmd := exec.Command("java",
		"-Djava.library.path="+o.LibDir,
		"-cp", filepath.Join(o.LibDir, "*"),
		"com.amazonaws.services.dynamodbv2.local.main.ServerRunner",
		"-inMemory", "-sharedDb", "-port", strconv.Itoa(port))
	// It writes a metadata file in its working directory: keep that in .cache.
	cmd.Dir = filepath.Dir(o.LibDir)
	if o.Log != nil {
		cmd.Stdout, cmd.Stderr = o.Log, o.Log
	}
	// Its own process group, so stopping it never leaves a JVM behind.
	p, err := proc.Start(cmd)
	if err != nil {
		return nil, fmt.Errorf("dynamolocal: start java: %w", err)
	}
	s := &Server{proc: p, endpoint: fmt.Sprintf("http://127.0.0.1:%d", port)}
	// Any answer will do: DynamoDB Local refuses a bare GET, but it is up.
	if err := p.WaitReady(ctx, s.endpoint, true, 60*time.Second); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("dynamolocal: %w", err)
	}
	return s, nil
}

// Endpoint is the server's URL, for AWS_ENDPOINT_URL_DYNAMODB.
func (s *Server) Endpoint() string { return s.endpoint }

// Stop ends the server and waits for it.
func (s *Server) Stop() error { return s.proc.Stop() }

// TableSource describes the table to create: the SAM template (samtemplate.Template) or the
// transformed one (cfn.Template).
type TableSource interface {
	CreateTableInput(name string) (*dynamodb.CreateTableInput, error)
	TTLAttribute() string
}

// CreateTable makes the template's table under name, with its TTL attribute.
func CreateTable(ctx context.Context, db *dynamodb.Client, tpl TableSource, name string) error {
	in, err := tpl.CreateTableInput(name)
	if err != nil {
		return err
	}
	if _, err := db.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	if attr := tpl.TTLAttribute(); attr != "" {
		_, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String(name),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("enable TTL on %s: %w", name, err)
		}
	}
	return nil
}
