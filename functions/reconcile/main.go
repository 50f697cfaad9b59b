// Command reconcile is the ReconcileFunction Lambda of template.yaml.
package main

import (
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/flow"
)

func main() { wire.Main("ReconcileFunction", flow.Reconcile) }
