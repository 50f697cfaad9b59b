package wire

import (
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
)

// The post-placement functions are built here (owned by the workflow work).

var errNotYet = errors.New("not built yet")

func paymentHandler(d *Deps) (lambda.Handler, error)        { return nil, errNotYet }
func paymentWebhookHandler(d *Deps) (lambda.Handler, error) { return nil, errNotYet }
func produceHandler(d *Deps) (lambda.Handler, error)        { return nil, errNotYet }
func billHandler(d *Deps) (lambda.Handler, error)           { return nil, errNotYet }
func notifyHandler(d *Deps) (lambda.Handler, error)         { return nil, errNotYet }
func backofficeHandler(d *Deps) (lambda.Handler, error)     { return nil, errNotYet }
