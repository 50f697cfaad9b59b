package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/opsclient"
	"github.com/lmsshop/checkout/internal/pricing"
	"github.com/lmsshop/checkout/internal/trace"
)

// Exit codes: 1 when the work failed (the API refused, the network is down), 2 when the
// command line itself is wrong, as the flag package does.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// defaultEndpoint is where `make run` (and `sam local start-api`) serve the API.
const defaultEndpoint = "http://127.0.0.1:3000"

// localRegion is the local cloud's region, used when nothing configures one and the
// endpoint is on this machine.
const localRegion = "us-east-1"

// localHint tells an operator how to sign in to the local cloud.
const localHint = "for the local cloud, `shopctl login --client-id ID` with an operator printed by `make run`"

// credsLoader finds the operator's AWS credentials and region for a profile ("" for
// the default chain); region is "" when nothing configures one.
type credsLoader func(ctx context.Context, profile string) (creds aws.CredentialsProvider, region string, err error)

// app is one run of shopctl, with its outputs, environment and clock as fields so tests
// drive it without touching the process's own.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	loadCreds      credsLoader
	httpClient     *http.Client
	stdin          io.Reader
	configDir      func() (string, error) // where the session is kept (os.UserConfigDir)
}

func newApp(stdout, stderr io.Writer, getenv func(string) string) *app {
	return &app{stdout: stdout, stderr: stderr, getenv: getenv, now: time.Now, loadCreds: loadAWSConfig,
		stdin: os.Stdin, configDir: os.UserConfigDir}
}

// loadAWSConfig reads the standard AWS configuration: environment variables, the shared
// config and credentials files (for profile), SSO, instance roles.
func loadAWSConfig(ctx context.Context, profile string) (aws.CredentialsProvider, string, error) {
	var opts []func(*config.LoadOptions) error
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg.Credentials, cfg.Region, nil
}

// usageError is a wrong command line; it exits 2 with the command's usage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// command is one subcommand: parse checks its arguments (before any credential or
// network is touched) and returns the work to do with a client.
type command struct {
	name, args, summary string
	parse               func(a *app, fs *flag.FlagSet, args []string) (func(context.Context, *opsclient.Client) error, error)
}

func commands() []command {
	return []command{
		{"orders", "[--status STATUS] [--since 24h|7d] [--from DAY] [--to DAY] [--tz ZONE] [--json]", "list orders, newest first", parseOrders},
		{"order", "<txid> [--tz ZONE] [--json]", "show one order: lines, totals, payments, products and trace", parseOrder},
		{"trace", "<txid> [--tz ZONE]", "print the transaction's merchant trace, line by line, in order", parseTrace},
		{"record-payment", "<txid> --mode check|transfer --amount MINOR --reference REF", "record a cheque or transfer received (amount in cents)", parseRecordPayment},
		{"flags", "[--json]", "list the payments waiting for an operator (late, duplicate, under- or over-payment) and the orders reconciliation found stuck", parseFlags},
		{"settle", "<txid> deliver|refund [--key KEY] [--reference REF] [--note TEXT]", "settle a flagged payment: deliver the order, or refund it (through the provider, or as recorded with --reference)", parseSettle},
		{"refund", "<txid> [--reference REF] [--key KEY] [--note TEXT]", "refund a paid order: through Stripe (or the test mode), or as recorded with --reference; credit note if invoiced", parseRefund},
		{"cancel", "<txid>", "cancel the order", parseCancel},
		{"transition", "<txid> <STATUS>", "move the order along an allowed transition", parseTransition},
		{"whoami", "", "who the API sees, their groups and the actions they may run", parseWhoami},
	}
}

func parseWhoami(a *app, fs *flag.FlagSet, args []string) (func(context.Context, *opsclient.Client) error, error) {
	if _, err := parseArgs(fs, args); err != nil {
		return nil, err
	}
	return func(ctx context.Context, c *opsclient.Client) error {
		me, err := c.Me(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s\ngroups: %s\nmay: %s\n", me.Operator, strings.Join(me.Groups, ", "), strings.Join(me.Actions, "; "))
		return nil
	}, nil
}

func (a *app) usage(w io.Writer) {
	fmt.Fprintf(w, `Usage: shopctl [--endpoint URL] [--sigv4 [--profile P] [--region R]] <command> [arguments]

The back office's command line. Operators sign in once with their e-mail and password
(shopctl login); %s. Automation with an IAM role passes --sigv4 (or sets
SHOPCTL_AUTH=sigv4) instead: calls then go to /ops, signed with the usual AWS
configuration.

Global flags:
  --endpoint URL   the checkout API (default $CHECKOUT_API, else %s)
  --sigv4          sign with AWS credentials instead of the operator's session
  --profile P      AWS profile to sign with (default: the usual chain)
  --region R       AWS region of the API and user pool (default: the profile's, or %s for a local endpoint)

Commands:
  login [--email E] [--cognito URL] [--client-id ID] [--password-stdin]
      sign in as an operator (password prompt); the session is kept in your config directory
  logout
      forget the session
`, localHint, defaultEndpoint, localRegion)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %s %s\n      %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintf(w, "\nStatuses: %s\n", joinStatuses(checkout.Statuses))
}

// run executes one command line and returns the exit code.
func (a *app) run(ctx context.Context, args []string) int {
	global := flag.NewFlagSet("shopctl", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	endpoint := global.String("endpoint", "", "")
	profile := global.String("profile", "", "")
	region := global.String("region", "", "")
	sigv4 := global.Bool("sigv4", a.getenv("SHOPCTL_AUTH") == "sigv4", "")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.usage(a.stdout)
			return exitOK
		}
		return a.usageFail(err.Error(), nil)
	}
	if global.NArg() == 0 {
		return a.usageFail("no command", nil)
	}
	name, rest := global.Arg(0), global.Args()[1:]
	switch name {
	case "login":
		r := *region
		if r == "" {
			r = a.getenv("AWS_REGION")
		}
		return a.login(ctx, rest, r)
	case "logout":
		return a.logout()
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == name {
			cmd = &c
			break
		}
	}
	if cmd == nil {
		return a.usageFail(fmt.Sprintf("unknown command %q", name), nil)
	}
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	work, err := cmd.parse(a, fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		a.commandUsage(a.stdout, cmd, fs)
		return exitOK
	}
	if err != nil {
		return a.usageFail(err.Error(), func(w io.Writer) { a.commandUsage(w, cmd, fs) })
	}

	if *endpoint == "" {
		*endpoint = a.getenv("CHECKOUT_API")
	}
	if *endpoint == "" {
		*endpoint = defaultEndpoint
	}
	u, err := url.Parse(*endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return a.usageFail(fmt.Sprintf("--endpoint %q is not an http(s) URL", *endpoint), nil)
	}
	local := isLocal(u.Hostname())
	if !*sigv4 {
		s, path, err := a.loadSession()
		if err != nil {
			return a.fail(err)
		}
		client := opsclient.NewWithTokens(*endpoint, &tokenSource{a: a, s: s, path: path}, a.httpClient)
		if err := work(ctx, client); err != nil {
			return a.fail(err)
		}
		return exitOK
	}
	creds, cfgRegion, err := a.loadCreds(ctx, *profile)
	if err != nil {
		return a.fail(err)
	}
	if *region == "" {
		*region = cfgRegion
	}
	if *region == "" && local {
		*region = localRegion
	}
	if *region == "" {
		return a.usageFail("no AWS region: pass --region or set AWS_REGION (the API's region)", nil)
	}
	client := opsclient.New(*endpoint, creds, *region, a.httpClient)
	if err := work(ctx, client); err != nil {
		if local && (opsclient.IsKind(err, opsclient.CodeGateway) || strings.Contains(err.Error(), "AWS credentials")) {
			err = fmt.Errorf("%w (the local cloud's key for /ops: AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=localsecret)", err)
		}
		return a.fail(err)
	}
	return exitOK
}

func (a *app) usageFail(msg string, usage func(io.Writer)) int {
	fmt.Fprintf(a.stderr, "shopctl: %s\n", msg)
	if usage != nil {
		usage(a.stderr)
	} else {
		fmt.Fprintln(a.stderr, "Run 'shopctl -h' for usage.")
	}
	return exitUsage
}

func (a *app) fail(err error) int {
	fmt.Fprintf(a.stderr, "shopctl: %v\n", err)
	return exitFail
}

func (a *app) commandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: shopctl %s %s\n  %s\n", c.name, c.args, c.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

func isLocal(host string) bool {
	return host == "127.0.0.1" || host == "localhost" || host == "::1"
}

// parseArgs parses flags wherever they stand among the positional arguments
// ("record-payment TXID --mode check" reads as operators type it), and checks the
// positional count. After "--" everything is positional.
func parseArgs(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) < len(names) {
		return nil, usagef("missing %s", strings.Join(names[len(pos):], " "))
	}
	if len(pos) > len(names) {
		return nil, usagef("unexpected argument %q", pos[len(names)])
	}
	return pos, nil
}

func txidArg(s string) (string, error) {
	if !trace.ValidTxID(s) {
		return "", usagef("%q is not a transaction ID (16 characters A-Z, 0-9)", s)
	}
	return s, nil
}

func statusArg(s string) (checkout.Status, error) {
	st := checkout.Status(strings.ToUpper(strings.TrimSpace(s)))
	for _, k := range checkout.Statuses {
		if k == st {
			return st, nil
		}
	}
	return "", usagef("unknown status %q (one of %s)", s, joinStatuses(checkout.Statuses))
}

func joinStatuses(list []checkout.Status) string {
	s := make([]string, len(list))
	for i, st := range list {
		s[i] = string(st)
	}
	return strings.Join(s, ", ")
}

func tzArg(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, usagef("--tz %q: unknown time zone (e.g. UTC, Europe/Paris)", name)
	}
	return loc, nil
}

// parseSince reads a duration back from now: Go's "36h", "90m", or whole days "7d".
func parseSince(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, usagef("--since %q: want a positive duration such as 24h or 7d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, usagef("--since %q: want a positive duration such as 24h or 7d", s)
	}
	return d, nil
}

// parseDay reads a UTC day (2006-01-02) or an RFC 3339 time; end makes a day inclusive
// (its last instant).
func parseDay(flagName, s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, usagef("--%s %q: want a day (2006-01-02) or an RFC 3339 time", flagName, s)
	}
	if end {
		t = t.Add(24*time.Hour - time.Second)
	}
	return t, nil
}

func parseOrders(a *app, fs *flag.FlagSet, args []string) (func(context.Context, *opsclient.Client) error, error) {
	status := fs.String("status", "", "only orders of this `STATUS`")
	since := fs.String("since", "", "only orders placed within this `DURATION` (24h, 7d)")
	fromS := fs.String("from", "", "only orders placed on or after this `DAY` (2006-01-02, UTC, or RFC 3339)")
	toS := fs.String("to", "", "only orders placed on or before this `DAY`")
	tz := fs.String("tz", "UTC", "time `ZONE` to show dates in")
	asJSON := fs.Bool("json", false, "print the orders as JSON")
	if _, err := parseArgs(fs, args); err != nil {
		return nil, err
	}
	var st checkout.Status
	var from, to time.Time
	var err error
	if *status != "" {
		if st, err = statusArg(*status); err != nil {
			return nil, err
		}
	}
	if *since != "" && *fromS != "" {
		return nil, usagef("--since and --from both set the start: choose one")
	}
	if *since != "" {
		d, err := parseSince(*since)
		if err != nil {
			return nil, err
		}
		from = a.now().UTC().Add(-d)
	}
	if *fromS != "" {
		if from, err = parseDay("from", *fromS, false); err != nil {
			return nil, err
		}
	}
	if *toS != "" {
		if to, err = parseDay("to", *toS, true); err != nil {
			return nil, err
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return nil, usagef("--to is before the start of the period")
	}
	loc, err := tzArg(*tz)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, c *opsclient.Client) error {
		orders, err := c.Orders(ctx, st, from, to)
		if err != nil {
			return err
		}
		if *asJSON {
			return a.printJSON(orders)
		}
		if len(orders) == 0 {
			fmt.Fprintln(a.stdout, "no orders")
			return nil
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TRANSACTION\tSTATUS\tPAYMODE\tTOTAL\tPLACED\tCUSTOMER")
		for _, o := range orders {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.TxID, o.Status, o.Paymode,
				pricing.FormatPlain(o.Totals.Final, o.Currency), o.PlacedAt.In(loc).Format("2006-01-02 15:04"), o.Customer.Email)
		}
		return tw.Flush()
	}, nil
}

func parseOrder(a *app, fs *flag.FlagSet, args []string) (func(context.Context, *opsclient.Client) error, error) {
	tz := fs.String("tz", "UTC", "time `ZONE` to show dates and the trace in")
	asJSON := fs.Bool("json", false, "print the order as the API returns it")
	txid, loc, err := txidAndZone(fs, args, tz)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, c *opsclient.Client) error {
		d, err := c.Order(ctx, txid)
		if err != nil {
			return err
		}
		if *asJSON {
			return a.printJSON(d)
		}
		return printOrder(a.stdout, d, loc)
	}, nil
}

func parseTrace(a *app, fs *flag.FlagSet, args []string) (func(context.Context, *opsclient.Client) error, error) {
	tz := fs.String("tz", "UTC", "time `ZONE` to render the lines in (e.g. Europe/Paris)")
	txid, loc, err := txidAndZone(fs, args, tz)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, c *opsclient.Client) error {
		lines, err := c.Trace(ctx, txid)
		if err != nil {
			return err
		}
		return opsclient.WriteTrace(a.stdout, lines, loc)
	}, nil
}

func parseRecordPayment(a *app, fs *flag.FlagSet, args []string) (func(context.Context, *opsclient.Client) error, error) {
	mode := fs.String("mode", "", "`check` or transfer")
	amount := fs.String("amount", "", "amount received in minor units (`CENTS`): 12345 is 123.45")
	ref := fs.String("reference", "", "cheque number or transfer `REFERENCE`")
	txid, _, err := parseTxid(fs, args)
	if err != nil {
		return nil, err
	}
	if *mode != "check" && *mode != "transfer" {
		return nil, usagef("--mode must be check or transfer")
	}
	// Integer minor units only: "123.45" is refused rather than guessed at, since a
	// misread amount is someone's money.
	n, err := strconv.ParseInt(*amount, 10, 64)
	if err != nil || n <= 0 {
		return nil, usagef("--amount %q: want a positive whole number of minor units (12345 for 123.45)", *amount)
	}
	if strings.TrimSpace(*ref) == "" {
		return nil, usagef("--reference is required (cheque number, transfer reference)")
	}
	p := opsclient.Payment{Mode: *mode, Amount: n, Reference: strings.TrimSpace(*ref)}
	return func(ctx context.Context, c *opsclient.Client) error {
		o, err := c.RecordPayment(ctx, txid, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s: %s payment of %s recorded (reference %s); order is %s\n",
			o.TxID, p.Mode, pricing.FormatPlain(p.Amount, o.Currency), p.Reference, o.Status)
		if o.Status != checkout.SoldOut && o.Status != checkout.Complete {
			fmt.Fprintf(a.stdout, "%s: the payment did not pay the order: see 'shopctl flags'\n", o.TxID)
		}
		return nil
	}, nil
}

func parseFlags(a *app, fs *flag.FlagSet, args []string) (func(context.Context, *opsclient.Client) error, error) {
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseArgs(fs, args); err != nil {
		return nil, err
	}
	return func(ctx context.Context, c *opsclient.Client) error {
		flags, err := c.Flags(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return a.printJSON(flags)
		}
		if len(flags) == 0 {
			fmt.Fprintln(a.stdout, "no payment waits for an operator")
			return nil
		}
		for _, f := range flags {
			if f.Reason == "stuck" {
				// An order, not a payment: moved on by the operator, closed by the next reconciliation.
				fmt.Fprintf(a.stdout, "%s  %-12s order %s, total %s, found stuck %s  key %s\n",
					f.TxID, f.Reason, f.Status, pricing.FormatPlain(f.Amount, f.Currency), f.At.UTC().Format(time.RFC3339), f.Key)
				continue
			}
			fmt.Fprintf(a.stdout, "%s  %-12s %s by %s, reference %s (order %s, flagged %s)  key %s\n",
				f.TxID, f.Reason, pricing.FormatPlain(f.Amount, f.Currency), f.Mode, f.Reference, f.Status, f.At.UTC().Format(time.RFC3339), f.Key)
		}
		return nil
	}, nil
}

func parseSettle(a *app, fs *flag.FlagSet, args []string) (func(context.Context, *opsclient.Client) error, error) {
	key := fs.String("key", "", "the flagged payment's `KEY` (see shopctl flags), when the order has several")
	ref := fs.String("reference", "", "the `REFERENCE` of the refund you made; leave out to refund a Stripe, PayPal or test payment through the provider")
	note := fs.String("note", "", "a note for the trace")
	txid, pos, err := parseTxid(fs, args, "deliver|refund")
	if err != nil {
		return nil, err
	}
	action := pos[1]
	if action != "deliver" && action != "refund" {
		return nil, usagef("the action must be deliver or refund, not %q", action)
	}
	se := opsclient.Settlement{Action: action, Key: *key, Reference: strings.TrimSpace(*ref), Note: *note}
	return func(ctx context.Context, c *opsclient.Client) error {
		o, err := c.Settle(ctx, txid, se)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s: settled (%s); order is %s\n", o.TxID, action, o.Status)
		return nil
	}, nil
}

func parseRefund(a *app, fs *flag.FlagSet, args []string) (func(context.Context, *opsclient.Client) error, error) {
	key := fs.String("key", "", "the payment's `KEY`, when the order has several")
	ref := fs.String("reference", "", "the `REFERENCE` of the refund you made (cheque returned, transfer sent); leave out to refund through the provider")
	note := fs.String("note", "", "a note for the trace")
	txid, _, err := parseTxid(fs, args)
	if err != nil {
		return nil, err
	}
	r := opsclient.Refund{Key: *key, Reference: strings.TrimSpace(*ref), Note: *note}
	return func(ctx context.Context, c *opsclient.Client) error {
		out, err := c.Refund(ctx, txid, r)
		if err != nil {
			return err
		}
		cur := out.Refund.Currency
		if cur == "" {
			cur = out.Order.Currency
		}
		fmt.Fprintf(a.stdout, "%s: refunded %s by %s, reference %s; order is %s\n", out.Order.TxID, pricing.FormatPlain(out.Refund.Amount, cur), out.Refund.Mode, out.Refund.Reference, out.Order.Status)
		if out.CreditNote != "" {
			fmt.Fprintf(a.stdout, "credit note %s (invoice %s)\n", out.CreditNote, out.Order.InvoiceNumber)
		}
		for _, w := range out.Withdrawn {
			fmt.Fprintf(a.stdout, "withdrawn: %s\n", w)
		}
		for _, w := range out.ToWithdraw {
			fmt.Fprintf(a.stdout, "to withdraw by hand: %s\n", w)
		}
		return nil
	}, nil
}

func parseCancel(a *app, fs *flag.FlagSet, args []string) (func(context.Context, *opsclient.Client) error, error) {
	txid, _, err := parseTxid(fs, args)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, c *opsclient.Client) error {
		o, err := c.Cancel(ctx, txid)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s: order is %s\n", o.TxID, o.Status)
		return nil
	}, nil
}

func parseTransition(a *app, fs *flag.FlagSet, args []string) (func(context.Context, *opsclient.Client) error, error) {
	txid, pos, err := parseTxid(fs, args, "<STATUS>")
	if err != nil {
		return nil, err
	}
	to, err := statusArg(pos[1])
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, c *opsclient.Client) error {
		o, err := c.Transition(ctx, txid, to)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s: order is %s\n", o.TxID, o.Status)
		return nil
	}, nil
}

func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

func printOrder(w io.Writer, d *opsclient.OrderDetail, loc *time.Location) error {
	o := d.Order
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Order\t%s\n", o.TxID)
	status := string(o.Status)
	if d.Waiting != "" {
		status += " (workflow waiting in " + d.Waiting + ")"
	}
	fmt.Fprintf(tw, "Status\t%s\n", status)
	fmt.Fprintf(tw, "Placed\t%s\n", stamp(o.PlacedAt, loc))
	fmt.Fprintf(tw, "Customer\t%s\n", customer(o.Customer))
	fmt.Fprintf(tw, "Paymode\t%s\n", o.Paymode)
	fmt.Fprintf(tw, "Total\t%s (untaxed %s, discount %s, taxes %s)\n", pricing.FormatPlain(o.Totals.Final, o.Currency),
		pricing.FormatPlain(o.Totals.Untaxed, o.Currency), pricing.FormatPlain(o.Totals.Discount, o.Currency), pricing.FormatPlain(o.Totals.Taxes, o.Currency))
	if o.InvoiceNumber != "" {
		fmt.Fprintf(tw, "Invoice\t%s\n", o.InvoiceNumber)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write order: %w", err)
	}

	fmt.Fprintf(w, "\nLines (%d)\n", len(o.Lines))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range o.Lines {
		fmt.Fprintf(tw, "  %d ×\t%s\t%s\t%s\t%s\n", l.Quantity, l.Code, l.Name, pricing.FormatPlain(l.UnitPrice, o.Currency), pricing.FormatPlain(l.Taxed, o.Currency))
	}
	tw.Flush()

	fmt.Fprintf(w, "\nPayments (%d)\n", len(d.Payments))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range d.Payments {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", stamp(p.At, loc), p.Mode, p.Outcome, pricing.FormatPlain(p.Amount, o.Currency), p.EventID)
	}
	tw.Flush()

	fmt.Fprintf(w, "\nProducts (%d)\n", len(d.Products))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range d.Products {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", p.Reference, p.ItemCode, p.Context, p.Status, p.Beneficiary)
	}
	tw.Flush()

	fmt.Fprintf(w, "\nTrace (%d)\n", len(d.Trace))
	lines := append([]trace.Line(nil), d.Trace...)
	// The API returns the trace in order; sorting (stably) guards a merged view.
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].At.Before(lines[j].At) })
	return opsclient.WriteTrace(w, lines, loc)
}

func stamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

func customer(c checkout.Customer) string {
	name := strings.TrimSpace(c.FirstName + " " + c.LastName)
	var parts []string
	if name != "" {
		parts = append(parts, name)
	}
	if c.Organisation != "" {
		parts = append(parts, "("+c.Organisation+")")
	}
	if c.Email != "" {
		parts = append(parts, "<"+c.Email+">")
	}
	if c.Country != "" {
		parts = append(parts, c.Country)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// txidAndZone parses a command whose one argument is a transaction ID and that takes
// --tz: the flags are read first, so tz holds the operator's zone by then.
// parseTxid parses the flags and a leading <txid> argument followed by the
// positional arguments named in rest; pos holds every positional argument,
// the txid first, so that callers index it as parseArgs's result.
func parseTxid(fs *flag.FlagSet, args []string, rest ...string) (string, []string, error) {
	pos, err := parseArgs(fs, args, append([]string{"<txid>"}, rest...)...)
	if err != nil {
		return "", nil, err
	}
	txid, err := txidArg(pos[0])
	if err != nil {
		return "", nil, err
	}
	return txid, pos, nil
}

func txidAndZone(fs *flag.FlagSet, args []string, tz *string) (string, *time.Location, error) {
	txid, _, err := parseTxid(fs, args)
	if err != nil {
		return "", nil, err
	}
	loc, err := tzArg(*tz)
	if err != nil {
		return "", nil, err
	}
	return txid, loc, nil
}
