// Command echo is a test Lambda for package rie: it echoes its input with
// some environment, fails on request and panics on request.
package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type in struct {
	Say     string `json:"say"`
	Fail    bool   `json:"fail"`
	Panic   bool   `json:"panic"`
	SleepMS int    `json:"sleepMs"`
}

type out struct {
	Said      string            `json:"said"`
	Env       map[string]string `json:"env"`
	Function  string            `json:"function"`
	Deadline  bool              `json:"deadline"`
	RequestID string            `json:"requestId"`
}

func main() {
	lambda.Start(func(ctx context.Context, req in) (out, error) {
		if req.SleepMS > 0 {
			time.Sleep(time.Duration(req.SleepMS) * time.Millisecond)
		}
		if req.Fail {
			return out{}, errors.New("asked to fail")
		}
		if req.Panic {
			panic("asked to panic")
		}
		lc, _ := lambdacontext.FromContext(ctx)
		_, hasDeadline := ctx.Deadline()
		o := out{Said: req.Say, Env: map[string]string{}, Function: lambdacontext.FunctionName, Deadline: hasDeadline}
		if lc != nil {
			o.RequestID = lc.AwsRequestID
		}
		for _, k := range []string{"ECHO_VAR", "AWS_REGION", "AWS_ACCESS_KEY_ID", "WHARF_RIE_LEAK_CHECK"} {
			if v, ok := os.LookupEnv(k); ok {
				o.Env[k] = v
			}
		}
		return o, nil
	})
}
