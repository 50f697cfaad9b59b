package seslocal_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/localcloud/seslocal"
	"github.com/lmsshop/checkout/internal/localcloud/sestest"
)

func TestStartServeStop(t *testing.T) {
	srv := sestest.Start(t)
	ctx := context.Background()
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q, want a loopback URL", srv.URL)
	}

	msgs, err := srv.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 0 {
		t.Errorf("fresh server holds %d messages, want 0", len(msgs))
	}
	if err := srv.Clear(ctx); err != nil {
		t.Errorf("Clear: %v", err)
	}

	if err := srv.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	c := http.Client{Timeout: 2 * time.Second}
	if resp, err := c.Get(srv.URL + "/health-check"); err == nil {
		resp.Body.Close()
		t.Errorf("server still answers after Stop: %s", resp.Status)
	}
}

func TestStartFailsClearly(t *testing.T) {
	t.Run("missing binary", func(t *testing.T) {
		t.Setenv(seslocal.BinaryEnv, "/nonexistent/aws-ses-v2-local")
		_, err := seslocal.Start(context.Background(), 0)
		if err == nil || !strings.Contains(err.Error(), seslocal.BinaryEnv) {
			t.Fatalf("Start with a missing binary: err = %v, want one naming %s", err, seslocal.BinaryEnv)
		}
	})
	t.Run("port taken", func(t *testing.T) {
		if _, err := seslocal.Binary(); err != nil {
			t.Fatalf("aws-ses-v2-local is required for this test: %v", err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		port := l.Addr().(*net.TCPAddr).Port
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		srv, err := seslocal.Start(ctx, port)
		if err == nil {
			_ = srv.Stop()
			t.Fatalf("Start on busy port %d succeeded", port)
		}
		t.Logf("Start on a busy port: %v", err)
		if !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), strconv.Itoa(port)) {
			t.Errorf("error does not explain the failure: %v", err)
		}
	})
}
