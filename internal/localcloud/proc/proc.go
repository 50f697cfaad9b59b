// Package proc launches the local cloud's child servers (DynamoDB Local, the SES and
// Cognito emulators): each in its own process group that dies with its parent, on a
// loopback port, stopped with SIGTERM then SIGKILL. One place, so every stand-in is
// started and stopped the same way.
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// FreePort asks the kernel for a TCP port free on 127.0.0.1 now. Another process may
// take it before it is used; the server's start then fails and says so.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
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

// Process is a started child server.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // the exit status, valid once exited is closed
	once   sync.Once
}

// Start starts cmd in its own process group, so Stop reaches it and its children and
// nothing else, and a Ctrl-C meant for the parent is not delivered to it twice; and so
// that it dies with its parent even when that is killed outright.
func Start(cmd *exec.Cmd) (*Process, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Exited is closed once the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err is the process's exit status; valid once Exited is closed.
func (p *Process) Err() error { return p.err }

// Stop ends the process group (SIGTERM, then SIGKILL after 5 s) and waits for the
// process. It is safe to call more than once.
func (p *Process) Stop() error {
	var err error
	p.once.Do(func() {
		pgid := -p.cmd.Process.Pid
		select {
		case <-p.exited:
			return
		default:
		}
		if e := syscall.Kill(pgid, syscall.SIGTERM); e != nil && !errors.Is(e, syscall.ESRCH) {
			err = fmt.Errorf("stop: %w", e)
		}
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(pgid, syscall.SIGKILL)
			<-p.exited
		}
	})
	return err
}

// ErrExited is what WaitReady returns when the process ended before answering.
var ErrExited = errors.New("process exited before answering")

// WaitReady polls url every 50 ms until it answers 200 (or, with anyStatus, anything at
// all), the process exits, ctx ends or limit passes. Each probe is bounded to a second:
// that matters when another process holds the port and accepts connections without
// ever answering.
func (p *Process) WaitReady(ctx context.Context, url string, anyStatus bool, limit time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if answers(ctx, client, url, anyStatus) {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%w (%v)", ErrExited, p.err)
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("no answer from %s after %s", url, limit)
		case <-tick.C:
		}
	}
}

func answers(ctx context.Context, client *http.Client, url string, anyStatus bool) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return anyStatus || resp.StatusCode == http.StatusOK
}

// NodeBinary returns the path of the npm executable name: the one envVar names if set,
// else the first in node_modules/.bin of the working directory or of any parent; or an
// error that says how to install it.
func NodeBinary(envVar, name string) (string, error) {
	if p := os.Getenv(envVar); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", envVar, p, err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "node_modules", ".bin", name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not found in node_modules/.bin of the working directory or its parents: run `make deps` at the repository root, or set %s", name, envVar)
		}
		dir = parent
	}
}

// Output collects what a process (or a whole local cloud) writes while others read it:
// Write and String are safe to call concurrently. Limit, when positive, caps what it
// keeps, so a chatty server does not grow a test's memory.
type Output struct {
	Limit int
	mu    sync.Mutex
	b     bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.Limit > 0 && o.b.Len() > o.Limit {
		return len(p), nil
	}
	return o.b.Write(p)
}

// String is what was written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
