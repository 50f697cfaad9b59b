package wire

// LambdaAWSConfig is lambdaAWSConfig, for the tests of package wire_test (which build
// the other clients through the packages that import them).
var LambdaAWSConfig = lambdaAWSConfig
