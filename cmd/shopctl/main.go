// Command shopctl is the operators' command line for the back office (see
// docs/spec.md#back-office): list orders, read one with its trace, record a cheque or a transfer,
// cancel, move an order along an allowed transition. Operators sign in once to the user
// pool (`shopctl login`, a password prompt); the session is kept in their config
// directory and its token refreshed. Automation with an IAM role uses --sigv4 instead: calls go to /ops, signed
// with SigV4 using the usual AWS configuration.
//
// Against the local cloud (`make run` prints the client ID and the operators):
//
//	shopctl login --client-id ID --email sales@operators.example.com
//	shopctl orders --since 24h
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
