// Package test holds Wharf's cross-package and end-to-end tests: the example
// platform synthesized through the pinned CDK CLI, and a separate Go module
// (test/consumer) that imports the constructs as another CDK app would.
package test
