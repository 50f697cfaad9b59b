// Command payment is the PaymentFunction Lambda of template.yaml.
package main

import "github.com/lmsshop/checkout/internal/wire"

func main() { wire.Main("PaymentFunction", wire.Payment) }
