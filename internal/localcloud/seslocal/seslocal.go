// Package seslocal starts and drives aws-ses-v2-local, the npm stand-in for
// Amazon SES v2 that keeps every sent e-mail in memory. Tests, end-to-end
// runs and the local cloud launcher use it to send through the real SES SDK
// client and read back what was sent.
package seslocal

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/lmsshop/checkout/internal/localcloud/proc"
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

	proc   *proc.Process
	out    *proc.Output
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
	p, err := proc.NodeBinary(BinaryEnv, binName)
	if err != nil {
		return "", fmt.Errorf("seslocal: %w", err)
	}
	return p, nil
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
		if port, err = proc.FreePort(); err != nil {
			return nil, fmt.Errorf("seslocal: %w", err)
		}
	}
	// Cap what we keep: a chatty server must not grow a test's memory.
	out := &proc.Output{Limit: 64 << 10}
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = out, out
	// SMTP relaying would send our test mail onwards; never inherit it.
	cmd.Env = append(os.Environ(), "SMTP_TRANSPORT=")
	p, err := proc.Start(cmd)
	if err != nil {
		return nil, fmt.Errorf("seslocal: start %s: %w", bin, err)
	}
	s := &Server{
		URL:    "http://127.0.0.1:" + strconv.Itoa(port),
		proc:   p,
		out:    out,
		client: &http.Client{Timeout: 10 * time.Second},
	}
	// No bound of its own: ctx bounds the start-up.
	if err := p.WaitReady(ctx, s.URL+"/health-check", false, 24*time.Hour); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("seslocal: %s did not answer on %s: %w; output:\n%s", binName, s.URL, err, s.out.String())
	}
	return s, nil
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
	if err := s.proc.Stop(); err != nil {
		return fmt.Errorf("seslocal: %w", err)
	}
	return nil
}
