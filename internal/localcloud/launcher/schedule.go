package launcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/lmsshop/checkout/internal/cfn"
	"github.com/lmsshop/checkout/internal/localcloud/apigw"
	"github.com/lmsshop/checkout/internal/localcloud/iam"
)

// ErrNoSchedule is returned by InvokeSchedule for a function no schedule of the
// template invokes.
var ErrNoSchedule = errors.New("launcher: no schedule of the template invokes this function")

// InvokeSchedule does what the template's schedule of a function (by logical ID) does
// when it fires: the local cloud runs no clock of its own (a daily run would not come
// during a test), so a test or an operator fires it on demand. The invocation goes the
// way AWS's does:
//
//   - an EventBridge Scheduler schedule invokes as its role, which must allow
//     lambda:InvokeFunction on the function (checked by the same IAM evaluation as
//     every call), with the target's Input (an empty object when it sets none);
//   - an EventBridge rule invokes when Lambda's resource policy (an
//     AWS::Lambda::Permission for events.amazonaws.com) lets it, with the Scheduled
//     Event EventBridge sends.
//
// The function runs with its own environment and identity, its calls checked against
// its role. It returns the function's answer.
func (c *Cloud) InvokeSchedule(ctx context.Context, function string) ([]byte, error) {
	arn := apigw.FunctionARN(Region, AccountID, function)
	for _, s := range c.schedules {
		if s.FunctionARN != arn {
			continue
		}
		payload, err := scheduledPayload(s, time.Now())
		if err != nil {
			return nil, err
		}
		authorize := func(_ context.Context, fn string) error {
			if s.Role == "" {
				if !s.Permitted {
					return fmt.Errorf("launcher: %s may not invoke %s: no Lambda permission lets events.amazonaws.com invoke it from this rule", s.LogicalID, function)
				}
				return nil
			}
			err := c.IAM.Authorize(c.scheduleRoles[s.LogicalID], "lambda:InvokeFunction", fn)
			var denied *iam.AccessDenied
			if errors.As(err, &denied) {
				return fmt.Errorf("launcher: schedule %s: %w", s.LogicalID, err)
			}
			return err
		}
		return c.invoker.invokeAs(ctx, authorize, arn, payload)
	}
	return nil, fmt.Errorf("%w: %s", ErrNoSchedule, function)
}

// scheduledPayload is what the schedule sends the function.
func scheduledPayload(s cfn.Schedule, now time.Time) ([]byte, error) {
	if s.Input != "" {
		return []byte(s.Input), nil
	}
	if s.Role != "" { // Scheduler, no Input
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]any{
		"version": "0", "id": requestID(), "detail-type": "Scheduled Event", "source": "aws.events",
		"account": AccountID, "time": now.UTC().Format(time.RFC3339), "region": Region,
		"resources": []string{s.ARN}, "detail": map[string]any{},
	})
}

// schedulesHandler serves POST /<function logical ID>: fires the function's schedule
// (InvokeSchedule) and answers the function's own answer, for `make run`, where nothing
// runs on a clock. GET / lists the scheduled functions.
func (c *Cloud) schedulesHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"schedules": c.ScheduledFunctions()})
	})
	mux.HandleFunc("POST /{function}", func(w http.ResponseWriter, r *http.Request) {
		out, err := c.InvokeSchedule(r.Context(), r.PathValue("function"))
		switch {
		case errors.Is(err, ErrNoSchedule):
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	})
	return mux
}

// ScheduledFunctions lists the logical IDs of the functions a schedule invokes.
func (c *Cloud) ScheduledFunctions() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range c.schedules {
		name := FunctionName(s.FunctionARN)
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
