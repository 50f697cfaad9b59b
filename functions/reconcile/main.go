// Command reconcile is the ReconcileFunction Lambda of template.yaml.
package main

import "github.com/lmsshop/checkout/internal/wire"

func main() { wire.Main("ReconcileFunction", wire.Reconcile) }
