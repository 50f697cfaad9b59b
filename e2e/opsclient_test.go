package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/localcloud/cloudtest"
	"github.com/lmsshop/checkout/internal/localcloud/cognitolocal"
	"github.com/lmsshop/checkout/internal/localcloud/launcher"
	"github.com/lmsshop/checkout/internal/opsclient"
)

// chequeTotal is GO-101's price: 199.00 untaxed + 5.5 % VAT-EDU.
const chequeTotal = 20995

// placeChequeOrder places a GO-101 order paid by cheque and waits until the workflow
// waits for the cheque. (GO-101 enrols the buyer, so production can complete; a lone
// certificate would be refused to a buyer not enrolled in its course.)
func placeChequeOrder(t *testing.T) *buyer {
	t.Helper()
	b := newBuyer(t)
	b.placeOne("GO-101", "check")
	b.waitStatus("PENDING")
	return b
}

// waitWorkflow waits for the order's Step Functions execution (named after the
// transaction ID) to end, so that no state is still writing trace lines when a test
// compares two readings of the trace.
func waitWorkflow(t *testing.T, c *cloudtest.Cloud, txid string) {
	t.Helper()
	// arn:aws:states:REGION:ACCOUNT:stateMachine:NAME → …:execution:NAME:TXID
	arn := strings.Replace(c.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + txid
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Engine.WaitExecution(ctx, arn); err != nil {
		t.Fatalf("waiting for the workflow of %s: %v", txid, err)
	}
}

func opsClient(c *cloudtest.Cloud, secret string) *opsclient.Client {
	creds := credentials.NewStaticCredentialsProvider(launcher.AccessKeyID, secret, "")
	return opsclient.New(c.APIURL, creds, launcher.Region, nil)
}

// TestOperatorRecordsAChequeWithTheClient drives the back office with the operator's
// signed client over the local cloud: find the order, refuse a wrong amount, record
// the cheque, see the order complete, and read the trace back in the merchant trace's
// text form (docs/spec.md), rendered by the client exactly as the API renders it.
func TestOperatorRecordsAChequeWithTheClient(t *testing.T) {
	c := cloudtest.Start(t)
	b := placeChequeOrder(t)
	ops := opsClient(c, launcher.SecretAccessKey)
	ctx := context.Background()

	pending, err := ops.Orders(ctx, checkout.Pending, time.Now().Add(-time.Hour), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var found *checkout.Order
	for i := range pending {
		if pending[i].TxID == b.TxID {
			found = &pending[i]
		}
	}
	if found == nil || found.Paymode != "check" || found.Totals.Final != chequeTotal {
		t.Fatalf("PENDING orders of the last hour lack %s (check, %d): %+v", b.TxID, chequeTotal, found)
	}

	_, err = ops.RecordPayment(ctx, b.TxID, opsclient.Payment{Mode: "check", Amount: 0, Reference: "CHQ-76"})
	var apiErr *opsclient.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != checkout.EINVALID || len(apiErr.Fields) == 0 || apiErr.Fields[0].Field != "amount" {
		t.Fatalf("a cheque of no amount: err = %v, want invalid amount", err)
	}
	// A cheque of another amount is money received: stored, and flagged for settling.
	short, err := ops.RecordPayment(ctx, b.TxID, opsclient.Payment{Mode: "check", Amount: chequeTotal - 1, Reference: "CHQ-76"})
	if err != nil || short.Status != checkout.Pending {
		t.Fatalf("a cheque of the wrong amount: %v, %+v; want it recorded, the order still PENDING", err, short)
	}
	flags, err := ops.Flags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	flagged := false
	for _, f := range flags {
		flagged = flagged || (f.TxID == b.TxID && f.Reason == "underpayment" && f.Amount == chequeTotal-1)
	}
	if !flagged {
		t.Fatalf("flags %+v: want %s flagged as an underpayment", flags, b.TxID)
	}
	if _, err := ops.Settle(ctx, b.TxID, opsclient.Settlement{Action: "refund", Reference: "CHQ-76 returned"}); err != nil {
		t.Fatalf("refund the short cheque: %v", err)
	}

	o, err := ops.RecordPayment(ctx, b.TxID, opsclient.Payment{Mode: "check", Amount: chequeTotal, Reference: "CHQ-77"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != checkout.SoldOut {
		t.Errorf("after the cheque: %s, want SOLDOUT", o.Status)
	}
	b.waitStatus("COMPLETE")
	waitWorkflow(t, c, b.TxID)

	d, err := ops.Order(ctx, b.TxID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Order.Status != checkout.Complete || len(d.Payments) == 0 || d.Payments[len(d.Payments)-1].EventID != "CHQ-77" {
		t.Errorf("order view: status %s, payments %+v", d.Order.Status, d.Payments)
	}
	if len(d.Products) == 0 {
		t.Errorf("order view shows no product delivered for a COMPLETE order")
	}
	if _, err := ops.Transition(ctx, b.TxID, checkout.Pending); !opsclient.IsKind(err, checkout.ECONFLICT) {
		t.Errorf("COMPLETE → PENDING: err = %v, want a conflict", err)
	}

	lines, err := ops.Trace(ctx, b.TxID)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := opsclient.WriteTrace(&got, lines, nil); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(got.String()), "\n") {
		if !traceLine.MatchString(l) || !strings.Contains(l, "["+b.TxID+"]") {
			t.Errorf("trace line not in the merchant trace format: %q", l)
		}
	}
	for _, want := range []string{"payment NOT recorded", "CHQ-77", "COMPLETE"} {
		if !strings.Contains(got.String(), want) {
			t.Errorf("trace has no line about %q:\n%s", want, got.String())
		}
	}
	status, text := admin(t, c, "GET", "/admin/orders/"+b.TxID+"/trace", "", "text/plain")
	if status != 200 {
		t.Fatalf("text trace = %d %s", status, text)
	}
	if got.String() != text {
		t.Errorf("client rendering differs from the API's text/plain trace:\n client:\n%s\n API:\n%s", got.String(), text)
	}
}

func TestOperatorCancelsAndIsRefusedWithAWrongKey(t *testing.T) {
	c := cloudtest.Start(t)
	b := placeChequeOrder(t)
	ctx := context.Background()

	_, err := opsClient(c, "not-the-secret").Cancel(ctx, b.TxID)
	if !opsclient.IsKind(err, opsclient.CodeGateway) {
		t.Fatalf("cancel with a wrong secret: err = %v, want the gateway's refusal", err)
	}
	o, err := opsClient(c, launcher.SecretAccessKey).Cancel(ctx, b.TxID)
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != checkout.Cancelled {
		t.Errorf("status = %s, want CANCELLED", o.Status)
	}
	b.waitStatus("CANCELLED")
}

// TestShopctlCommandLine builds shopctl and runs it as an operator would against the
// local cloud: sign in with the printed e-mail and password (no AWS key anywhere in the
// environment), then list, record a cheque and read the trace; an accountant signed in
// the same way is refused a cancellation, which changes nothing.
func TestShopctlCommandLine(t *testing.T) {
	c := cloudtest.Start(t)
	b := placeChequeOrder(t)
	root, err := launcher.FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "shopctl")
	build := exec.Command("go", "build", "-o", bin, "./cmd/shopctl")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/shopctl: %v\n%s", err, out)
	}
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") { // the launcher put the local key in this process's environment
			env = append(env, kv)
		}
	}
	env = append(env, "CHECKOUT_API="+c.APIURL, "XDG_CONFIG_HOME="+dir, "HOME="+dir,
		"SHOPCTL_COGNITO="+c.CognitoURL, "SHOPCTL_CLIENT_ID="+c.Operators.ClientID,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"))
	stdin := ""
	run := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}

	login := func(group string) {
		t.Helper()
		op, _ := c.Operators.Operator(group)
		stdin = op.Password + "\n"
		out, errOut, code := run("login", "--email", op.Email, "--password-stdin")
		stdin = ""
		if code != 0 || !strings.Contains(out, "signed in as "+op.Email+" (groups: "+group+")") {
			t.Fatalf("shopctl login as %s: exit %d\n%s%s", group, code, out, errOut)
		}
	}
	if _, errOut, code := run("orders"); code != 1 || !strings.Contains(errOut, "not signed in") {
		t.Errorf("before login: exit %d, stderr %q", code, errOut)
	}
	login("sales")
	if st, err := os.Stat(filepath.Join(dir, "lmsshop-checkout", "shopctl-session.json")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("session under the config directory: %v %v", st, err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"who am I", []string{"whoami"}, 0, "sales@" + cognitolocal.OperatorDomain, ""},
		{"list pending", []string{"orders", "--status", "PENDING", "--since", "1h"}, 0, b.TxID, ""},
		// A cheque of another amount is recorded and flagged; the operator sees it in
		// the flags and refunds it.
		{"wrong amount", []string{"record-payment", b.TxID, "--mode", "check", "--amount", "1", "--reference", "CHQ-8"}, 0, "did not pay the order", ""},
		{"flags", []string{"flags"}, 0, b.TxID, ""},
		// A cheque is returned by the operator: the API asks for its reference.
		{"refund without reference", []string{"settle", b.TxID, "refund"}, 1, "", "reference: is required"},
		{"refund", []string{"settle", b.TxID, "refund", "--reference", "CHQ-8 returned"}, 0, "settled (refund); order is PENDING", ""},
		{"cheque", []string{"record-payment", b.TxID, "--mode", "check", "--amount", strconv.Itoa(chequeTotal), "--reference", "CHQ-9"}, 0, "order is SOLDOUT", ""},
		{"usage", []string{"transition", b.TxID}, 2, "", "missing <STATUS>"},
	}
	for _, tt := range tests {
		out, errOut, code := run(tt.args...)
		if code != tt.wantCode || !strings.Contains(out, tt.wantOut) || !strings.Contains(errOut, tt.wantErr) {
			t.Errorf("shopctl %s: exit %d\nstdout: %s\nstderr: %s\nwant exit %d, stdout ∋ %q, stderr ∋ %q",
				strings.Join(tt.args, " "), code, out, errOut, tt.wantCode, tt.wantOut, tt.wantErr)
		}
	}
	b.waitStatus("COMPLETE")
	waitWorkflow(t, c, b.TxID)

	out, errOut, code := run("trace", b.TxID)
	if code != 0 {
		t.Fatalf("shopctl trace: exit %d: %s", code, errOut)
	}
	_, text := admin(t, c, "GET", "/admin/orders/"+b.TxID+"/trace", "", "text/plain")
	if out != text {
		t.Errorf("shopctl trace differs from the API's text trace:\n shopctl:\n%s\n API:\n%s", out, text)
	}
	if !strings.Contains(out, "sales@"+cognitolocal.OperatorDomain+" recorded a check payment") || !strings.Contains(out, "CHQ-9") {
		t.Errorf("shopctl trace lacks the recorded cheque and who recorded it:\n%s", out)
	}

	// The invoiced order is refunded from the command line: one refund, a credit note.
	out, errOut, code = run("refund", b.TxID, "--reference", "CHQ-9 returned", "--note", "cancelled by phone")
	if code != 0 || !strings.Contains(out, "order is CANCELLED") || !strings.Contains(out, "credit note CN-") || !strings.Contains(out, "withdrawn: ") {
		t.Errorf("shopctl refund: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}

	other := placeChequeOrder(t)
	login("accounting")
	if _, errOut, code := run("refund", other.TxID, "--reference", "R"); code != 1 || !strings.Contains(errOut, "403 forbidden") {
		t.Errorf("accountant refunds: exit %d, stderr %q; want 403 forbidden", code, errOut)
	}
	if _, errOut, code := run("cancel", other.TxID); code != 1 || !strings.Contains(errOut, "403 forbidden") {
		t.Errorf("accountant cancels: exit %d, stderr %q; want 403 forbidden", code, errOut)
	}
	if r := other.do("GET", "/orders/{txid}", ""); statusOf(r) != "PENDING" {
		t.Errorf("a refused cancellation left the order %s", statusOf(r))
	}
	if out, _, code := run("logout"); code != 0 || !strings.Contains(out, "signed out") {
		t.Errorf("logout: %d %s", code, out)
	}
}
