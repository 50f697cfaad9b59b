// Command order is the OrderFunction Lambda of template.yaml.
package main

import (
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/order"
)

func main() { wire.Main("OrderFunction", order.Order) }
