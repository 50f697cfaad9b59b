// Package seslocal starts and drives aws-ses-v2-local, the npm stand-in for
// Amazon SES v2 that keeps every sent e-mail in memory. Tests, end-to-end
// runs and the local cloud launcher use it to send through the real SES SDK
// client and read back what was sent.
package seslocal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// BinaryEnv names the environment variable that overrides where the
// aws-ses-v2-local executable is; by default it is looked for in
// node_modules/.bin of the working directory or of any parent.
const BinaryEnv = "SES_LOCAL_BIN"

const binName = "aws-ses-v2-local"

// Server is a running aws-ses-v2-local process.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:8005: the SES endpoint to
	// give the SDK client, and the root of the store API.
	URL string

	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
	err    error // the process's exit status, valid once exited is closed
	once   sync.Once
	client *http.Client
}

// Message is one sent e-mail as aws-ses-v2-local stores it (GET /store).
type Message struct {
	MessageID   string      `json:"messageId"`
	From        string      `json:"from"`
	ReplyTo     []string    `json:"replyTo"`
	Destination Destination `json:"destination"`
	Subject     string      `json:"subject"`
	Body        Body        `json:"body"`
	// At is when the server received it, in epoch seconds.
	At int64 `json:"at"`
}

// Destination lists a message's recipients.
type Destination struct {
	To  []string `json:"to"`
	Cc  []string `json:"cc"`
	Bcc []string `json:"bcc"`
}

// Body holds a message's bodies; either may be empty.
type Body struct {
	HTML string `json:"html"`
	Text string `json:"text"`
}

// Binary returns the path of the aws-ses-v2-local executable, or an error
// that says how to install it.
func Binary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("seslocal: %s=%s: %w", BinaryEnv, p, err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("seslocal: %w", err)
	}
	for {
		p := filepath.Join(dir, "node_modules", ".bin", binName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("seslocal: %s not found in node_modules/.bin of the working directory or its parents: run `npm install` at the repository root, or set %s", binName, BinaryEnv)
		}
		dir = parent
	}
}

// FreePort asks the kernel for a TCP port free on 127.0.0.1 now. Another
// process may take it before it is used; Start then fails and says so.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("seslocal: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start runs aws-ses-v2-local on 127.0.0.1:port (port 0 picks a free one)
// and returns once it answers its health check. ctx bounds the start-up
// only; the server runs until Stop.
func Start(ctx context.Context, port int) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	out := &syncBuffer{}
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so Stop reaches node and nothing else, and a
	// Ctrl-C meant for the test binary is not delivered to it twice; and it dies
	// with its parent even when that is killed outright.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// SMTP relaying would send our test mail onwards; never inherit it.
	cmd.Env = append(os.Environ(), "SMTP_TRANSPORT=")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("seslocal: start %s: %w", bin, err)
	}
	s := &Server{
		URL:    "http://127.0.0.1:" + strconv.Itoa(port),
		cmd:    cmd,
		out:    out,
		exited: make(chan struct{}),
		client: &http.Client{Timeout: 10 * time.Second},
	}
	go func() {
		s.err = cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.healthy(ctx) {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("seslocal: %s exited before answering on %s (%v); output:\n%s", binName, s.URL, s.err, s.out.String())
		case <-ctx.Done():
			return fmt.Errorf("seslocal: %s did not answer on %s: %w; output:\n%s", binName, s.URL, ctx.Err(), s.out.String())
		case <-tick.C:
		}
	}
}

// healthy reports whether the health check answers 200 within a second;
// the short bound matters when another process holds the port and accepts
// connections without ever answering.
func (s *Server) healthy(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/health-check", nil)
	if err != nil {
		return false
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

// Messages returns every e-mail the server has received, oldest first.
func (s *Server) Messages(ctx context.Context) ([]Message, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/store", nil)
	if err != nil {
		return nil, fmt.Errorf("seslocal: %w", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("seslocal: read store: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return nil, fmt.Errorf("seslocal: read store: %s: %s", resp.Status, b)
	}
	var store struct {
		Emails []Message `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		return nil, fmt.Errorf("seslocal: decode store: %w", err)
	}
	return store.Emails, nil
}

// Clear forgets every stored e-mail (and template).
func (s *Server) Clear(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/clear-store", nil)
	if err != nil {
		return fmt.Errorf("seslocal: %w", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("seslocal: clear store: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("seslocal: clear store: %s", resp.Status)
	}
	return nil
}

// Output returns what the server has printed so far, for diagnostics.
func (s *Server) Output() string { return s.out.String() }

// Stop ends the server (SIGTERM, then SIGKILL after 5 s) and waits for it.
// It is safe to call more than once.
func (s *Server) Stop() error {
	var err error
	s.once.Do(func() {
		pgid := -s.cmd.Process.Pid
		select {
		case <-s.exited:
			return
		default:
		}
		if e := syscall.Kill(pgid, syscall.SIGTERM); e != nil && !errors.Is(e, syscall.ESRCH) {
			err = fmt.Errorf("seslocal: stop: %w", e)
		}
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(pgid, syscall.SIGKILL)
			<-s.exited
		}
	})
	return err
}

// syncBuffer collects the process output, written by exec's copying
// goroutine and read by diagnostics.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Cap what we keep: a chatty server must not grow a test's memory.
	if b.b.Len() > 64<<10 {
		return len(p), nil
	}
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
