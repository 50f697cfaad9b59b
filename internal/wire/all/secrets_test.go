package all

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/settings"
)

// secretARN is what SETTINGS_SECRET holds in AWS: the secret's ARN (!Ref SettingsSecret).
const secretARN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:shop-checkout-settings-AbCdEf"

// secretsServer answers GetSecretValue as Secrets Manager does (AWS JSON 1.1), for
// one secret: Secrets Manager has no local stand-in.
func secretsServer(t *testing.T, id, value string, calls *atomic.Int32) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var in struct{ SecretId string }
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || in.SecretId != id {
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
			return
		}
		out, _ := json.Marshal(map[string]string{"ARN": id, "Name": "shop-checkout-settings", "SecretString": value})
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// awsConfigNowhere is an AWS configuration whose calls cannot reach anything.
func awsConfigNowhere() aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
		BaseEndpoint: aws.String("http://127.0.0.1:1"), RetryMaxAttempts: 1}
}

// depsOn builds Deps whose AWS calls go to srv, with the given configuration.
func depsOn(srv *httptest.Server, cfg wire.Config) *wire.Deps {
	return wire.NewDeps(cfg, aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
		BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func TestSettingsComeFromTheSecretAfterTheEnvironment(t *testing.T) {
	var calls atomic.Int32
	srv := secretsServer(t, secretARN, `{"PAYMENT_STRIPE_SECRET_KEY":"sk_test_from_secret","PAYMENT_TEST_SECRET":"from-secret",
		"MOODLE_TOKEN":" tok-from-secret ","GENERATED_AT_CREATION":"Xy12","OPERATOR_NOTE":{"any":"shape"}}`, &calls)
	t.Setenv("PAYMENT_TEST_SECRET", "from-env")
	d := depsOn(srv, wire.Config{SettingsSecret: secretARN})
	for i := 0; i < 3; i++ {
		get, err := settings.Lookup(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ key, want, why string }{
			{"PAYMENT_STRIPE_SECRET_KEY", "sk_test_from_secret", "the secret's"},
			{"PAYMENT_TEST_SECRET", "from-env", "the environment's to win"},
			{"MOODLE_TOKEN", "tok-from-secret", "the secret's, trimmed"},
			{"GENERATED_AT_CREATION", "", "nothing: CloudFormation's key is ignored"},
			{"OPERATOR_NOTE", "", "nothing: unknown keys are ignored"},
		} {
			if got := get(tc.key); got != tc.want {
				t.Errorf("%s = %q, want %s", tc.key, got, tc.why)
			}
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("Secrets Manager called %d times, want once per cold start", n)
	}
}

func TestSettingsRefuseAMissingOrMalformedSecret(t *testing.T) {
	for _, tc := range []struct{ name, secretID, value, want string }{
		{"missing", "arn:aws:secretsmanager:us-east-1:000000000000:secret:other", `{}`, "read the settings secret " + secretARN},
		{"not JSON", secretARN, `sk_live_123`, "not a JSON object"},
		{"JSON but not an object", secretARN, `["sk_live_123"]`, "not a JSON object"},
		{"null", secretARN, `null`, "not a JSON object"},
		{"a known key that is not a string", secretARN, `{"MOODLE_TOKEN": 12345}`, "key MOODLE_TOKEN must be a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := secretsServer(t, tc.secretID, tc.value, &calls)
			_, err := settings.Lookup(depsOn(srv, wire.Config{SettingsSecret: secretARN}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "sk_live_123") || strings.Contains(err.Error(), "12345") {
				t.Errorf("the error quotes the secret's content: %v", err)
			}
		})
	}
}

// Without SETTINGS_SECRET (local runs) the settings are the environment's, and no
// Secrets Manager call is made.
func TestSettingsWithoutASecretAreTheEnvironment(t *testing.T) {
	var calls atomic.Int32
	srv := secretsServer(t, secretARN, `{"MOODLE_TOKEN":"from-secret"}`, &calls)
	t.Setenv("MOODLE_TOKEN", "from-env")
	get, err := settings.Lookup(depsOn(srv, wire.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	if got := get("MOODLE_TOKEN"); got != "from-env" {
		t.Errorf("MOODLE_TOKEN = %q, want the environment's", got)
	}
	if calls.Load() != 0 {
		t.Errorf("Secrets Manager called without SETTINGS_SECRET")
	}
}

// lmsFunctions are the functions that check data against the LMS or deliver to it:
// each gets LMS_ADAPTER, MOODLE_URL and SETTINGS_SECRET in template.yaml.
var lmsFunctions = []string{"PurchaseReqsFunction", "OrderFunction", "ProduceFunction", "BackofficeFunction"}

// With LMS_ADAPTER=moodle and no token, each of those functions fails its cold start
// with a message naming the secret's key; with the token in the secret, each builds.
func TestMoodleWithoutATokenFailsTheColdStart(t *testing.T) {
	t.Setenv("MOODLE_TOKEN", "")
	base := wire.Config{TableName: "t", ShopID: "demo", StateMachineARN: "arn:aws:states:us-east-1:000000000000:stateMachine:x", MailStateMachineARN: "arn:aws:states:us-east-1:000000000000:stateMachine:mail",
		LMSAdapter: "moodle", MoodleURL: "https://moodle.example", SettingsSecret: secretARN}
	for _, tc := range []struct {
		name, secret string
		cfg          func(*wire.Config)
		want         string // "" builds
	}{
		{"no token in the secret", `{"GENERATED_AT_CREATION":"x"}`, nil, "the settings secret " + secretARN + " has no key MOODLE_TOKEN"},
		{"an empty token", `{"MOODLE_TOKEN":"  "}`, nil, "has no key MOODLE_TOKEN"},
		{"no secret at all", `{}`, func(c *wire.Config) { c.SettingsSecret = "" }, "no SETTINGS_SECRET is set) has no key MOODLE_TOKEN"},
		{"no Moodle URL", `{"MOODLE_TOKEN":"tok"}`, func(c *wire.Config) { c.MoodleURL = "" }, "LMS_ADAPTER=moodle needs MOODLE_URL"},
		{"an unknown adapter", `{}`, func(c *wire.Config) { c.LMSAdapter = "canvas" }, `unknown LMS_ADAPTER "canvas"`},
		{"the token in the secret", `{"MOODLE_TOKEN":"tok"}`, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := secretsServer(t, secretARN, tc.secret, &calls)
			for _, id := range lmsFunctions {
				cfg := base
				if tc.cfg != nil {
					tc.cfg(&cfg)
				}
				_, err := Handler(id, depsOn(srv, cfg))
				switch {
				case tc.want == "" && err != nil:
					t.Errorf("%s: %v, want it built", id, err)
				case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
					t.Errorf("%s: err = %v, want a cold-start failure saying %q", id, err, tc.want)
				}
			}
		})
	}
}

// The required-data check of the steps before payment asks the configured LMS, not
// the local one: a course short name taken in Moodle is refused before payment.
func TestRequiredDataIsCheckedAgainstTheConfiguredLMS(t *testing.T) {
	var asked atomic.Int32
	moodleSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.URL.Path != "/webservice/rest/server.php" || r.Form.Get("wstoken") != "tok" || r.Form.Get("wsfunction") != "core_course_get_courses_by_field" {
			http.Error(w, "unexpected call "+r.URL.Path+" "+r.Form.Get("wsfunction"), http.StatusBadRequest)
			return
		}
		asked.Add(1)
		out := map[string]any{"courses": []map[string]any{}}
		if r.Form.Get("value") == "TAKEN" {
			out["courses"] = []map[string]any{{"id": 7, "shortname": "TAKEN"}}
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(moodleSrv.Close)
	var calls atomic.Int32
	srv := secretsServer(t, secretARN, `{"MOODLE_TOKEN":"tok"}`, &calls)
	t.Setenv("MOODLE_TOKEN", "")
	d := depsOn(srv, wire.Config{TableName: "t", LMSAdapter: "moodle", MoodleURL: moodleSrv.URL, SettingsSecret: secretARN})
	check, err := settings.RequiredDataCheck(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		shortname string
		refused   bool
	}{{"TAKEN", true}, {"FREE", false}} {
		err := check(context.Background(), "coursespace", "shortname", tc.shortname)
		if (err != nil) != tc.refused {
			t.Errorf("short name %s: check = %v, want refused=%v", tc.shortname, err, tc.refused)
		}
	}
	if n := asked.Load(); n != 2 {
		t.Errorf("Moodle asked %d times, want 2 (once per check)", n)
	}
}

// The functions that read the settings secret at their cold start — those that need
// SETTINGS_SECRET and secretsmanager:GetSecretValue in template.yaml: the ones with
// payment modes (PAYMENT_*) and, with LMS_ADAPTER=moodle, the ones that reach the LMS
// (MOODLE_TOKEN). No other function reads it.
func TestFunctionsThatReadTheSettingsSecret(t *testing.T) {
	withModes := map[string]bool{"OrderFunction": true, "PaymentFunction": true, "PaymentWebhookFunction": true, "BackofficeFunction": true, "ReconcileFunction": true}
	withLMS := map[string]bool{"PurchaseReqsFunction": true, "OrderFunction": true, "ProduceFunction": true, "BackofficeFunction": true}
	t.Setenv("MOODLE_TOKEN", "")
	for _, adapter := range []string{"local", "moodle"} {
		for id := range builders() {
			var calls atomic.Int32
			srv := secretsServer(t, secretARN, `{"MOODLE_TOKEN":"tok"}`, &calls)
			cfg := wire.Config{TableName: "t", ShopID: "demo", StateMachineARN: "arn:aws:states:us-east-1:000000000000:stateMachine:x", MailStateMachineARN: "arn:aws:states:us-east-1:000000000000:stateMachine:mail",
				LMSAdapter: adapter, MoodleURL: "https://moodle.example", SettingsSecret: secretARN, OperatorWait: time.Hour, ReconcileDays: 3}
			if _, err := Handler(id, depsOn(srv, cfg)); err != nil {
				t.Fatalf("%s (%s): %v", id, adapter, err)
			}
			want := withModes[id] || (adapter == "moodle" && withLMS[id])
			if got := calls.Load() == 1; got != want {
				t.Errorf("%s with LMS_ADAPTER=%s: reads the secret = %v (%d calls), want %v", id, adapter, got, calls.Load(), want)
			}
		}
	}
}
