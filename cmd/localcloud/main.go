// Command localcloud runs the checkout on 127.0.0.1 without Docker (`make run`):
// DynamoDB Local, the SES emulator, the Step Functions engine, the HTTP API emulation
// and the storefront. Ctrl-C stops every part. See internal/localcloud/launcher.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/lmsshop/checkout/internal/localcloud/launcher"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := launcher.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
