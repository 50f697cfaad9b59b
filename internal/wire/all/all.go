// Package all lists every function's composition root, by its logical ID in
// template.yaml, for what runs them all in one process: the local cloud, the
// benchmark and the tests. A Lambda binary never imports it: its main.go names its own
// builder, so it links only what that function calls.
package all

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lmsshop/checkout/internal/production/locallms"
	"github.com/lmsshop/checkout/internal/seed"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/flow"
	"github.com/lmsshop/checkout/internal/wire/mail"
	"github.com/lmsshop/checkout/internal/wire/ops"
	"github.com/lmsshop/checkout/internal/wire/order"
	"github.com/lmsshop/checkout/internal/wire/post"
	"github.com/lmsshop/checkout/internal/wire/settings"
)

// builders maps each function of template.yaml to what builds its handler.
func builders() map[string]wire.Builder {
	return map[string]wire.Builder{
		"ShopFunction":           wire.Shop,
		"PurchaseReqsFunction":   settings.PurchaseReqs,
		"UsersFunction":          wire.Users,
		"CustomerFunction":       wire.Customer,
		"OrderFunction":          order.Order,
		"PaymentFunction":        flow.Payment,
		"PaymentWebhookFunction": flow.PaymentWebhook,
		"ProduceFunction":        flow.Produce,
		"BillFunction":           post.Bill,
		"NotifyFunction":         mail.Notify,
		"BackofficeFunction":     ops.Backoffice,
		"WatchFunction":          post.Watch,
		"ReconcileFunction":      flow.Reconcile,
	}
}

// FunctionIDs lists the logical IDs this package can build.
func FunctionIDs() []string {
	var out []string
	for id := range builders() {
		out = append(out, id)
	}
	return out
}

// Handler builds one function's handler.
func Handler(id string, d *wire.Deps) (lambda.Handler, error) {
	b, ok := builders()[id]
	if !ok {
		return nil, fmt.Errorf("wire: no function %s", id)
	}
	return b(d)
}

// SeedDemo writes the demo shop and catalog into the table, for local runs.
func SeedDemo(ctx context.Context, cfg wire.Config, awsCfg aws.Config) error {
	shop, cats, err := seed.Demo()
	if err != nil {
		return err
	}
	shop.ID = cfg.ShopID
	st := store.New(dynamodb.NewFromConfig(awsCfg), cfg.TableName)
	// The local LMS knows the courses the demo catalog sells, and the category course
	// spaces are created in; items name that category by its LMS ID.
	lms := locallms.New(st.DB, st.Table)
	if err := lms.Seed(ctx, append(locallms.DemoCourses, "INTRO")...); err != nil {
		return err
	}
	catID, _, err := lms.EnsureCategory(ctx, "Customer spaces", "")
	if err != nil {
		return err
	}
	for _, c := range cats {
		for i := range c.Items {
			if c.Items[i].Handler == "coursespace" {
				c.Items[i].HandlerParams["category"] = catID
			}
		}
	}
	return st.SaveShop(ctx, shop, cats)
}
