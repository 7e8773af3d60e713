// Package awsfake is an in-process test server that speaks the wire protocols
// of the AWS services Wharf's control plane calls and that kumo does not
// cover (or covers too loosely): ECS, CodeBuild and EventBridge (awsJson1_1,
// dispatched on X-Amz-Target) and S3 (REST GetObject, path-style). kumo's
// EventBridge drops a target's EcsParameters, which scheduled tasks need. Real aws-sdk-go-v2 clients talk to it over
// HTTP, so tests exercise the SDK's own serialisation, error decoding and
// typed errors.
//
// The server keeps realistic state (task-definition families with increasing
// revisions, tasks with a scriptable PROVISIONING → RUNNING → STOPPED
// lifecycle, services that go ACTIVE → DRAINING → INACTIVE, deployments with a
// rollout state, clientToken idempotency) and records every call with its
// decoded input. Tests script it through Go methods: put builds, projects
// and objects, set task outcomes, queue RunTask failures, and inject errors
// for the next N calls of an operation.
//
// Point a client at it with BaseEndpoint (S3 needs UsePathStyle):
//
//	srv := awsfake.New()
//	defer srv.Close()
//	ecsClient := ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
//	s3Client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(srv.URL); o.UsePathStyle = true })
package awsfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Target prefixes of the awsJson1_1 services the server speaks.
const (
	ecsTargetPrefix       = "AmazonEC2ContainerServiceV20141113."
	codeBuildTargetPrefix = "CodeBuild_20161006."
)

// Service names used in Call.Service.
const (
	ServiceECS       = "ecs"
	ServiceCodeBuild = "codebuild"
	ServiceS3        = "s3"
)

// Default identity of the fake account.
const (
	DefaultAccount = "111122223333"
	DefaultRegion  = "eu-west-1"
)

// Call is one request the server received.
type Call struct {
	// Service is ServiceECS, ServiceCodeBuild, ServiceEventBridge or
	// ServiceS3.
	Service string
	// Op is the operation name, e.g. "RunTask", "BatchGetBuilds", "GetObject".
	Op string
	// Input is the decoded request as the SDK input type, e.g.
	// *ecs.RunTaskInput, *codebuild.BatchGetBuildsInput, *s3.GetObjectInput.
	Input any
	// ErrorCode is the error code returned ("" on success), e.g.
	// "ThrottlingException".
	ErrorCode string
	// Time is when the call arrived (from the server's clock).
	Time time.Time
}

// Write reports whether the call is one that changes state in AWS.
func (c Call) Write() bool { return IsWriteOp(c.Op) }

// IsWriteOp reports whether op changes state (RegisterTaskDefinition,
// DeregisterTaskDefinition, RunTask, StopTask, CreateService,
// UpdateService, DeleteService, and EventBridge's PutRule, PutTargets,
// RemoveTargets and DeleteRule).
func IsWriteOp(op string) bool {
	switch op {
	case "RegisterTaskDefinition", "DeregisterTaskDefinition", "RunTask", "StopTask",
		"CreateService", "UpdateService", "DeleteService",
		"PutRule", "PutTargets", "RemoveTargets", "DeleteRule", "PutObject":
		return true
	}
	return false
}

// Option configures a Server.
type Option func(*Server)

// WithAccount sets the account ID used in ARNs (default DefaultAccount).
func WithAccount(id string) Option { return func(s *Server) { s.account = id } }

// WithRegion sets the region used in ARNs (default DefaultRegion).
func WithRegion(region string) Option { return func(s *Server) { s.region = region } }

// WithClock sets the clock used for timestamps (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Server is the fake. All methods are safe for concurrent use.
type Server struct {
	// URL is the base URL ("http://127.0.0.1:port") to use as BaseEndpoint.
	URL string

	httpServer *httptest.Server
	account    string
	region     string
	now        func() time.Time

	mu     sync.Mutex
	calls  []Call
	faults map[string][]APIError
	hooks  map[string][]func()
	seq    int

	ecs       ecsState
	eb        eventBridgeState
	builds    map[string]buildRecord
	buildList []string
	projects  map[string]bool
	// startedBuilds are the builds StartBuild created.
	startedBuilds []string
	objects       map[string]map[string]object
}

// New starts a server on a loopback port. Close it when done.
func New(opts ...Option) *Server {
	s := NewUnstarted(opts...)
	s.httpServer = httptest.NewServer(s)
	s.URL = s.httpServer.URL
	return s
}

// NewUnstarted returns a server that is not listening; use it as an
// http.Handler (URL stays empty).
func NewUnstarted(opts ...Option) *Server {
	s := &Server{
		account:  DefaultAccount,
		region:   DefaultRegion,
		now:      time.Now,
		faults:   map[string][]APIError{},
		hooks:    map[string][]func(){},
		builds:   map[string]buildRecord{},
		projects: map[string]bool{},
		objects:  map[string]map[string]object{},
	}
	for _, o := range opts {
		o(s)
	}
	s.ecs.init(s)
	s.eb.init()
	return s
}

// Close stops the listener started by New.
func (s *Server) Close() {
	if s.httpServer != nil {
		s.httpServer.Close()
	}
}

// Account is the account ID used in ARNs.
func (s *Server) Account() string { return s.account }

// Region is the region used in ARNs.
func (s *Server) Region() string { return s.region }

// FailNext makes the next n calls of op (e.g. "RunTask", "BatchGetBuilds",
// "GetObject") fail with err instead of being served. Calls fail in order;
// a second FailNext for the same op queues behind the first.
func (s *Server) FailNext(op string, n int, err APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[op] = append(s.faults[op], err)
	}
}

// BeforeNext runs fn just before the next call of op is served (after
// the request is decoded, before injected faults and state changes), e.g.
// to delete a service between the caller's DescribeServices and its
// UpdateService. fn may call the Server's methods.
func (s *Server) BeforeNext(op string, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks[op] = append(s.hooks[op], fn)
}

// runHook runs the next BeforeNext hook of op, if any, without holding
// s.mu.
func (s *Server) runHook(op string) {
	s.mu.Lock()
	q := s.hooks[op]
	if len(q) == 0 {
		s.mu.Unlock()
		return
	}
	fn := q[0]
	s.hooks[op] = q[1:]
	s.mu.Unlock()
	fn()
}

// PendingFaults is how many injected errors for op are still queued.
func (s *Server) PendingFaults(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults[op])
}

// Calls returns a copy of every call received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsTo returns the calls of one operation, in order.
func (s *Server) CallsTo(op string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// WriteCalls returns the calls that change state (see IsWriteOp).
func (s *Server) WriteCalls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.Write() {
			out = append(out, c)
		}
	}
	return out
}

// CallCounts returns the number of calls per operation.
func (s *Server) CallCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, c := range s.calls {
		out[c.Op]++
	}
	return out
}

// ResetCalls forgets the recorded calls (state is kept).
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// ServeHTTP dispatches awsJson1_1 requests on X-Amz-Target and everything
// else to the S3 REST handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	switch {
	case strings.HasPrefix(target, ecsTargetPrefix):
		s.serveJSON(w, r, ServiceECS, strings.TrimPrefix(target, ecsTargetPrefix), jsonService{newInput: newECSInput, serve: s.serveECS})
	case strings.HasPrefix(target, codeBuildTargetPrefix):
		s.serveJSON(w, r, ServiceCodeBuild, strings.TrimPrefix(target, codeBuildTargetPrefix), jsonService{newInput: newCodeBuildInput, serve: s.serveCodeBuild})
	case strings.HasPrefix(target, eventBridgeTargetPrefix):
		s.serveJSON(w, r, ServiceEventBridge, strings.TrimPrefix(target, eventBridgeTargetPrefix), jsonService{newInput: newEventBridgeInput, serve: s.serveEventBridge})
	case target != "":
		writeJSONError(w, APIError{Status: http.StatusBadRequest, Code: "UnknownOperationException",
			Message: fmt.Sprintf("target %q is not served by awsfake", target)})
	default:
		s.serveS3(w, r)
	}
}

// jsonService is one awsJson1_1 service: newInput returns a fresh SDK input
// value for op (nil when the server does not serve op); serve runs the
// decoded input against the state and returns the encoded output.
type jsonService struct {
	newInput func(op string) any
	serve    func(op string, in any) ([]byte, *APIError)
}

func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, service, op string, svc jsonService) {
	if r.Method != http.MethodPost {
		writeJSONError(w, APIError{Status: http.StatusMethodNotAllowed, Code: "UnknownOperationException", Message: "awsJson requests are POST"})
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-amz-json-1.1") {
		writeJSONError(w, APIError{Status: http.StatusBadRequest, Code: "SerializationException",
			Message: fmt.Sprintf("content type %q is not application/x-amz-json-1.1", ct)})
		return
	}
	in := svc.newInput(op)
	if in == nil {
		writeJSONError(w, APIError{Status: http.StatusBadRequest, Code: "UnknownOperationException",
			Message: fmt.Sprintf("operation %s.%s is not served by awsfake", service, op)})
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSONError(w, APIError{Status: http.StatusBadRequest, Code: "SerializationException", Message: err.Error()})
		return
	}
	if apiErr := decodeInput(body, in); apiErr != nil {
		writeJSONError(w, *apiErr)
		return
	}
	s.runHook(op)
	s.mu.Lock()
	defer s.mu.Unlock()
	call := Call{Service: service, Op: op, Input: in, Time: s.now()}
	if fault, ok := s.takeFault(op); ok {
		call.ErrorCode = fault.Code
		s.calls = append(s.calls, call)
		writeJSONError(w, fault)
		return
	}
	out, apiErr := svc.serve(op, in)
	if apiErr != nil {
		call.ErrorCode = apiErr.Code
		s.calls = append(s.calls, call)
		writeJSONError(w, *apiErr)
		return
	}
	s.calls = append(s.calls, call)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", s.requestID())
	_, _ = w.Write(out)
}

// takeFault pops the next injected error for op. Callers hold s.mu.
func (s *Server) takeFault(op string) (APIError, bool) {
	q := s.faults[op]
	if len(q) == 0 {
		return APIError{}, false
	}
	s.faults[op] = q[1:]
	return q[0], true
}

// decodeInput decodes an awsJson body into an SDK input struct. The SDK's
// wire member names are the lowerCamel forms of the Go field names, which
// encoding/json matches case-insensitively.
func decodeInput(body []byte, v any) *APIError {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &APIError{Status: http.StatusBadRequest, Code: "SerializationException", Message: fmt.Sprintf("cannot decode request: %v", err)}
	}
	return nil
}

// requestID returns a random request ID. Callers hold s.mu.
func (s *Server) requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// nextSeq returns a process-unique counter value. Callers hold s.mu.
func (s *Server) nextSeq() int {
	s.seq++
	return s.seq
}
