// Command hello is the smallest Go Lambda function: the baseline the
// control plane's cold start is compared with (BenchmarkColdStartRatio).
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) error { return nil })
}
