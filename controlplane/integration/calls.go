package integration

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/wharf-paas/wharf/controlplane/awsfake"
)

// APICall is one AWS API request seen on the wire.
type APICall struct {
	// Service is "dynamodb", "ecs", "codebuild", "s3", "ssm", "events" or
	// "sts".
	Service string
	// Op is the operation, e.g. "PutItem", "RunTask", "AssumeRole".
	Op string
	// Role is the ARN of the role whose credentials signed the request
	// (learnt from the AssumeRole answers the log saw); "" for the base
	// credentials.
	Role string
	// Body is the request body of JSON protocols (ECS, CodeBuild, SSM,
	// EventBridge, DynamoDB); Form the decoded body of STS requests; Path
	// the URL path (S3: /<bucket>/<key> in path style).
	Body []byte
	Form url.Values
	Path string
	// Response is the response body of JSON protocols (nil otherwise).
	Response []byte
	// cutOff: the answer was cut off (the SDK retries the operation).
	cutOff bool
}

// Write reports whether the call changes state.
func (c APICall) Write() bool {
	switch c.Op {
	case "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem", "PutParameter", "CreateLogStream", "PutLogEvents":
		return true
	}
	return awsfake.IsWriteOp(c.Op)
}

// CallLog is an aws.HTTPClient that records every request's service and
// operation before sending it with the SDK's default client.
type CallLog struct {
	base aws.HTTPClient
	mu   sync.Mutex
	log  []APICall
	// roles maps an access key ID an AssumeRole answer returned to the
	// role it belongs to.
	roles map[string]string
	// delay is added before every request (nanoseconds), to stand in for
	// AWS's round trips.
	delay atomic.Int64
}

// SetDelay adds d before every request from now on (0: none), as a
// stand-in for the latency of AWS's endpoints.
func (l *CallLog) SetDelay(d time.Duration) { l.delay.Store(int64(d)) }

// NewCallLog returns an empty log around the SDK's default HTTP client.
func NewCallLog() *CallLog { return &CallLog{base: awshttp.NewBuildableClient()} }

var targetServices = map[string]string{
	"DynamoDB_20120810":                  "dynamodb",
	"AmazonEC2ContainerServiceV20141113": "ecs",
	"CodeBuild_20161006":                 "codebuild",
	"AmazonSSM":                          "ssm",
	"AWSEvents":                          "events",
	"Logs_20140328":                      "logs",
}

var (
	credentialRe  = regexp.MustCompile(`Credential=([^/,\s]+)/`)
	accessKeyIDRe = regexp.MustCompile(`<AccessKeyId>([^<]+)</AccessKeyId>`)
)

// Do implements aws.HTTPClient.
func (l *CallLog) Do(req *http.Request) (*http.Response, error) {
	call := APICall{Service: "s3", Op: req.Method, Path: req.URL.Path}
	if t := req.Header.Get("X-Amz-Target"); t != "" {
		svc, op, _ := strings.Cut(t, ".")
		call = APICall{Service: targetServices[svc], Op: op, Path: req.URL.Path}
		if call.Service == "" {
			call.Service = svc
		}
		if req.Body != nil {
			body, _ := io.ReadAll(req.Body)
			req.Body = io.NopCloser(bytes.NewReader(body))
			call.Body = body
		}
	} else if strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") && req.Body != nil {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		call = APICall{Service: "sts", Op: form.Get("Action"), Form: form, Path: req.URL.Path}
	} else if req.Method == http.MethodGet {
		call.Op = "GetObject"
	}
	if m := credentialRe.FindStringSubmatch(req.Header.Get("Authorization")); m != nil {
		l.mu.Lock()
		call.Role = l.roles[m[1]]
		l.mu.Unlock()
	}
	if d := time.Duration(l.delay.Load()); d > 0 {
		time.Sleep(d)
	}
	resp, err := l.base.Do(req)
	if err != nil {
		// No answer: the SDK's retryer decides whether to send the
		// operation again; only an attempt with an answer is a call.
		return resp, err
	}
	if (call.Body != nil || call.Service == "sts") && resp.Body != nil {
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr != nil {
			// A response cut off by a closed loopback connection
			// (aws/aws-sdk-go-v2#1825): the SDK gets the same error (and
			// TransientOnlyRetryer sends the operation again), and the
			// attempt is not logged, so call counts do not depend on the
			// loopback's timing.
			resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{rerr}))
			return resp, nil
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if call.Service == "sts" {
			if m := accessKeyIDRe.FindSubmatch(body); m != nil && call.Form.Get("RoleArn") != "" {
				l.mu.Lock()
				if l.roles == nil {
					l.roles = map[string]string{}
				}
				l.roles[string(m[1])] = call.Form.Get("RoleArn")
				l.mu.Unlock()
			}
		} else if resp.StatusCode < 300 {
			call.Response = body
		}
	}
	l.mu.Lock()
	l.log = append(l.log, call)
	i := len(l.log) - 1
	l.mu.Unlock()
	if call.Body == nil && call.Service != "sts" && resp.Body != nil {
		// The SDK reads this body itself (S3): a read cut off unlogs the
		// attempt, for the same reason as above.
		resp.Body = &watchedBody{ReadCloser: resp.Body, cutOff: func() { l.drop(i) }}
	}
	return resp, nil
}

// drop marks attempt i as cut off: Calls no longer returns it.
func (l *CallLog) drop(i int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i < len(l.log) {
		l.log[i].cutOff = true
	}
}

// watchedBody calls cutOff when a read fails with anything but io.EOF.
type watchedBody struct {
	io.ReadCloser
	cutOff func()
	once   sync.Once
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.once.Do(b.cutOff)
	}
	return n, err
}

// Calls returns a copy of the log: the operations sent, each attempt
// that got a whole answer (an attempt cut off and retried by the SDK is
// not a call of its own).
func (l *CallLog) Calls() []APICall {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]APICall, 0, len(l.log))
	for _, c := range l.log {
		if !c.cutOff {
			out = append(out, c)
		}
	}
	return out
}

// Reset empties the log.
func (l *CallLog) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.log = nil
}

// Writes returns the calls that change state.
func (l *CallLog) Writes() []APICall {
	var out []APICall
	for _, c := range l.Calls() {
		if c.Write() {
			out = append(out, c)
		}
	}
	return out
}

// Count returns how many calls of service.op were made.
func (l *CallLog) Count(service, op string) int {
	n := 0
	for _, c := range l.Calls() {
		if c.Service == service && c.Op == op {
			n++
		}
	}
	return n
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
