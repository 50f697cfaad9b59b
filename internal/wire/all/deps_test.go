package all_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Importing an SDK client's package links its package initialisation (serialisation
// schemas, endpoint tables) and runs it at every cold start, whether or not the function
// calls it; time/tzdata embeds 0.4 MB of zone data. Each function's binary must import
// only the clients it calls, and none the zone data (the package carries zoneinfo.zip:
// internal/notify). The dependencies are those `make build` compiles: linux/arm64,
// lambda.norpc and nethttpomithttp2 (Makefile, LAMBDA_BUILD_FLAGS).
func TestFunctionsImportOnlyTheClientsTheyCall(t *testing.T) {
	tests := []struct {
		function string
		clients  []string
	}{
		{"shop", []string{"dynamodb"}},
		{"users", []string{"dynamodb"}},
		{"customer", []string{"dynamodb"}},
		{"purchasereqs", []string{"dynamodb", "secretsmanager"}},
		{"order", []string{"dynamodb", "secretsmanager", "sfn"}},
		{"bill", []string{"dynamodb"}},
		{"watch", []string{"dynamodb"}},
		{"notify", []string{"dynamodb", "sesv2"}},
		{"payment", []string{"dynamodb", "secretsmanager", "sesv2", "sfn"}},
		{"paymentwebhook", []string{"dynamodb", "secretsmanager", "sesv2", "sfn"}},
		{"produce", []string{"dynamodb", "secretsmanager", "sesv2", "sfn"}},
		{"reconcile", []string{"dynamodb", "secretsmanager", "sesv2", "sfn"}},
		{"backoffice", []string{"dynamodb", "secretsmanager", "sfn"}},
	}
	for _, tt := range tests {
		t.Run(tt.function, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-tags", "lambda.norpc,nethttpomithttp2", "-deps", "../../../functions/"+tt.function)
			cmd.Env = append(cmd.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			var clients []string
			for _, p := range strings.Fields(string(out)) {
				if p == "time/tzdata" {
					t.Errorf("functions/%s imports time/tzdata", tt.function)
				}
				if svc, ok := strings.CutPrefix(p, "github.com/aws/aws-sdk-go-v2/service/"); ok && !strings.Contains(svc, "/") {
					clients = append(clients, svc)
				}
			}
			slices.Sort(clients)
			if !slices.Equal(clients, tt.clients) {
				t.Errorf("functions/%s imports the SDK clients %v, want %v", tt.function, clients, tt.clients)
			}
		})
	}
}
