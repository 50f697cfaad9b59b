package proc_test

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/localcloud/proc"
)

// A port FreePort names is free; one something listens on is not.
func TestFreePortAndPortFree(t *testing.T) {
	port, err := proc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.PortFree(port); err != nil {
		t.Errorf("PortFree(%d) right after FreePort: %v", port, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := proc.PortFree(port); err == nil {
		t.Errorf("PortFree(%d) while it is listened on: want an error", port)
	}
}

// A process that ends before it answers is reported as such, not waited for; Stop on
// a running one ends it, and again is harmless.
func TestStartWaitStop(t *testing.T) {
	port, err := proc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	gone, err := proc.Start(exec.Command("true"))
	if err != nil {
		t.Fatal(err)
	}
	if err := gone.WaitReady(context.Background(), url, true, time.Minute); !errors.Is(err, proc.ErrExited) {
		t.Errorf("WaitReady on a process that exited = %v, want ErrExited", err)
	}
	running, err := proc.Start(exec.Command("sleep", "60"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := running.WaitReady(ctx, url, true, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitReady with its context ended = %v, want context.Canceled", err)
	}
	for i := range 2 {
		if err := running.Stop(); err != nil {
			t.Errorf("Stop #%d: %v", i+1, err)
		}
	}
	select {
	case <-running.Exited():
	default:
		t.Error("the process still runs after Stop")
	}
}

// Output keeps what is written, up to its limit.
func TestOutputLimit(t *testing.T) {
	for _, tc := range []struct {
		limit int
		want  string
	}{{0, "abcabcabc"}, {4, "abcabc"}} {
		o := &proc.Output{Limit: tc.limit}
		for range 3 {
			if n, err := o.Write([]byte("abc")); n != 3 || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
		}
		if got := o.String(); got != tc.want {
			t.Errorf("limit %d: kept %q, want %q", tc.limit, got, tc.want)
		}
	}
}
