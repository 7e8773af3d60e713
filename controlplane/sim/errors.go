package sim

import (
	"fmt"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// apiError wraps a service error the way the real aws-sdk-go-v2 clients do:
// *smithy.OperationError → *awshttp.ResponseError → the modelled or generic
// API error. Code that uses errors.As with a typed exception (for example
// *ecstypes.ServiceNotFoundException) or with smithy.APIError sees exactly
// what it would see from AWS.
func (w *World) apiError(service, op string, status int, err error) error {
	w.requestSeq++
	return &smithy.OperationError{
		ServiceID:     service,
		OperationName: op,
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
				Err:      err,
			},
			RequestID: fmt.Sprintf("sim-%08d", w.requestSeq),
		},
	}
}

// generic returns an unmodelled API error with the given code, as the SDK
// builds for error codes a service does not declare (ECS and CodeBuild
// throttling, for example, arrive as GenericAPIError{Code:
// "ThrottlingException"}).
func generic(code, msg string, fault smithy.ErrorFault) error {
	return &smithy.GenericAPIError{Code: code, Message: msg, Fault: fault}
}
