// Command order is the OrderFunction Lambda of template.yaml.
package main

import "github.com/lmsshop/checkout/internal/wire"

func main() { wire.Main("OrderFunction", wire.Order) }
