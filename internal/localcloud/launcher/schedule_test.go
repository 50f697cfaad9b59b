package launcher

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/cfn"
)

// What a fired schedule sends its function: the target's Input when it sets one; else
// EventBridge's Scheduled Event for a rule, an empty object for a Scheduler schedule.
func TestScheduledPayload(t *testing.T) {
	at := time.Date(2026, 12, 3, 5, 0, 0, 0, time.UTC)
	rule := "arn:aws:events:us-east-1:000000000000:rule/local-WatchFunctionEvery5Minutes"
	tests := []struct {
		name string
		s    cfn.Schedule
		want map[string]any
	}{
		{"scheduler without input", cfn.Schedule{Role: "R"}, map[string]any{}},
		{"scheduler with input", cfn.Schedule{Role: "R", Input: `{"dryRun":true}`}, map[string]any{"dryRun": true}},
		{"rule with input", cfn.Schedule{ARN: rule, Permitted: true, Input: `{"a":"b"}`}, map[string]any{"a": "b"}},
		{"rule", cfn.Schedule{ARN: rule, Permitted: true}, map[string]any{
			"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "account": AccountID,
			"time": "2026-12-03T05:00:00Z", "region": Region, "resources": []any{rule}, "detail": map[string]any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := scheduledPayload(tt.s, at)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("payload %s: %v", raw, err)
			}
			if id, ok := got["id"].(string); ok && len(id) == 36 {
				delete(got, "id") // random, as EventBridge's
			}
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(tt.want)
			if string(g) != string(w) {
				t.Errorf("payload %s, want %s", g, w)
			}
		})
	}
}
