package settings

import (
	"context"
	"fmt"
	"time"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/production/locallms"
	"github.com/lmsshop/checkout/internal/production/moodle"
	"github.com/lmsshop/checkout/internal/wire"
)

// LMS builds the adapter the functions reach the LMS through, once per cold start:
// the Moodle web services (LMS_ADAPTER=moodle, MOODLE_URL, and MOODLE_TOKEN from the
// settings secret or the environment), or records in the table for local runs. Every
// function that checks data against the LMS or delivers to it uses this one, so a check
// before payment asks the LMS that production will deliver to.
func LMS(d *wire.Deps) (production.LMS, error) {
	v, err := d.Once("lms", func() (any, error) { return newLMS(d) })
	if err != nil {
		return nil, err
	}
	return v.(production.LMS), nil
}

func newLMS(d *wire.Deps) (production.LMS, error) {
	switch d.Cfg.LMSAdapter {
	case "moodle":
		if d.Cfg.MoodleURL == "" {
			return nil, fmt.Errorf("settings: LMS_ADAPTER=moodle needs MOODLE_URL, the base URL of the Moodle site")
		}
		get, err := Lookup(d)
		if err != nil {
			return nil, err
		}
		token := get(MoodleTokenKey)
		if token == "" {
			where := "the settings secret " + d.Cfg.SettingsSecret
			if d.Cfg.SettingsSecret == "" {
				where = "the environment (no SETTINGS_SECRET is set)"
			}
			return nil, fmt.Errorf("settings: LMS_ADAPTER=moodle needs the Moodle web-service token: %s has no key %s", where, MoodleTokenKey)
		}
		c, err := moodle.New(d.Cfg.MoodleURL, token)
		if err != nil {
			return nil, fmt.Errorf("settings: %w", err)
		}
		return c, nil
	case "local", "":
		return locallms.New(d.Store.DB, d.Store.Table), nil
	default:
		return nil, fmt.Errorf("settings: unknown LMS_ADAPTER %q (local or moodle)", d.Cfg.LMSAdapter)
	}
}

// ProductionHandlers builds the product handlers on the configured LMS.
func ProductionHandlers(d *wire.Deps) (map[string]production.Handler, error) {
	lms, err := LMS(d)
	if err != nil {
		return nil, err
	}
	return production.Handlers(lms, d.Store, d.Now), nil
}

// DeliveryCheck is production.Unmet on the configured LMS: placement asks it which
// deliveries production would refuse for good once paid (a certificate for a learner
// not enrolled in its course). It reads the LMS only for such deliveries, creating
// nothing (the local adapter: GetItem on the table, which the ORDER function has).
func DeliveryCheck(d *wire.Deps) (func(context.Context, []production.Planned) (map[string]string, error), error) {
	lms, err := LMS(d)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, plan []production.Planned) (map[string]string, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return production.Unmet(ctx, lms, plan)
	}, nil
}

// RequiredDataCheck is the handlers' own rule on required data (e.g. a course short
// name is free), asked of the configured LMS. An LMS that cannot be built fails the
// cold start: checking against another LMS than production's would accept data that
// production then refuses after payment.
func RequiredDataCheck(d *wire.Deps) (checkout.Checker, error) {
	handlers, err := ProductionHandlers(d)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, handler, field, value string) error {
		h, ok := handlers[handler]
		if !ok {
			return nil
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return h.Check(ctx, field, value)
	}, nil
}
