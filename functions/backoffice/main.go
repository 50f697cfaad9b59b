// Command backoffice is the BackofficeFunction Lambda of template.yaml.
package main

import (
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/ops"
)

func main() { wire.Main("BackofficeFunction", ops.Backoffice) }
