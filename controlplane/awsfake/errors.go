package awsfake

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"

	"github.com/aws/smithy-go"
)

// APIError is an error response in the service's real shape: for awsJson
// services HTTP Status with body {"__type": Code, "message": Message}; for
// S3 the XML <Error><Code/><Message/></Error> document.
type APIError struct {
	// Status is the HTTP status code (400 for client errors).
	Status int
	// Code is the error code, e.g. "ServiceNotFoundException".
	Code string
	// Message is the human-readable message.
	Message string
}

// Error implements error.
func (e APIError) Error() string { return e.Code + ": " + e.Message }

// ThrottlingError is the rate-limit error ECS and CodeBuild return
// (HTTP 400 ThrottlingException "Rate exceeded"); the SDK retries it.
func ThrottlingError() APIError {
	return APIError{Status: http.StatusBadRequest, Code: "ThrottlingException", Message: "Rate exceeded"}
}

// ServerError is ECS's HTTP 500 ServerException.
func ServerError() APIError {
	return APIError{Status: http.StatusInternalServerError, Code: "ServerException", Message: "Service encountered an internal error."}
}

// ServiceUnavailableError is an HTTP 503 ServiceUnavailableException.
func ServiceUnavailableError() APIError {
	return APIError{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailableException", Message: "Service is unavailable."}
}

// ServiceNotFoundError is ECS's ServiceNotFoundException.
func ServiceNotFoundError() APIError {
	return APIError{Status: http.StatusBadRequest, Code: "ServiceNotFoundException", Message: "Service not found."}
}

// ServiceNotActiveError is ECS's ServiceNotActiveException.
func ServiceNotActiveError() APIError {
	return APIError{Status: http.StatusBadRequest, Code: "ServiceNotActiveException", Message: "Service was not ACTIVE."}
}

// ClusterNotFoundError is ECS's ClusterNotFoundException.
func ClusterNotFoundError() APIError {
	return APIError{Status: http.StatusBadRequest, Code: "ClusterNotFoundException", Message: "Cluster not found."}
}

// InvalidParameterError is ECS's InvalidParameterException with msg.
func InvalidParameterError(msg string) APIError {
	return APIError{Status: http.StatusBadRequest, Code: "InvalidParameterException", Message: msg}
}

// ClientError is ECS's ClientException with msg.
func ClientError(msg string) APIError {
	return APIError{Status: http.StatusBadRequest, Code: "ClientException", Message: msg}
}

// ConflictError is ECS's ConflictException (clientToken reused with other
// parameters).
func ConflictError(msg string) APIError {
	return APIError{Status: http.StatusBadRequest, Code: "ConflictException", Message: msg}
}

// AccessDeniedError is an HTTP 400 AccessDeniedException.
func AccessDeniedError() APIError {
	return APIError{Status: http.StatusBadRequest, Code: "AccessDeniedException", Message: "User is not authorized to perform this action."}
}

// S3SlowDownError is S3's HTTP 503 SlowDown.
func S3SlowDownError() APIError {
	return APIError{Status: http.StatusServiceUnavailable, Code: "SlowDown", Message: "Please reduce your request rate."}
}

// S3AccessDeniedError is S3's HTTP 403 AccessDenied.
func S3AccessDeniedError() APIError {
	return APIError{Status: http.StatusForbidden, Code: "AccessDenied", Message: "Access Denied"}
}

func apiErr(e APIError) *APIError { return &e }

func writeJSONError(w http.ResponseWriter, e APIError) {
	body, _ := json.Marshal(map[string]string{"__type": e.Code, "message": e.Message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", e.Code)
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

type s3ErrorDoc struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Key       string   `xml:"Key,omitempty"`
	Bucket    string   `xml:"BucketName,omitempty"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
}

func writeS3Error(w http.ResponseWriter, r *http.Request, e APIError, bucket, key, requestID string) {
	doc := s3ErrorDoc{Code: e.Code, Message: e.Message, Key: key, Bucket: bucket, RequestID: requestID, HostID: "awsfake"}
	body, _ := xml.Marshal(doc)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", requestID)
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(append([]byte(xml.Header), body...))
	}
}

// modelErr turns an error of the shared ECS model (controlplane/internal/
// awsmodel), a typed SDK exception, into the wire error.
func modelErr(err error) *APIError {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return &APIError{Status: http.StatusBadRequest, Code: ae.ErrorCode(), Message: ae.ErrorMessage()}
	}
	return &APIError{Status: http.StatusInternalServerError, Code: "ServerException", Message: err.Error()}
}
