// Package trace gives every purchase its transaction ID and writes the merchant trace:
// one line per merchant operation, to the millisecond, starting with the transaction ID
// (see docs/spec.md#transaction-id-and-merchant-trace).
package trace

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// idAlphabet is the transaction ID's [A-Z0-9].
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// NewTxID draws a 16-character transaction ID from crypto/rand, without modulo bias:
// 36^16 ≈ 2^82 values, so IDs can be neither guessed nor enumerated.
func NewTxID() string {
	var out [16]byte
	var buf [32]byte
	n := 0
	for n < len(out) {
		if _, err := rand.Read(buf[:]); err != nil {
			panic(fmt.Sprintf("trace: crypto/rand failed: %v", err)) // the platform is broken
		}
		for _, b := range buf {
			// 252 = 7 × 36: dropping bytes ≥ 252 keeps every symbol equally likely.
			if b >= 252 || n == len(out) {
				continue
			}
			out[n] = idAlphabet[b%36]
			n++
		}
	}
	return string(out[:])
}

// ValidTxID reports whether s has the form of a transaction ID.
func ValidTxID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(idAlphabet, rune(s[i])) {
			return false
		}
	}
	return true
}

// The sources of trace lines, as the merchant trace names them
// (docs/spec.md#transaction-id-and-merchant-trace): each function or step writes under
// one. SourceBackOffice is also what the operators' fake back office (opsclient/opstest)
// writes, so that a test reads the same trace from both.
const (
	SourceShop         = "Shop"
	SourceRequirements = "Purchase Requirements"
	SourceUsers        = "Users"
	SourceCustomer     = "Customer"
	SourceOrder        = "Order"
	SourcePayment      = "Payment"
	SourceTest         = "Test Processing"
	SourceWebhook      = "Payment Notification"
	SourceProduction   = "Production Controller"
	SourceBill         = "Billing"
	SourceNotify       = "Notification"
	SourceBackOffice   = "Back Office"
	SourceReconcile    = "Reconciliation"
)

// Sources lists every source, in the spec's order.
var Sources = []string{SourceShop, SourceRequirements, SourceUsers, SourceCustomer, SourceOrder, SourcePayment,
	SourceTest, SourceWebhook, SourceProduction, SourceBill, SourceNotify, SourceBackOffice, SourceReconcile}

// Line is one trace line.
type Line struct {
	At      time.Time `json:"at"`
	TxID    string    `json:"transactionId,omitempty"`
	Source  string    `json:"source"`
	Message string    `json:"message"`
}

// Format renders the line in the merchant trace's text form
// (docs/spec.md#transaction-id-and-merchant-trace), in loc
// (UTC when nil):
// "-- 2016-7-27 11:32:13 753 -- [TU80WKRYTI9QUMJ4] Test Processing : paying".
func (l Line) Format(loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	t := l.At.In(loc)
	stamp := fmt.Sprintf("-- %d-%d-%d %02d:%02d:%02d %03d --", t.Year(), int(t.Month()), t.Day(),
		t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/int(time.Millisecond))
	if l.TxID == "" {
		return fmt.Sprintf("%s %s : %s", stamp, l.Source, l.Message)
	}
	return fmt.Sprintf("%s [%s] %s : %s", stamp, l.TxID, l.Source, l.Message)
}

// BreaksLine reports the runes that can end a line of text or fake a new one: every
// control character (CR, LF, tab, NUL, ESC, NEL…) and the Unicode line and paragraph
// separators. It is the one rule of the repository's three cleaners of one-line text
// (Sanitize here, checkout.Clean, notify's header cleaner); they differ only in what
// they put in such a rune's place and what else they do, each for its own output.
func BreaksLine(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// Sanitize is for text written into a trace line (an operator's note or reference, a
// message built from user input): every rune that BreaksLine becomes a space, so no
// text can split a line or forge another while its words stay apart, and the text is
// capped at 1000 bytes, as a trace line is one short DynamoDB attribute. Unlike
// checkout.Clean it keeps the place of a removed rune, since a note is read as
// written; unlike notify's header cleaner it keeps runs of spaces, so a line stored
// before reads the same.
func Sanitize(s string) string {
	const max = 1000
	s = strings.Map(func(r rune) rune {
		if BreaksLine(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		// Cut on a character boundary, never inside a multi-byte one.
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strings.TrimSpace(s)
}

// Store keeps trace lines.
type Store interface {
	AppendTrace(ctx context.Context, l Line) error
	ListTrace(ctx context.Context, txid string) ([]Line, error)
}

// Tracer writes trace lines for one source (a function or state), never failing the
// operation it describes: a lost trace line is logged (a warning on Log, or
// slog.Default), not fatal.
type Tracer struct {
	Store  Store
	Source string
	Now    func() time.Time
	Log    *slog.Logger
}

// Line builds, without writing it, the line Printf would write: for a caller that
// stores it in a transaction of its own.
func (t *Tracer) Line(txid, format string, args ...any) Line {
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	return Line{At: now().UTC(), TxID: txid, Source: Sanitize(t.Source), Message: Sanitize(fmt.Sprintf(format, args...))}
}

// Printf writes one line for txid. Under a context that carries a Pending (WithPending),
// the line is kept there instead, to ride on the next write of the transaction's items
// (see Pending).
func (t *Tracer) Printf(ctx context.Context, txid, format string, args ...any) {
	t.Print(ctx, t.Line(txid, format, args...))
}

// Print writes a line built earlier with Line, as Printf would: for a caller that
// stamps a line before it knows whether it will be written (its time places it in the
// trace, which is merged by time).
func (t *Tracer) Print(ctx context.Context, l Line) {
	if p := PendingFrom(ctx); p != nil {
		p.Add(l)
		return
	}
	if err := t.Store.AppendTrace(ctx, l); err != nil {
		Lost(t.Log, []Line{l}, err)
	}
}

// Lost logs trace lines of one transaction that could not be stored: the one warning
// every writer of trace lines gives (Tracer, Pending.Flush, the store's own overflow
// line), so an operator searches for one message with the same fields. A lost line is
// never fatal to the operation it describes. A nil log is slog.Default().
func Lost(log *slog.Logger, lines []Line, err error) {
	if len(lines) == 0 {
		return
	}
	if log == nil {
		log = slog.Default()
	}
	var sources []string
	for _, l := range lines {
		if !slices.Contains(sources, l.Source) {
			sources = append(sources, l.Source)
		}
	}
	log.Warn("trace line lost", "source", strings.Join(sources, ","), "txid", lines[0].TxID, "lines", len(lines), "err", err)
}

// Pending holds the trace lines of one request or task that are not yet stored. The
// store takes a transaction's pending lines into the next write it makes on that
// transaction's items (the order's status move, a claim, the feedback…), so a line
// costs no call of its own; what is left when the request ends is written in one call
// (Flush). A line therefore becomes visible with the write that follows it, never
// before: a crash loses only lines whose step wrote nothing, which the retried
// request writes again.
type Pending struct {
	mu    sync.Mutex
	lines []Line
}

type pendingKey struct{}

// WithPending returns a context whose trace lines wait in p.
func WithPending(ctx context.Context, p *Pending) context.Context {
	return context.WithValue(ctx, pendingKey{}, p)
}

// PendingFrom returns the context's Pending, or nil when lines are written at once.
func PendingFrom(ctx context.Context) *Pending {
	p, _ := ctx.Value(pendingKey{}).(*Pending)
	return p
}

// Add keeps one line.
func (p *Pending) Add(l Line) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, l)
}

// Take removes and returns the pending lines of txid, in the order they were added.
func (p *Pending) Take(txid string) []Line {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out, rest []Line
	for _, l := range p.lines {
		if l.TxID == txid {
			out = append(out, l)
		} else {
			rest = append(rest, l)
		}
	}
	p.lines = rest
	return out
}

// Restore gives back lines taken for a write that did not happen, ahead of any added
// since, so they keep their order.
func (p *Pending) Restore(lines []Line) {
	if p == nil || len(lines) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(append([]Line(nil), lines...), p.lines...)
}

// TakeAll removes and returns every pending line.
func (p *Pending) TakeAll() []Line {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.lines
	p.lines = nil
	return out
}

// Flush writes what is still pending (a line whose step made no write, a refusal, the
// line after a request's last write), one call per transaction; a failure is logged on
// log (Lost), never reported to the request.
func (p *Pending) Flush(ctx context.Context, st BatchStore, log *slog.Logger) {
	lines := p.TakeAll()
	var order []string
	by := map[string][]Line{}
	for _, l := range lines {
		if _, ok := by[l.TxID]; !ok {
			order = append(order, l.TxID)
		}
		by[l.TxID] = append(by[l.TxID], l)
	}
	for _, txid := range order {
		if err := st.AppendTraces(ctx, by[txid]); err != nil {
			Lost(log, by[txid], err)
		}
	}
}

// BatchStore stores several lines of one transaction in one write.
type BatchStore interface {
	AppendTraces(ctx context.Context, lines []Line) error
}

// Async writes the line in the background, so it costs no latency beside the
// operation it describes; the returned func waits for it (call it before answering,
// as a Lambda may be frozen once it has answered).
func (t *Tracer) Async(ctx context.Context, txid, format string, args ...any) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t.Printf(context.WithoutCancel(ctx), txid, format, args...)
	}()
	return func() { <-done }
}
