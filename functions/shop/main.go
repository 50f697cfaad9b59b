// Command shop is the ShopFunction Lambda of template.yaml.
package main

import "github.com/lmsshop/checkout/internal/wire"

func main() { wire.Main("ShopFunction", wire.Shop) }
