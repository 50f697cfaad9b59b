// Command purchasereqs is the PurchaseReqsFunction Lambda of template.yaml.
package main

import (
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/settings"
)

func main() { wire.Main("PurchaseReqsFunction", settings.PurchaseReqs) }
