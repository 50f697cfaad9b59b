package workflow

import (
	"context"
	"errors"
	"fmt"

	"github.com/lmsshop/checkout/internal/notify"
)

// NotifyTask runs the Notify function's tasks: delivered, and the e-mails the back
// office hands to it (EventMail).
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
	case EventMail:
		if t.Mail == nil || t.Mail.Name == "" || t.Mail.Event.Order.TxID != t.TxID {
			return nil, &TaskError{Name: ErrTaskFailed, Msg: fmt.Sprintf("notify: the mail task of %s carries no e-mail of that order", t.TxID)}
		}
		if err := s.sendOnce(ctx, t.Mail.Name, t.Mail.Event); err != nil {
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
	// Both e-mails are claimed in one write; a retry after one of them failed (its
	// claim given back) claims and sends only that one.
	const group = "mail#delivered"
	claimed, err := s.Store.OnceEach(ctx, txid, group, string(notify.ProductsDelivered), string(notify.DeliveryReport))
	if err != nil {
		return err
	}
	claimOf := func(name notify.Kind) claim {
		return claim{
			key:     "ONCE#" + group + " " + string(name),
			release: func(ctx context.Context) error { return s.Store.ReleaseEach(ctx, txid, group, string(name)) },
		}
	}
	buyer := mailEvent(notify.ProductsDelivered, shop, o)
	buyer.Feedback, buyer.Links.Bill, buyer.Links.Order = fb, s.billLink(o), s.orderLink(o)
	report := mailEvent(notify.DeliveryReport, shop, o)
	report.Feedback, report.Links.Bill = fb, s.billLink(o)
	err = s.sendClaimed(ctx, "ProductsDelivered", buyer, claimed[string(notify.ProductsDelivered)], claimOf(notify.ProductsDelivered))
	if err != nil {
		// The report's claim is given back too: it is sent with the buyer's retry.
		if claimed[string(notify.DeliveryReport)] {
			_ = s.releaseClaim(ctx, "DeliveryReport", report, claimOf(notify.DeliveryReport), errors.New("not sent: ProductsDelivered failed first"))
		}
		return err
	}
	return s.sendClaimed(ctx, "DeliveryReport", report, claimed[string(notify.DeliveryReport)], claimOf(notify.DeliveryReport))
}
