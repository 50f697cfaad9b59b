// Command shopctl is the operators' command line for the back office (see docs/spec.md,
// Back office): list orders, read one with its trace, record a cheque or a transfer,
// cancel, move an order along an allowed transition. Every call is signed with SigV4
// using the usual AWS configuration (environment, profile, SSO…), as the API's AWS_IAM
// routes require.
//
// Against the local cloud (`make run`):
//
//	AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=localsecret shopctl orders --since 24h
//
// Run `shopctl -h` for every command.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // --tz works on machines without a zoneinfo database
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := newApp(os.Stdout, os.Stderr, os.Getenv).run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
