package trace_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // zone tests run on machines without zoneinfo
	"unicode/utf8"

	"github.com/lmsshop/checkout/internal/trace"
)

func TestFormatMatchesTheSpecExample(t *testing.T) {
	at := time.Date(2016, 7, 27, 11, 32, 13, 753_000_000, time.UTC)
	tests := []struct {
		line trace.Line
		want string
	}{
		{trace.Line{At: at, TxID: "TU80WKRYTI9QUMJ4", Source: "Test Processing", Message: "paying"},
			"-- 2016-7-27 11:32:13 753 -- [TU80WKRYTI9QUMJ4] Test Processing : paying"},
		{trace.Line{At: at.Add(1008 * time.Millisecond), TxID: "TU80WKRYTI9QUMJ4", Source: "Production Controller", Message: "Full production starting ..."},
			"-- 2016-7-27 11:32:14 761 -- [TU80WKRYTI9QUMJ4] Production Controller : Full production starting ..."},
		{trace.Line{At: time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC), Source: "Shop", Message: "before any ID"},
			"-- 2026-1-2 03:04:05 006 -- Shop : before any ID"},
	}
	for _, tc := range tests {
		if got := tc.line.Format(nil); got != tc.want {
			t.Errorf("Format =\n%q, want\n%q", got, tc.want)
		}
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	if got := (trace.Line{At: at, TxID: "X", Source: "s", Message: "m"}).Format(paris); !strings.HasPrefix(got, "-- 2016-7-27 13:32:13 753 --") {
		t.Errorf("rendered in Paris = %q, want 13:32 local time", got)
	}
}

func TestTxIDs(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	const n = 20000
	for i := 0; i < n; i++ {
		id := trace.NewTxID()
		if !trace.ValidTxID(id) {
			t.Fatalf("%q is not 16 characters of [A-Z0-9]", id)
		}
		if seen[id] {
			t.Fatalf("duplicate ID %s", id)
		}
		seen[id] = true
		for _, r := range id {
			counts[r]++
		}
	}
	// 320,000 symbols over 36 values: each near 8,889; a biased generator (modulo 256)
	// would give the first four symbols ~12 % more.
	for r, c := range counts {
		if c < 8300 || c > 9500 {
			t.Errorf("symbol %c drawn %d times, want about 8889", r, c)
		}
	}
	for _, bad := range []string{"", "tu80wkryti9qumj4", "TU80WKRYTI9QUMJ", "TU80WKRYTI9QUMJ4X", "TU80WKRYTI9QUM-4"} {
		if trace.ValidTxID(bad) {
			t.Errorf("ValidTxID(%q) = true", bad)
		}
	}
}

func TestSanitizeCannotSplitALine(t *testing.T) {
	for _, in := range []string{"a\nb", "a\r\n-- 2016-7-27 11:32:13 753 -- [FORGEDFORGEDFORG] x : y", "a\u2028b", "a\u0085b", "tab\there", "nul\x00"} {
		out := trace.Sanitize(in)
		if strings.ContainsAny(out, "\r\n\u2028\u2029\u0085\x00\t") {
			t.Errorf("Sanitize(%q) = %q keeps a control character", in, out)
		}
		line := trace.Line{At: time.Now(), TxID: "TU80WKRYTI9QUMJ4", Source: "s", Message: out}.Format(nil)
		if strings.Count(line, "\n") != 0 {
			t.Errorf("line %q is split", line)
		}
	}
	if got := trace.Sanitize(strings.Repeat("x", 5000)); len(got) > 1010 {
		t.Errorf("Sanitize keeps %d bytes, want it capped", len(got))
	}
	for pad := 0; pad < 4; pad++ {
		if got := trace.Sanitize(strings.Repeat("x", pad) + strings.Repeat("é€𝄞", 400)); !utf8.ValidString(got) {
			t.Errorf("capped text with %d leading bytes is not valid UTF-8", pad)
		}
	}
}

// failingStore refuses every write, as a throttled table would.
type failingStore struct{}

var errRefused = errors.New("throttled")

func (failingStore) AppendTrace(context.Context, trace.Line) error    { return errRefused }
func (failingStore) AppendTraces(context.Context, []trace.Line) error { return errRefused }
func (failingStore) ListTrace(context.Context, string) ([]trace.Line, error) {
	return nil, errRefused
}

// A line that cannot be stored is one warning, whichever way it was written, naming its
// transaction and source so an operator finds it by one message; the operation goes on.
func TestALostLineIsOneWarning(t *testing.T) {
	tests := []struct {
		name  string
		write func(log *slog.Logger)
		want  []string
	}{
		{"Tracer.Printf", func(log *slog.Logger) {
			tr := &trace.Tracer{Store: failingStore{}, Source: "Payment", Log: log}
			tr.Printf(context.Background(), "TX1", "paying")
		}, []string{`msg="trace line lost"`, "source=Payment", "txid=TX1", "lines=1", "err=throttled"}},
		{"Pending.Flush", func(log *slog.Logger) {
			p := &trace.Pending{}
			p.Add(trace.Line{TxID: "TX2", Source: "Shop", Message: "a"})
			p.Add(trace.Line{TxID: "TX2", Source: "Payment", Message: "b"})
			p.Flush(context.Background(), failingStore{}, log)
		}, []string{`msg="trace line lost"`, "source=Shop,Payment", "txid=TX2", "lines=2", "err=throttled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.write(slog.New(slog.NewTextHandler(&buf, nil)))
			got := buf.String()
			if strings.Count(got, "\n") != 1 {
				t.Fatalf("logged %q, want one line", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("logged %q, want it to contain %q", got, w)
				}
			}
		})
	}
}
