// Package settings is the composition root of what the functions read from the
// settings secret (Secrets Manager): the payment providers' PAYMENT_* settings, the
// Moodle token and so the LMS adapter, and the PurchaseReqs function, whose data check
// asks that LMS. Only the functions that read a setting import it, and with it the
// Secrets Manager client.
package settings

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lmsshop/checkout/internal/wire"
)

// MoodleTokenKey is the setting that holds the Moodle web-service token.
const MoodleTokenKey = "MOODLE_TOKEN"

// generatedKey is the one key CloudFormation writes into the settings secret when it
// creates it (GenerateSecretString): it carries nothing the functions use.
const generatedKey = "GENERATED_AT_CREATION"

// isSettingKey reports whether the settings secret may hold key: the payment
// providers' PAYMENT_* settings and the Moodle token.
func isSettingKey(key string) bool {
	return strings.HasPrefix(key, "PAYMENT_") || key == MoodleTokenKey
}

// Lookup returns how the functions' secret settings — the payment providers'
// PAYMENT_* keys and MOODLE_TOKEN — are looked up: the environment first (local runs,
// tests), then the Secrets Manager secret whose ARN is SETTINGS_SECRET, a JSON object
// of strings with the same keys, e.g.
//
//	{"PAYMENT_STRIPE_SECRET_KEY": "sk_live_…", "MOODLE_TOKEN": "…", "GENERATED_AT_CREATION": "…"}
//
// Other keys are ignored (GENERATED_AT_CREATION is written by CloudFormation when it
// creates the secret; any other is logged by name, as a likely typo). The secret is
// read once per cold start, and only by a function that needs a setting; values stay
// out of the function's configuration, where anyone who can read the function would
// see them.
func Lookup(d *wire.Deps) (func(string) string, error) {
	if d.Cfg.SettingsSecret == "" {
		return d.Cfg.Env, nil
	}
	v, err := d.Once("settings", func() (any, error) { return readSettings(d) })
	if err != nil {
		return nil, err
	}
	secrets := v.(map[string]string)
	return func(k string) string {
		if v := d.Cfg.Env(k); v != "" {
			return v
		}
		return secrets[k]
	}, nil
}

// readSettings reads the settings secret and keeps its known keys.
func readSettings(d *wire.Deps) (map[string]string, error) {
	id := d.Cfg.SettingsSecret
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := secretsmanager.NewFromConfig(d.AWS).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("settings: read the settings secret %s (SETTINGS_SECRET): %w", id, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &raw); err != nil || raw == nil {
		// The error is not wrapped: its text could quote the secret's content.
		return nil, fmt.Errorf("settings: the settings secret %s is not a JSON object of PAYMENT_* and MOODLE_TOKEN settings", id)
	}
	values := map[string]string{}
	var unknown []string
	for k, v := range raw {
		if !isSettingKey(k) {
			if k != generatedKey {
				unknown = append(unknown, k)
			}
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("settings: the settings secret %s: key %s must be a string", id, k)
		}
		values[k] = strings.TrimSpace(s)
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		d.Log.Warn("settings secret: keys ignored (only PAYMENT_* and MOODLE_TOKEN are read)", "secret", id, "keys", strings.Join(unknown, ","))
	}
	return values, nil
}
