package production

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// base holds what every handler needs and implements the shared parts of the
// Handler interface: the name, the prepay phase and the at-most-once delivery of a
// unit. A handler embeds it and writes only ValidateParams and Postpay, plus Check or
// Roles where it has rules of its own.
type base struct {
	name  string // the catalog's handler name, given in Handlers
	lms   LMS
	store InstanceStore
	now   func() time.Time
}

// Name implements Handler.
func (b base) Name() string { return b.name }

// Roles implements Handler: most handlers use only the student role.
func (base) Roles() []string { return nil }

// Check implements Handler: most handlers have no rule of their own.
func (base) Check(context.Context, string, string) error { return nil }

// prepare validates the job and fills its clock reading when the caller left it empty.
func (b base) prepare(j Job) (Job, error) {
	if j.Now.IsZero() && b.now != nil {
		j.Now = b.now()
	}
	j.Now = j.Now.UTC()
	if err := j.Validate(); err != nil {
		return j, fmt.Errorf("%s: %w", b.name, err)
	}
	return j, nil
}

// Prepay implements Handler: every product needs the buyer's LMS account, so
// it is ensured at placement. EnsureUser is idempotent, so no marker is needed.
func (b base) Prepay(ctx context.Context, j Job) (Result, error) {
	j, err := b.prepare(j)
	if err != nil {
		return Result{}, err
	}
	_, created, err := b.lms.EnsureUser(ctx, j.Customer.Person())
	if err != nil {
		return Result{}, fmt.Errorf("%s prepay %s/%s: ensure account %s: %w", b.name, j.TxID, j.LineID, j.Customer.Email, err)
	}
	fb := Feedback{SalesAdmin: fmt.Sprintf("%s: account %s exists", j.ItemCode, j.Customer.Email)}
	if created {
		fb.Public = "Your learning account has been created."
		fb.Private = fmt.Sprintf("Your learning account login is %s.", strings.ToLower(j.Customer.Email))
		fb.SalesAdmin = fmt.Sprintf("%s: account created for %s", j.ItemCode, j.Customer.Email)
		fb.AccountCreated = true
	}
	return Result{Feedback: fb}, nil
}

// draft is what a handler's delivery function returns for one unit.
type draft struct {
	inst     Instance
	balances map[string]int64
}

// deliverFunc performs one unit's LMS effects (which must be idempotent) and
// describes the resulting instance. now is the pinned clock reading.
type deliverFunc func(ctx context.Context, now time.Time, pinned map[string]string) (draft, error)

// decideFunc chooses the values a unit's delivery must reuse on every run.
type decideFunc func(ctx context.Context, now time.Time) (map[string]string, error)

const pinNow = "now"

// deliver produces one unit at most once:
//  1. its decisions (clock reading, computed dates, generated keys) are pinned,
//     first writer wins, so every run acts identically — in the same write that
//     finds the unit's marker if it was committed (a retry after success), whose
//     stored instance is then the answer;
//  2. the LMS effects run — they are idempotent, so a run repeated after a
//     crash before step 3 changes nothing more;
//  3. marker + instance + balance additions are committed in one transaction
//     guarded by the marker's absence; a loser of a concurrent race reads the
//     winner's instance instead.
//
// A refund racing it: one that lands before the claim has it refused (ErrNotPaid),
// before any effect; one that lands after the claim closes it (the refund withdraws
// only committed units), and the commit, refused (*Refunded), is made all the same for
// the caller to withdraw the unit. A run that finds its order no longer paid but the
// unit claimed before (Claimed.NotPaid: an earlier run stopped between its effect and
// its commit) finishes the unit the same way, since that run's effect may be in the LMS.
func (b base) deliver(ctx context.Context, j Job, unit int, decide decideFunc, do deliverFunc) (Instance, error) {
	key := Key{TxID: j.TxID, LineID: j.LineID, Unit: unit, Phase: PhasePostpay, Round: j.Round}
	decisions := map[string]string{pinNow: j.Now.Format(time.RFC3339Nano)}
	if decide != nil {
		d, err := decide(ctx, j.Now)
		if err != nil {
			// Deciding reads the LMS, which a unit delivered before may have changed
			// since (an extension withdrawn): the unit's own marker is the answer then.
			if inst, found, perr := b.store.Produced(ctx, key); perr == nil && found {
				return inst, nil
			}
			return Instance{}, fmt.Errorf("%s %s: %w", b.name, key, err)
		}
		for k, v := range d {
			decisions[k] = v
		}
	}
	claimed, err := b.store.Claim(ctx, key, decisions)
	if err != nil {
		return Instance{}, fmt.Errorf("%s %s: pin decisions: %w", b.name, key, err)
	}
	notPaid := fmt.Errorf("%s %s: %w", b.name, key, ErrNotPaid)
	if claimed.Produced && claimed.NotPaid && claimed.Refunded != nil {
		// Committed after the refund: withdrawn by the run that committed it, which
		// may have stopped before; the caller withdraws it again.
		r := *claimed.Refunded
		r.Instance = claimed.Instance
		return Instance{}, fmt.Errorf("%s %s: %w", b.name, key, &r)
	}
	if claimed.Produced && claimed.NotPaid {
		return Instance{}, notPaid // delivered before the refund, which withdraws it
	}
	if claimed.Produced {
		return claimed.Instance, nil
	}
	pinned := claimed.Decisions
	now, err := time.Parse(time.RFC3339Nano, pinned[pinNow])
	if err != nil {
		return Instance{}, fmt.Errorf("%s %s: pinned time %q: %w", b.name, key, pinned[pinNow], err)
	}
	d, err := do(ctx, now.UTC(), pinned)
	if err != nil {
		return Instance{}, fmt.Errorf("%s %s: %w", b.name, key, err)
	}
	inst := d.inst
	inst.ID = key.InstanceID()
	inst.Reference = key.Reference()
	inst.ItemCode, inst.Handler = j.ItemCode, b.name
	inst.Customer = strings.ToLower(j.Customer.Email)
	inst.TxID, inst.LineID, inst.Unit, inst.Round = j.TxID, j.LineID, unit, j.Round
	if inst.Status == "" {
		inst.Status = StatusActive
	}
	if len(inst.Events) == 0 {
		inst.Events = []Event{{Type: EventDelivered, At: now.UTC()}}
	}
	c := Commit{Key: key, Instance: inst, Balances: d.balances}
	committed, err := b.commit(ctx, c)
	var refunded *Refunded
	if errors.As(err, &refunded) {
		// Refunded meanwhile: the effect is in the LMS and the refund did not see the
		// unit. Recorded all the same, it is the caller's to withdraw.
		c.Refunded = true
		if refunded.Instance, err = b.commit(ctx, c); err != nil {
			return Instance{}, err
		}
		return Instance{}, fmt.Errorf("%s %s: %w", b.name, key, refunded)
	}
	if err == nil && claimed.NotPaid {
		// Claimed before the order changed, and finished now, so that the refund sees
		// it and withdraws it.
		return Instance{}, notPaid
	}
	return committed, err
}

// commit writes c and answers the unit's instance: c's, or the one a concurrent run
// committed first.
func (b base) commit(ctx context.Context, c Commit) (Instance, error) {
	err := b.store.Commit(ctx, c)
	if errors.Is(err, ErrAlreadyProduced) {
		won, found, gerr := b.store.Produced(ctx, c.Key)
		if gerr != nil {
			return Instance{}, fmt.Errorf("%s %s: read concurrent result: %w", b.name, c.Key, gerr)
		}
		if !found {
			return Instance{}, fmt.Errorf("%s %s: marker exists but instance is missing", b.name, c.Key)
		}
		return won, nil
	}
	if err != nil {
		return Instance{}, fmt.Errorf("%s %s: commit: %w", b.name, c.Key, err)
	}
	return c.Instance, nil
}

// perPerson delivers unit i of the line to people[i], each on their LMS account (ensured
// first, so give receives its ID): give performs the unit's own LMS effects and
// describes the instance; tell words the delivered instance for the buyer (public,
// private) and for the sales admin.
func (b base) perPerson(ctx context.Context, j Job, people []Person,
	give func(ctx context.Context, now time.Time, p Person, uid string) (Instance, error),
	tell func(inst Instance) (public, private, admin string)) (Result, error) {
	var res Result
	var fb feedbackBuilder
	for i, p := range people {
		inst, err := b.deliver(ctx, j, i, nil, func(ctx context.Context, now time.Time, _ map[string]string) (draft, error) {
			uid, _, err := b.lms.EnsureUser(ctx, p)
			if err != nil {
				return draft{}, fmt.Errorf("ensure user %s: %w", p.Email, err)
			}
			inst, err := give(ctx, now, p, uid)
			return draft{inst: inst}, err
		})
		if err != nil {
			return Result{}, err
		}
		res.Instances = append(res.Instances, inst)
		fb.add(tell(inst))
	}
	res.Feedback = fb.feedback()
	return res, nil
}

// beneficiaries returns the people a per-person product goes to: the line's
// student seats, or the buyer when the item has no seats.
func beneficiaries(j Job) []Person {
	var ps []Person
	for _, s := range j.Seats {
		if s.Role == "" || s.Role == RoleStudent {
			ps = append(ps, s.Participant.Person())
		}
	}
	if len(ps) == 0 && len(j.Seats) == 0 {
		ps = append(ps, j.Customer.Person())
	}
	return ps
}

// positiveInt parses a required positive integer parameter.
func positiveInt(params map[string]string, name string) (int, error) {
	v, ok := params[name]
	if !ok || v == "" {
		return 0, fmt.Errorf("parameter %q is required", name)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("parameter %q = %q: want a positive integer", name, v)
	}
	return n, nil
}

// required returns a required non-empty parameter.
func required(params map[string]string, name string) (string, error) {
	v := strings.TrimSpace(params[name])
	if v == "" {
		return "", fmt.Errorf("parameter %q is required", name)
	}
	return v, nil
}

// feedback joins per-unit lines into one Feedback.
type feedbackBuilder struct{ public, private, admin []string }

func (f *feedbackBuilder) add(public, private, admin string) {
	if public != "" {
		f.public = append(f.public, public)
	}
	if private != "" {
		f.private = append(f.private, private)
	}
	if admin != "" {
		f.admin = append(f.admin, admin)
	}
}

func (f *feedbackBuilder) feedback() Feedback {
	return Feedback{Public: strings.Join(f.public, "\n"), Private: strings.Join(f.private, "\n"), SalesAdmin: strings.Join(f.admin, "\n")}
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }
