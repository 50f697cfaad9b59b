// Command notify is the NotifyFunction Lambda of template.yaml.
package main

import "github.com/lmsshop/checkout/internal/wire"

func main() { wire.Main("NotifyFunction", wire.Notify) }
