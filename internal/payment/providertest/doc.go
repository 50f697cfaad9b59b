// Package providertest holds fakes that speak the payment providers' real
// protocols (Stripe API and webhooks, PayPal IPN, Systempay IPN) so that the
// payment package and the end-to-end tests run against 127.0.0.1 only.
//
// The fakes re-implement each protocol from the providers' documentation
// rather than calling the payment package, so that a shared misreading of a
// protocol cannot make both sides agree.
package providertest
