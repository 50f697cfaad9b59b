// Command notify is the NotifyFunction Lambda of template.yaml.
package main

import (
	"github.com/lmsshop/checkout/internal/wire"
	"github.com/lmsshop/checkout/internal/wire/mail"
)

func main() { wire.Main("NotifyFunction", mail.Notify) }
