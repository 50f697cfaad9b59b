// Command produce is the ProduceFunction Lambda of template.yaml.
package main

import "github.com/lmsshop/checkout/internal/wire"

func main() { wire.Main("ProduceFunction", wire.Produce) }
