package workflow_test

import (
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/trace"
)

// specTraceLine is a line of docs/spec.md's trace example: date, time, milliseconds,
// transaction ID, source and message.
var specTraceLine = regexp.MustCompile(`^-- (\d{4})-(\d{1,2})-(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{3}) -- \[([A-Z0-9]{16})\] (.+?) : (.+)$`)

// TestSpecTraceExampleIsWhatTheCodeWrites: each line of docs/spec.md's example of the
// trace's text form is what the formatter renders, and its source and message are
// what the workflow writes for a test-mode order paid with the pay button and
// produced with the order from the execution input (the usual path).
func TestSpecTraceExampleIsWhatTheCodeWrites(t *testing.T) {
	raw, err := os.ReadFile("../../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(raw), "The text form of a line:\n\n```\n")
	block, _, closed := strings.Cut(after, "```")
	if !ok || !closed {
		t.Fatal("docs/spec.md has no code block after \"The text form of a line:\"")
	}
	var want []string
	for _, doc := range strings.Split(strings.TrimSpace(block), "\n") {
		m := specTraceLine.FindStringSubmatch(doc)
		if m == nil {
			t.Fatalf("spec line %q is not in the trace's text form", doc)
		}
		n := make([]int, 8)
		for i := range n {
			n[i], _ = strconv.Atoi(m[i+1])
		}
		at := time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], n[6]*int(time.Millisecond), time.UTC)
		if got := (trace.Line{At: at, TxID: m[8], Source: m[9], Message: m[10]}).Format(nil); got != doc {
			t.Errorf("the formatter renders the spec's line as\n%q, not\n%q", got, doc)
		}
		want = append(want, m[9]+" : "+m[10])
	}

	e := newEnv(t)
	txid, token := e.place("test", 12000)
	copied := e.order(txid) // the order placement puts in the execution input
	e.startPayment(txid, "T-PAY-1")
	if code, body, _ := e.http(e.payment, req{method: "POST", routeKey: "POST /orders/{txid}/payment/test", path: "/orders/" + txid + "/payment/test",
		params: map[string]string{"txid": txid}, headers: bearer(token), body: `{"action":"pay"}`}); code != http.StatusOK {
		t.Fatalf("pay button: %d %s", code, body)
	}
	e.mustTask(e.produce, map[string]any{"action": "postpay", "txid": txid, "order": copied})
	tr := e.traceText(txid)
	for _, w := range want {
		if !strings.Contains(tr, "["+txid+"] "+w+"\n") {
			t.Errorf("the workflow wrote no line %q; its trace:\n%s", w, tr)
		}
	}
}
