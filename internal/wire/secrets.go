package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// paymentSettings returns how the payment providers' PAYMENT_* settings are looked up:
// the environment first (local runs, tests), then the Secrets Manager secret named by
// PAYMENT_SECRETS, a JSON object with the same keys, e.g.
//
//	{"PAYMENT_STRIPE_SECRET_KEY": "sk_live_…", "PAYMENT_STRIPE_WEBHOOK_SECRET": "whsec_…"}
//
// The secret is read once per cold start; keys stay out of the function's
// configuration, where anyone who can read the function would see them.
func paymentSettings(d *Deps) (func(string) string, error) {
	if d.Cfg.PaymentSecrets == "" {
		return d.Cfg.env, nil
	}
	d.secretsOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		out, err := secretsmanager.NewFromConfig(d.AWS).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(d.Cfg.PaymentSecrets)})
		if err != nil {
			d.secretsErr = fmt.Errorf("wire: read secret %s: %w", d.Cfg.PaymentSecrets, err)
			return
		}
		if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &d.secrets); err != nil {
			d.secretsErr = fmt.Errorf("wire: secret %s is not a JSON object of PAYMENT_* settings: %w", d.Cfg.PaymentSecrets, err)
		}
	})
	if d.secretsErr != nil {
		return nil, d.secretsErr
	}
	return func(k string) string {
		if v := d.Cfg.env(k); v != "" {
			return v
		}
		return d.secrets[k]
	}, nil
}
