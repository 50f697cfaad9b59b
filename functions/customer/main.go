// Command customer is the CustomerFunction Lambda of template.yaml.
package main

import "github.com/lmsshop/checkout/internal/wire"

func main() { wire.Main("CustomerFunction", wire.Customer) }
