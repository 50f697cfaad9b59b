// Package dynamolocal fetches and runs Amazon's DynamoDB Local (a Java library from
// Maven Central) for local runs and tests.
package dynamolocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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
	cmd      *exec.Cmd
	endpoint string
	done     chan struct{}
}

// Start runs DynamoDB Local in memory and waits until it answers.
func Start(ctx context.Context, o Options) (*Server, error) {
	port := o.Port
	if port == 0 {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		port = p
	} else if err := PortFree(port); err != nil {
		return nil, fmt.Errorf("port %d (DynamoDB Local) is already in use", port)
	}
	cmd := exec.Command("java",
		"-Djava.library.path="+o.LibDir,
		"-cp", filepath.Join(o.LibDir, "*"),
		"com.amazonaws.services.dynamodbv2.local.main.ServerRunner",
		"-inMemory", "-sharedDb", "-port", strconv.Itoa(port))
	// Its own process group, so stopping it never leaves a JVM behind.
	// It writes a metadata file in its working directory: keep that in .cache.
	cmd.Dir = filepath.Dir(o.LibDir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if o.Log != nil {
		cmd.Stdout, cmd.Stderr = o.Log, o.Log
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dynamolocal: start java: %w", err)
	}
	s := &Server{cmd: cmd, endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := waitHTTP(ctx, s.endpoint, s.done, 60*time.Second); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("dynamolocal: %w", err)
	}
	return s, nil
}

// Endpoint is the server's URL, for AWS_ENDPOINT_URL_DYNAMODB.
func (s *Server) Endpoint() string { return s.endpoint }

// Stop ends the server and waits for it.
func (s *Server) Stop() error {
	if s.cmd.Process == nil {
		return nil
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
	return nil
}

func waitHTTP(ctx context.Context, url string, exited <-chan struct{}, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("process exited before answering")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no answer from %s after %s", url, limit)
}

// FreePort asks the kernel for an unused loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// PortFree reports an error when something already listens on the loopback port.
func PortFree(port int) error {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return err
	}
	return l.Close()
}

// TableSource describes the table to create: the SAM template (stack.Template) or the
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
