// Package sfnlocal is a local stand-in for AWS Step Functions (Standard and Express workflows): an
// interpreter for the Amazon States Language behind the subset of the Step Functions
// JSON API that the checkout's functions call through the real aws-sdk-go-v2 sfn client.
//
// It exists because AWS distributes Step Functions Local only from its own download
// site, which no package registry mirrors, while `make deps` installs everything from
// registries; so the local cloud carries its own engine. The checkout's real
// statemachine/checkout.asl.json runs on it unchanged (after Substitute fills in the
// ${...} ARNs), so the code path under test is the one that runs in AWS.
//
// Supported language: JSONPath paths ($, $.a.b, $['a'], $.a[0], $.a[*], $$ context
// paths); InputPath, Parameters (".$" keys, intrinsics States.Format, StringToJson,
// JsonToString, Array, ArrayLength, ArrayGetItem, StringSplit, Base64Encode/Decode,
// UUID, MathAdd), ResultSelector, ResultPath (incl. null), OutputPath; the state
// types Task, Pass, Choice (every comparison incl. ...Path, Is*, StringMatches,
// And/Or/Not), Wait, Parallel, Map (ItemsPath, ItemSelector/Parameters,
// ItemProcessor/Iterator, MaxConcurrency), Succeed and Fail; Retry (JitterStrategy is
// ignored) and Catch; Task TimeoutSeconds[Path] and HeartbeatSeconds[Path]; a
// machine-level TimeoutSeconds.
//
// Task resources: arn:aws:states:::lambda:invoke (result shaped like the real
// integration), arn:aws:states:::lambda:invoke.waitForTaskToken and plain Lambda
// function ARNs, all run through the Invoker the engine is given (which finds the
// calling machine's role in the context, ExecutionRole); states:startExecution with
// its three patterns (Request Response, .sync and .sync:2, .waitForTaskToken), with
// AWS's output shapes and a child's failure as States.TaskFailed carrying its
// description; aws-sdk:sfn:sendTaskSuccess and sendTaskFailure. The integrations'
// calls are authorized as the machine's role through Options.Authorize.
//
// A path that selects nothing (in Parameters, ResultSelector, ItemSelector, InputPath,
// OutputPath, ItemsPath, a Choice rule, a Wait's or a Fail's ...Path, a Task's
// TimeoutSecondsPath) fails the execution at once with States.Runtime, which no Retry
// or Catch takes, not even on States.ALL, as AWS documents; the cause is AWS's: "An
// error occurred while executing the state 'S' (entered at the event id #2). The
// JSONPath '$.order' specified for the field 'order.$' could not be found in the input
// '…'". A child started with startExecution.waitForTaskToken that fails that way never
// answers its token: as in AWS, the parent waits for its TimeoutSeconds (or
// HeartbeatSeconds), so such a task needs one.
//
// Express machines (CreateMachine with TypeExpress): only Request Response resources
// (a .sync or .waitForTaskToken one is an InvalidDefinition), names not idempotent,
// five minutes at most, and the API's DescribeExecution, GetExecutionHistory and
// ListExecutions refuse their executions, as AWS's do (it reports them in CloudWatch
// Logs); Executions and TaskFailures read them in Go instead.
//
// API (AWS JSON 1.0, X-Amz-Target AWSStepFunctions.<Op>): CreateStateMachine,
// DescribeStateMachine, StartExecution, DescribeExecution, GetExecutionHistory,
// ListExecutions, StopExecution, SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat.
//
// Deliberate differences from AWS: state lives in memory only; execution names are
// remembered for the engine's lifetime rather than 90 days; identical input for
// StartExecution idempotency means byte-identical input strings.
package sfnlocal
