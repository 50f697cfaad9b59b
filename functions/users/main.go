// Command users is the UsersFunction Lambda of template.yaml.
package main

import "github.com/lmsshop/checkout/internal/wire"

func main() { wire.Main("UsersFunction", wire.Users) }
