// Command backoffice is the BackofficeFunction Lambda of template.yaml.
package main

import "github.com/lmsshop/checkout/internal/wire"

func main() { wire.Main("BackofficeFunction", wire.Backoffice) }
