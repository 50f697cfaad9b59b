package workflow

import (
	"context"
	"fmt"

	"github.com/lmsshop/checkout/internal/notify"
)

// NotifyTask runs the Notify function's tasks: delivered.
func (s *Notification) NotifyTask(ctx context.Context, t Task) (any, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	switch t.Event {
	case "delivered":
		if err := s.delivered(ctx, t.TxID); err != nil {
			return nil, err
		}
		return map[string]bool{"sent": true}, nil
	}
	return nil, &TaskError{Name: ErrTaskFailed, Msg: fmt.Sprintf("notify: unknown event %q", t.Event)}
}

// delivered e-mails the buyer the delivered products (with the bill link) and the
// sales managers the delivery report; each at most once, so a retry after one of
// them failed sends only the missing one.
func (s *Notification) delivered(ctx context.Context, txid string) error {
	shop, _, err := s.Shops.Get(ctx)
	if err != nil {
		return err
	}
	o, phases, err := s.Store.OrderAndFeedback(ctx, txid)
	if err != nil {
		return err
	}
	var fb []notify.Feedback
	for _, phase := range []string{"prepay", "postpay"} {
		for _, f := range phases[phase] {
			fb = append(fb, notify.Feedback{Item: f.Item, Public: f.Public, Private: f.Private, SalesAdmin: f.SalesAdmin})
		}
	}
	buyer := mailEvent(notify.ProductsDelivered, shop, o)
	buyer.Feedback, buyer.Links.Bill, buyer.Links.Order = fb, s.billLink(o), s.orderLink(o)
	if err := s.sendOnce(ctx, "ProductsDelivered", buyer); err != nil {
		return err
	}
	report := mailEvent(notify.DeliveryReport, shop, o)
	report.Feedback, report.Links.Bill = fb, s.billLink(o)
	return s.sendOnce(ctx, "DeliveryReport", report)
}
