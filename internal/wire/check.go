package wire

import (
	"context"
	"fmt"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/production/locallms"
	"github.com/lmsshop/checkout/internal/production/moodle"
)

// LMS builds the adapter production reaches the LMS through: the Moodle web services,
// or records in the table for local runs.
func LMS(d *Deps) (production.LMS, error) {
	switch d.Cfg.LMSAdapter {
	case "moodle":
		c, err := moodle.New(d.Cfg.MoodleURL, d.Cfg.MoodleToken)
		if err != nil {
			return nil, fmt.Errorf("wire: moodle: %w", err)
		}
		return c, nil
	case "local", "":
		return locallms.New(d.Store), nil
	default:
		return nil, fmt.Errorf("wire: unknown LMS_ADAPTER %q (local or moodle)", d.Cfg.LMSAdapter)
	}
}

// ProductionHandlers builds the product handlers on the configured LMS.
func ProductionHandlers(d *Deps) (map[string]production.Handler, error) {
	lms, err := LMS(d)
	if err != nil {
		return nil, err
	}
	return production.Handlers(lms, d.Store, d.Now), nil
}

// requiredDataCheck is the handlers' own rule on required data (e.g. a course short
// name is free).
func requiredDataCheck(d *Deps) checkout.Checker {
	handlers, err := ProductionHandlers(d)
	if err != nil {
		d.Log.Error("required data checks disabled", "err", err)
		return nil
	}
	return func(ctx context.Context, handler, field, value string) error {
		h, ok := handlers[handler]
		if !ok {
			return nil
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return h.Check(ctx, field, value)
	}
}
