// Package production delivers what was sold (see docs/spec.md#production-and-product-handlers):
// one Handler per kind of catalog item, each reaching the learning platform
// through the LMS port, each delivered unit recorded as a product Instance with a
// checked reference.
//
// # Phases
//
// Prepay runs at placement and only ensures the buyer's LMS account (an
// idempotent "ensure"). Postpay runs once the order is paid and does the real
// effect: enrolments, roles, balances, keys, categories, course spaces.
//
// # At most once, even when retried or run twice concurrently
//
// Step Functions retries a failed task, and a Lambda may die between any two
// calls, so a production step can run again after doing part of its work, or
// twice at the same time. A unit of work is named by Key (transaction, line,
// unit, phase) and delivered by base.deliver in three moves:
//
//  1. Claim the unit (InstanceStore.Claim), one write: pin its decisions (the
//     clock reading, an extension's new end date, a licence key), first writer
//     wins and a later writer gets the winner's values back, so everything that
//     would differ between two runs is decided once, before any effect. A
//     postpay unit's decisions are pinned on the order's head, by an update
//     conditioned on the order being paid; another phase's on the unit's marker
//     (TX#<txid> / PRODUCED#<line>#<unit>#<phase>). A later writer also learns
//     from the marker whether the unit was committed: the stored instance is then
//     the answer, and a retry after success touches nothing more.
//  2. Perform the LMS effects. They are idempotent by construction: ensuring
//     a user, category or course finds before it creates; enrolling and
//     assigning a role are sets; extending sets the end to the pinned date
//     rather than adding days again. So a run that repeats them after a crash
//     (effect done, marker not written) changes nothing more.
//  3. Commit in one TransactWriteItems: the marker (on condition that it has
//     no reference yet), the instance under its deterministic ID and
//     reference (both derived from the key by hashing), its events, and any
//     balance ADD (training credits, quiz attempts). Effects that are not
//     idempotent therefore live only inside this transaction: the marker's
//     condition guarantees the ADD is applied once. A concurrent run that
//     loses the condition reads and returns the winner's instance;
//     TransactionConflict cancellations are retried with backoff.
//
// An operator's refund may land between a unit's claim and its commit, when the unit's
// effect may be in the LMS but the unit is not among those the refund withdraws. The
// refund closes such a unit's claim on its marker, the commit's condition refuses a
// closed unit (*Refunded), and the run commits it knowingly and has it withdrawn like
// any delivered unit (see base.deliver).
//
// # Rounds: an order delivered again after a refund
//
// A refunded order's units stay committed (withdrawn), so its keys answer "delivered"
// for good. When an operator delivers a late payment on it (CANCELLED → SOLDOUT), the
// order counts one more redelivery, and production keys its units with that count
// (Key.Round, from Job.Round): new markers, new pins, new instances with references of
// their own, beside the withdrawn ones. Round 0 names everything as before rounds
// existed, so an order's first delivery costs and writes exactly what it did; a round
// is at most once like any key, and the refund of a redelivered order takes back that
// round's instances only.
//
// The marker is written after the effect, never before: a marker written
// first and a crash before the effect would record a delivery that never
// happened, which is worse (silent loss) than repeating an idempotent call.
//
// # References
//
// An instance reference is WWWW-XXXX-YYYY-ZZCC: 14 base-36 characters derived
// from the key's hash and a two-digit ISO/IEC 7064 MOD 97-10 check pair that
// catches every single-character substitution and every adjacent
// transposition (see reference.go for the argument). ValidReference checks one.
package production
