package launcher

import (
	"errors"
	"strings"
	"testing"
)

func TestThroughEndpoints(t *testing.T) {
	base := func() map[string]string {
		return map[string]string{
			ServiceDynamoDB:      "http://127.0.0.1:8000",
			ServiceStepFunctions: "http://127.0.0.1:8083",
			ServiceSES:           "http://127.0.0.1:8005",
			"SECRETSMANAGER":     "http://127.0.0.1:8006",
		}
	}
	t.Run("each service goes through the hook", func(t *testing.T) {
		env := base()
		seen := map[string]string{}
		err := throughEndpoints(env, func(service, endpoint string) (string, error) {
			seen[service] = endpoint
			return "http://127.0.0.1:9" + endpoint[len(endpoint)-3:], nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{ServiceDynamoDB: "http://127.0.0.1:8000", ServiceStepFunctions: "http://127.0.0.1:8083", ServiceSES: "http://127.0.0.1:8005"}
		for svc, ep := range want {
			if seen[svc] != ep {
				t.Errorf("hook saw %s = %q, want %q", svc, seen[svc], ep)
			}
		}
		if env[ServiceDynamoDB] != "http://127.0.0.1:9000" || env[ServiceStepFunctions] != "http://127.0.0.1:9083" || env[ServiceSES] != "http://127.0.0.1:9005" {
			t.Errorf("endpoints not replaced: %v", env)
		}
		if env["SECRETSMANAGER"] != "http://127.0.0.1:8006" {
			t.Errorf("a service the hook is not asked about changed: %v", env)
		}
	})
	t.Run("an error names the service", func(t *testing.T) {
		boom := errors.New("no port")
		err := throughEndpoints(base(), func(service, endpoint string) (string, error) {
			if service == ServiceStepFunctions {
				return "", boom
			}
			return endpoint, nil
		})
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "sfn") {
			t.Fatalf("err = %v, want it to wrap the hook's error and name sfn", err)
		}
	})
}
