// Package parity holds the parity suite of the BFF transports: a test BFF
// that exercises every part of the contract, a table of requests, and the
// normal form their answers are compared in. The tests beside it send the
// table through the BFF in-process, through its main's local HTTP server,
// and through Lambda Invoke to the real bootstrap under the AWS Lambda
// Runtime Interface Emulator; adapters/lambda's tests feed the same table to the
// codec as aws-lambda-go's own event types. Every answer must be identical.
//
// It also holds the real AWS events (RealEvents, read from EventsDir
// beside the repository) and what a handler must see of each: adapters/lambda's
// tests feed them to the codec in-process, and the tests beside this
// package to bootstraps under the emulator.
package parity
