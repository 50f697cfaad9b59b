// Command purchasereqs is the PurchaseReqsFunction Lambda of template.yaml.
package main

import "github.com/lmsshop/checkout/internal/wire"

func main() { wire.Main("PurchaseReqsFunction", wire.PurchaseReqs) }
