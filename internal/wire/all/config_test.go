package all

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lmsshop/checkout/internal/wire"
)

// OPERATOR_WAIT_MINUTES is a whole number of minutes; anything else fails the cold start
// of the watch and of reconciliation, which flags the orders the watch counts, rather
// than falling back to a default the operator did not choose.
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
			for _, id := range []string{"WatchFunction", "ReconcileFunction"} {
				_, err := Handler(id, wire.NewDeps(cfg, awsConfigNowhere(), nil))
				if tc.want == 0 && (err == nil || !strings.Contains(err.Error(), "OPERATOR_WAIT_MINUTES")) {
					t.Errorf("%s's build = %v, want a failure naming OPERATOR_WAIT_MINUTES", id, err)
				}
				if tc.want != 0 && err != nil {
					t.Errorf("%s's build = %v", id, err)
				}
			}
		})
	}
}

// Only the functions that start executions (ORDER, and the back office for a delivered
// late payment) need STATE_MACHINE_ARN, and only the back office, which hands its
// e-mails to the Notify function, MAIL_STATE_MACHINE_ARN: they refuse to start without
// it, and every other function builds without it.
func TestOnlyTheStartersNeedTheStateMachineARN(t *testing.T) {
	const arn = "arn:aws:states:us-east-1:000000000000:stateMachine:x"
	base := wire.Config{TableName: "t", ShopID: "demo", LMSAdapter: "local", OperatorWait: time.Hour, ReconcileDays: 3}
	tests := []struct {
		variable string
		cfg      func() wire.Config
		starters []string
	}{
		{"STATE_MACHINE_ARN", func() wire.Config { c := base; c.MailStateMachineARN = arn; return c }, []string{"OrderFunction", "BackofficeFunction"}},
		{"MAIL_STATE_MACHINE_ARN", func() wire.Config { c := base; c.StateMachineARN = arn; return c }, []string{"BackofficeFunction"}},
	}
	for _, tt := range tests {
		t.Run(tt.variable, func(t *testing.T) {
			for id := range builders() {
				_, err := Handler(id, wire.NewDeps(tt.cfg(), awsConfigNowhere(), nil))
				if slices.Contains(tt.starters, id) {
					if err == nil || !strings.Contains(err.Error(), " "+tt.variable) {
						t.Errorf("%s without %s: %v, want a failure naming it", id, tt.variable, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s without %s: %v", id, tt.variable, err)
				}
			}
		})
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
