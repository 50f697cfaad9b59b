// Command bill is the BillFunction Lambda of template.yaml.
package main

import "github.com/lmsshop/checkout/internal/wire"

func main() { wire.Main("BillFunction", wire.Bill) }
