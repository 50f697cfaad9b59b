// Command hello is the smallest aws-lambda-go function: the cold-start benchmark
// times it beside the checkout's functions, built with the same flags in the same run.
package main

import "github.com/aws/aws-lambda-go/lambda"

func main() {
	lambda.Start(func() (string, error) { return "hello", nil })
}
