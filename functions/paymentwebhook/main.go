// Command paymentwebhook is the PaymentWebhookFunction Lambda of template.yaml.
package main

import "github.com/lmsshop/checkout/internal/wire"

func main() { wire.Main("PaymentWebhookFunction", wire.PaymentWebhook) }
