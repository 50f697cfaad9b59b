package all

import (
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/wire"
)

// OPERATOR_WAIT_MINUTES is a whole number of minutes; anything else fails the watch's
// cold start rather than falling back to a default the operator did not choose.
func TestOperatorWaitMinutes(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  time.Duration // 0: the cold start fails
	}{
		{"", time.Hour},
		{"15", 15 * time.Minute},
		{"4320", 72 * time.Hour},
		{"0", 0},
		{"-5", 0},
		{"1h", 0},
		{"ten", 0},
	} {
		t.Run(tc.value, func(t *testing.T) {
			t.Setenv("OPERATOR_WAIT_MINUTES", tc.value)
			cfg := wire.ConfigFromEnv()
			if cfg.OperatorWait != tc.want {
				t.Errorf("OperatorWait = %v, want %v", cfg.OperatorWait, tc.want)
			}
			_, err := Handler("WatchFunction", wire.NewDeps(cfg, awsConfigNowhere(), nil))
			if tc.want == 0 && (err == nil || !strings.Contains(err.Error(), "OPERATOR_WAIT_MINUTES")) {
				t.Errorf("build = %v, want a failure naming OPERATOR_WAIT_MINUTES", err)
			}
			if tc.want != 0 && err != nil {
				t.Errorf("build = %v", err)
			}
		})
	}
}

// Only the functions that start executions (ORDER, and the back office for a delivered
// late payment) need STATE_MACHINE_ARN: they refuse to start without it, and every other
// function builds without it.
func TestOnlyTheStartersNeedTheStateMachineARN(t *testing.T) {
	cfg := wire.Config{TableName: "t", ShopID: "demo", LMSAdapter: "local", OperatorWait: time.Hour, ReconcileDays: 3}
	for id := range builders() {
		_, err := Handler(id, wire.NewDeps(cfg, awsConfigNowhere(), nil))
		if id == "OrderFunction" || id == "BackofficeFunction" {
			if err == nil || !strings.Contains(err.Error(), "STATE_MACHINE_ARN") {
				t.Errorf("%s without STATE_MACHINE_ARN: %v, want a failure naming it", id, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s without STATE_MACHINE_ARN: %v", id, err)
		}
	}
}

// RECONCILE_DAYS is a whole number of days; anything else fails reconciliation's cold
// start rather than reading a window the operator did not choose.
func TestReconcileDays(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  int // 0: the cold start fails
	}{{"", 3}, {"1", 1}, {"30", 30}, {"0", 0}, {"-2", 0}, {"3d", 0}} {
		t.Run(tc.value, func(t *testing.T) {
			t.Setenv("RECONCILE_DAYS", tc.value)
			cfg := wire.ConfigFromEnv()
			if cfg.ReconcileDays != tc.want {
				t.Errorf("ReconcileDays = %d, want %d", cfg.ReconcileDays, tc.want)
			}
			_, err := Handler("ReconcileFunction", wire.NewDeps(cfg, awsConfigNowhere(), nil))
			if tc.want == 0 && (err == nil || !strings.Contains(err.Error(), "RECONCILE_DAYS")) {
				t.Errorf("build = %v, want a failure naming RECONCILE_DAYS", err)
			}
			if tc.want != 0 && err != nil {
				t.Errorf("build = %v", err)
			}
		})
	}
}
