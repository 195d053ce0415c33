// Package awssdk reaches a BFF that runs on AWS Lambda through the
// Lambda Invoke API, as an invoke.Invoker. It is the only package that
// imports aws-sdk-go-v2.
//
// Each request is sent as the event a Function URL would send, so a BFF
// behaves the same whether a browser reaches its Function URL or the shell
// invokes it. The event format is a Codec the caller hands to New (the
// codec of the BFFs' Lambda runtime), so this package links no Lambda
// runtime. A function error is a 502 and a throttle a 503 with
// Retry-After, both logged with the Lambda request id; a request over
// Lambda's 6 MB payload limit is a 413 without an invocation.
//
// Region, credentials and endpoint come from the AWS SDK's standard
// configuration loader (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_LAMBDA,
// the shared config files, instance roles…). That loader reads the
// environment by itself: it is the one accepted exception to the rule that
// only cmd/ and adapters/yaml read settings.
package awssdk
