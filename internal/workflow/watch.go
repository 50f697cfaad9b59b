package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/store"
)

// The operator-wait metric, as CloudWatch receives it (Embedded Metric Format).
const (
	MetricNamespace   = "LmsCheckout"
	MetricWaiting     = "OrdersWaitingForOperator"
	MetricDimensionID = "ShopId"
)

// WatchStore is what the watch reads of the table.
type WatchStore interface {
	ShopSettings(ctx context.Context, shopID string) (*checkout.Shop, error)
	OrdersPlacedBefore(ctx context.Context, status checkout.Status, before time.Time) ([]store.OrderAge, error)
}

var _ WatchStore = (*store.Store)(nil)

// Watch counts the orders waiting for an operator and publishes the count as the
// metric OrdersWaitingForOperator (namespace LmsCheckout, dimension ShopId), an alarm's
// input. It runs on a schedule.
//
// An order waits for an operator when it has stayed unchanged (updatedAt) in its status
// for longer than the workflow itself keeps an order there (workflowAllowance), plus
// Threshold: the rule of docs/spec.md#orders-waiting-for-an-operator, status by status.
// Still PLACED or SOLDOUT past the threshold, the workflow stopped after exhausting its
// retries (ProductionFailed, BillingFailed, PaymentError) or never started. A cheque
// order of two days waits for the post, not for an operator: counting it would make the
// alarm ring for every one, so PENDING is allowed the mode's payment wait.
type Watch struct {
	Store     WatchStore
	ShopID    string
	Threshold time.Duration
	Now       func() time.Time
	// Out receives the metric line: standard output in Lambda, whose logs CloudWatch
	// reads the metric from.
	Out io.Writer
	Log *slog.Logger
}

// watchedStatuses are the statuses an order can wait for an operator in.
var watchedStatuses = []checkout.Status{
	checkout.Placed, checkout.Pending, checkout.PreProd, checkout.SoldOut, checkout.Partial,
	checkout.Payback, checkout.Failed, checkout.Refused,
}

// workflowAllowance is how long the workflow itself may keep an order in its status
// (see Watch).
func workflowAllowance(shop *checkout.Shop, o store.OrderAge) time.Duration {
	switch o.Status {
	case checkout.Pending:
		return time.Duration(checkout.PlanFor(shop, o.Paymode).TimeoutSeconds) * time.Second
	case checkout.Failed, checkout.Refused:
		return time.Duration(checkout.PlanFor(shop, o.Paymode).RetrySeconds) * time.Second
	}
	return 0
}

// WatchReport is what one run found: the count, by status, and the oldest orders'
// transaction IDs (at most maxListed), for the operator who answers the alarm.
type WatchReport struct {
	Waiting  int                     `json:"waiting"`
	ByStatus map[checkout.Status]int `json:"byStatus"`
	Oldest   []string                `json:"oldest"`
}

const maxListed = 20

// Run counts the waiting orders and writes the metric line; Waiting refuses a threshold
// that is not positive, so nothing is published then.
func (w *Watch) Run(ctx context.Context) (WatchReport, error) {
	const op = "watch.run"
	now := w.now()
	waiting, err := w.Waiting(ctx, now)
	if err != nil {
		return WatchReport{}, err
	}
	rep := WatchReport{Waiting: len(waiting), ByStatus: map[checkout.Status]int{}, Oldest: []string{}}
	for i, o := range waiting {
		rep.ByStatus[o.Status]++
		if i < maxListed {
			rep.Oldest = append(rep.Oldest, o.TxID)
		}
	}
	if err := w.publish(now, rep); err != nil {
		return WatchReport{}, checkout.Wrap(op, err)
	}
	return rep, nil
}

// Waiting lists the orders waiting for an operator at now (see Watch), oldest change
// first. Reconciliation flags the same orders the metric counts.
func (w *Watch) Waiting(ctx context.Context, now time.Time) ([]store.OrderAge, error) {
	if w.Threshold <= 0 {
		return nil, checkout.Errorf("watch.waiting", checkout.EINTERNAL, "the operator wait threshold must be positive, not %v", w.Threshold)
	}
	shop, err := w.Store.ShopSettings(ctx, w.ShopID)
	if err != nil {
		return nil, err
	}
	var waiting []store.OrderAge
	for _, status := range watchedStatuses {
		// No order unchanged since the cutoff was placed after it (placedAt <= updatedAt).
		orders, err := w.Store.OrdersPlacedBefore(ctx, status, now.Add(-w.Threshold))
		if err != nil {
			return nil, err
		}
		for _, o := range orders {
			if o.Status != status {
				continue // moved since the index was written
			}
			if now.Sub(o.UpdatedAt) > workflowAllowance(shop, o)+w.Threshold {
				waiting = append(waiting, o)
			}
		}
	}
	sort.Slice(waiting, func(i, j int) bool { return waiting[i].UpdatedAt.Before(waiting[j].UpdatedAt) })
	return waiting, nil
}

// publish writes one Embedded Metric Format line: CloudWatch Logs turns it into the
// metric, and the other members stay in the log for whoever answers the alarm.
func (w *Watch) publish(now time.Time, rep WatchReport) error {
	line := map[string]any{
		"_aws": map[string]any{
			"Timestamp": now.UnixMilli(),
			"CloudWatchMetrics": []map[string]any{{
				"Namespace":  MetricNamespace,
				"Dimensions": [][]string{{MetricDimensionID}},
				"Metrics":    []map[string]string{{"Name": MetricWaiting, "Unit": "Count"}},
			}},
		},
		MetricDimensionID:  w.ShopID,
		MetricWaiting:      rep.Waiting,
		"waitingByStatus":  rep.ByStatus,
		"oldestWaiting":    rep.Oldest,
		"thresholdMinutes": int(w.Threshold / time.Minute),
	}
	raw, err := json.Marshal(line)
	if err != nil {
		return err
	}
	out := w.Out
	if out == nil {
		out = os.Stdout
	}
	_, err = out.Write(append(raw, '\n'))
	return err
}

func (w *Watch) now() time.Time {
	if w.Now == nil {
		return time.Now().UTC()
	}
	return w.Now().UTC()
}

// Handler is the scheduled function: the event (EventBridge's) carries nothing it needs.
func (w *Watch) Handler() lambda.Handler {
	return lambda.NewHandler(func(ctx context.Context, _ json.RawMessage) (WatchReport, error) {
		rep, err := w.Run(ctx)
		if err != nil {
			w.log().Error("operator wait not measured", "err", err)
			return WatchReport{}, fmt.Errorf("watch: %w", err)
		}
		return rep, nil
	})
}

func (w *Watch) log() *slog.Logger {
	if w.Log == nil {
		return slog.Default()
	}
	return w.Log
}
