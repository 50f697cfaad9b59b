// Command watch is the WatchFunction Lambda of template.yaml.
package main

import "github.com/lmsshop/checkout/internal/wire"

func main() { wire.Main("WatchFunction", wire.Watch) }
