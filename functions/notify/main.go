// Command notify is the NotifyFunction Lambda of template.yaml.
package main

import (
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/post"
)

func main() { wire.Main("NotifyFunction", post.Notify) }
