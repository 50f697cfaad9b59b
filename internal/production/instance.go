package production

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Instance statuses.
const (
	StatusActive     = "active"
	StatusUnassigned = "unassigned"
)

// Instance is a product instance: one delivered unit of a catalog item (see
// docs/spec.md#production-and-product-handlers).
type Instance struct {
	// ID is deterministic (see Key.InstanceID) so a retried step names the same instance.
	ID string
	// Reference is the buyer-facing WWWW-XXXX-YYYY-ZZCC code; CC is its check pair.
	Reference string
	ItemCode  string
	Handler   string
	// Customer is the buyer's e-mail, lowercased.
	Customer string
	// Beneficiary is the e-mail of the person the unit was delivered to, when not the buyer.
	Beneficiary string
	TxID        string
	LineID      string
	Unit        int
	// Round is the order's delivery the unit was made by (Key.Round): 0 for the first,
	// more for a delivery after a refund (a late payment delivered).
	Round int
	// Context is what the unit applies to: a course short name, "site", a quiz…
	Context string
	Status  string
	// Start and End are UTC; a zero End means no end.
	Start, End time.Time
	Data       map[string]string
	Events     []Event
}

// Event is one change in an instance's life.
type Event struct {
	Type string
	At   time.Time
	Data map[string]string
}

// Key names one production step: unit Unit of line LineID in transaction
// TxID, in phase Phase, in the order's delivery Round. Each key is produced at most once.
//
// Round is 0 for an order's first delivery. An order refunded (its units withdrawn)
// and then delivered again, for a late payment an operator settled with deliver, is
// delivered in a round of its own (Job.Round, the order's count of such deliveries):
// its units are new keys, so new instances with references of their own, where the
// first round's keys would answer the withdrawn units as delivered already.
type Key struct {
	TxID, LineID string
	Unit         int
	Phase        string
	Round        int
}

func (k Key) String() string {
	return k.TxID + "/" + k.LineID + "/" + strconv.Itoa(k.Unit) + "/" + k.Phase + k.RoundSuffix("/r")
}

// RoundSuffix is sep and the key's round, or nothing in round 0: a first delivery's
// names (markers, pins, references, the store's items) are what they were before
// rounds existed.
func (k Key) RoundSuffix(sep string) string {
	if k.Round == 0 {
		return ""
	}
	return sep + strconv.Itoa(k.Round)
}

// digest hashes the key's identity (not its phase: one unit is one instance per round).
func (k Key) digest() [32]byte {
	return sha256.Sum256([]byte("lmsshop/instance\x00" + k.TxID + "\x00" + k.LineID + "\x00" + strconv.Itoa(k.Unit) + k.RoundSuffix("\x00")))
}

// InstanceID returns the deterministic instance ID for the key's unit.
func (k Key) InstanceID() string {
	d := k.digest()
	return fmt.Sprintf("%x", d[:12])
}

// Reference returns the deterministic reference of the key's unit. It is derived
// from a hash, so it carries nothing readable, and a retry gets the same one.
func (k Key) Reference() string {
	d := k.digest()
	return ReferenceFromNumber(binary.BigEndian.Uint64(d[12:20]), binary.BigEndian.Uint64(d[20:28]))
}

// Commit is what one production step writes atomically.
type Commit struct {
	Key      Key
	Instance Instance
	// Balances are additions to the customer account's counters (e.g.
	// "credits"), applied in the same transaction as the production marker so
	// that a retry can never add twice.
	Balances map[string]int64
	// Refunded commits a unit whose claim a refund closed (see Refunded), so that it is
	// recorded and withdrawn like any delivered unit; still only if it was not committed.
	Refunded bool
}

// ErrAlreadyProduced is returned by InstanceStore.Commit when the key's marker exists.
var ErrAlreadyProduced = errors.New("already produced")

// ErrNotPaid is returned by InstanceStore.Claim of a postpay unit whose order is no
// longer paid (an operator's refund or cancellation won the race with production): the
// claim comes before any effect in the LMS, so the check rides on it. A refund that
// lands after the claim closes the claim instead (InstanceStore.Commit then answers
// *Refunded, which wraps ErrNotPaid).
var ErrNotPaid = errors.New("the order is not paid")

// Refunded is InstanceStore.Commit's refusal of a unit whose order was refunded between
// its claim and its commit: the refund, which withdraws the delivered units, could not
// see this one (not committed yet) and closed its claim instead, naming itself. The run
// that made the unit's effect in the LMS is the one that can take it back: it commits
// the unit anyway (Commit.Refunded) and answers this error with Instance set, for the
// caller to withdraw it as the refund withdraws the others, as of At.
type Refunded struct {
	// Refund is the refund's reference, At its time (the withdrawn event's).
	Refund string
	At     time.Time
	// Instance is the unit as committed after the refusal (set by the handler).
	Instance Instance
}

func (e *Refunded) Error() string {
	return fmt.Sprintf("the order was refunded (%s) while the unit was being delivered", e.Refund)
}

// Unwrap makes a refunded unit's error an ErrNotPaid: the task ends as for any order
// no longer paid.
func (e *Refunded) Unwrap() error { return ErrNotPaid }

// Claimed is InstanceStore.Claim's answer.
type Claimed struct {
	// Produced is true when the key was committed: Instance is then its instance.
	Produced bool
	Instance Instance
	// Decisions are the decisions pinned first (when not Produced).
	Decisions map[string]string
	// NotPaid says that a postpay unit's order is no longer paid but the unit was
	// claimed before it changed: an earlier run may have made its effect in the LMS
	// and stopped before its commit (a commit that failed and is retried), which a
	// refund does not see. The run finishes it (Decisions) so that it is withdrawn like
	// any delivered unit, and ends as for an order not paid.
	NotPaid bool
	// Refunded names the refund that closed the unit's claim before a run committed
	// it knowingly (Commit.Refunded), when one did: that run may have stopped before
	// withdrawing it, so a later one withdraws it again (withdrawing is idempotent).
	Refunded *Refunded
}

// InstanceStore persists production markers, decisions and instances.
type InstanceStore interface {
	// Produced returns the instance committed under key; found is false when the key was never committed.
	Produced(ctx context.Context, key Key) (inst Instance, found bool, err error)
	// Claim is Produced and the pinning of decisions in one step: when key was
	// committed it returns the committed instance (Claimed.Produced); otherwise it
	// records decisions the first time and returns the decisions recorded first, so
	// that every run of a step acts on the same choices (an extension's end date, a
	// licence key). A postpay claim's error wraps ErrNotPaid when the order is no
	// longer paid and the unit was not claimed before (else Claimed.NotPaid).
	Claim(ctx context.Context, key Key, decisions map[string]string) (Claimed, error)
	// Commit writes the production marker (only if the key was not committed yet),
	// the instance with its events and the balance additions in one transaction. It
	// returns an error wrapping ErrAlreadyProduced when the key was committed, and one
	// wrapping *Refunded when a refund closed the key's claim (unless c.Refunded).
	Commit(ctx context.Context, c Commit) error
	// Instance returns the instance with this reference; the error wraps ErrNotFound when absent.
	Instance(ctx context.Context, reference string) (Instance, error)
	// Balance returns a customer account counter (0 when never set).
	Balance(ctx context.Context, email, name string) (int64, error)
}
