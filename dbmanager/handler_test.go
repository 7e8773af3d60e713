package dbmanager_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/dbmanager"
)

// cfnServer stands in for the presigned S3 ResponseURL.
type cfnServer struct {
	*httptest.Server
	mu       sync.Mutex
	bodies   []dbmanager.CustomResourceResponse
	failures int // answer 500 this many times first
	headers  []http.Header
}

func newCFNServer(t *testing.T) *cfnServer {
	s := &cfnServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if r.Method != http.MethodPut || r.URL.Query().Get("X-Amz-Signature") != "sig" {
			t.Errorf("response upload: %s %s", r.Method, r.URL)
		}
		s.headers = append(s.headers, r.Header.Clone())
		if s.failures > 0 {
			s.failures--
			http.Error(w, "slow down", http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if len(b) > 4096 {
			t.Errorf("response body is %d bytes, over CloudFormation's 4096", len(b))
		}
		var out dbmanager.CustomResourceResponse
		if err := json.Unmarshal(b, &out); err != nil {
			t.Errorf("response body %s: %v", b, err)
		}
		s.bodies = append(s.bodies, out)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *cfnServer) take(t *testing.T) dbmanager.CustomResourceResponse {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bodies) != 1 {
		t.Fatalf("want exactly one response uploaded, got %d: %+v", len(s.bodies), s.bodies)
	}
	out := s.bodies[0]
	s.bodies = nil
	return out
}

func (s *cfnServer) event(reqType, physical string, props map[string]any) []byte {
	ev := map[string]any{
		"RequestType":        reqType,
		"ResponseURL":        s.URL + "/cloudformation-custom-resource-response-euwest1/x?X-Amz-Signature=sig",
		"StackId":            "arn:aws:cloudformation:eu-west-1:111122223333:stack/wharf-app-shop/abc",
		"RequestId":          "req-" + reqType,
		"ResourceType":       "Custom::WharfDatabase",
		"LogicalResourceId":  "AppDatabase",
		"ResourceProperties": props,
	}
	if physical != "" {
		ev["PhysicalResourceId"] = physical
	}
	b, _ := json.Marshal(ev)
	return b
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func quietHandler(a dbmanager.Actions) *dbmanager.Handler {
	return &dbmanager.Handler{Actions: a, Logger: quiet, RetryDelay: time.Millisecond}
}

func handle(t *testing.T, h *dbmanager.Handler, payload []byte) (json.RawMessage, error) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return h.Handle(c, payload)
}

func TestCustomResourceDatabaseLifecycle(t *testing.T) {
	cfn := newCFNServer(t)
	h := quietHandler(newManager(t))
	app, name := appName(t)
	props := map[string]any{"ServiceToken": "arn:aws:lambda:eu-west-1:111122223333:function:m", "Action": "create-database", "App": app}

	out, err := handle(t, h, cfn.event("Create", "", props))
	if err != nil || out != nil {
		t.Fatalf("create: %s, %v", out, err)
	}
	got := cfn.take(t)
	if got.Status != "SUCCESS" || got.PhysicalResourceID != dbmanager.PhysicalIDDatabasePrefix+name ||
		got.Data["Database"] != name || got.Data["Role"] != name || got.Data["Changed"] != "true" ||
		got.RequestID != "req-Create" || got.LogicalResourceID != "AppDatabase" || !strings.HasSuffix(got.StackID, "/abc") {
		t.Fatalf("create response: %+v", got)
	}
	if ct := cfn.headers[0]["Content-Type"]; len(ct) != 0 {
		t.Errorf("response upload sent a Content-Type %v; the presigned URL does not sign one", ct)
	}
	// An update with the same properties (e.g. a new ServiceToken) changes nothing.
	props["ServiceToken"] = "arn:aws:lambda:eu-west-1:111122223333:function:m2"
	if _, err := handle(t, h, cfn.event("Update", got.PhysicalResourceID, props)); err != nil {
		t.Fatal(err)
	}
	if up := cfn.take(t); up.Status != "SUCCESS" || up.PhysicalResourceID != got.PhysicalResourceID || up.Data["Changed"] != "false" {
		t.Errorf("update response: %+v", up)
	}
	// Delete keeps the data by default.
	if _, err := handle(t, h, cfn.event("Delete", got.PhysicalResourceID, props)); err != nil {
		t.Fatal(err)
	}
	if del := cfn.take(t); del.Status != "SUCCESS" || !strings.Contains(del.Reason, "kept") {
		t.Errorf("delete response: %+v", del)
	}
	if !exists(t, "database", name) {
		t.Fatal("delete without DropOnDelete dropped the database")
	}
	// With DropOnDelete it is dropped, role and all.
	props["DropOnDelete"] = "true"
	if _, err := handle(t, h, cfn.event("Delete", got.PhysicalResourceID, props)); err != nil {
		t.Fatal(err)
	}
	if del := cfn.take(t); del.Status != "SUCCESS" {
		t.Errorf("delete response: %+v", del)
	}
	if exists(t, "database", name) || exists(t, "role", name) {
		t.Errorf("delete with DropOnDelete left objects:\n%s", snapshot(t, name))
	}
}

// countingActions records calls and can panic.
type countingActions struct {
	mu    sync.Mutex
	calls []contract.DBRequest
	panic bool
	resp  contract.DBResponse
}

func (c *countingActions) Do(_ context.Context, req contract.DBRequest) contract.DBResponse {
	c.mu.Lock()
	c.calls = append(c.calls, req)
	c.mu.Unlock()
	if c.panic {
		panic("boom")
	}
	r := c.resp
	r.Action = req.Action
	return r
}

func TestCustomResourceFailures(t *testing.T) {
	cfn := newCFNServer(t)
	acts := &countingActions{resp: contract.DBResponse{OK: true, Database: "x", Role: "x"}}
	h := quietHandler(acts)

	// Invalid properties fail the Create with a reason naming the property
	// and a physical id that the rollback Delete recognises.
	for _, tc := range []struct {
		props map[string]any
		field string
	}{
		{map[string]any{"Action": "create-database", "App": "Bad"}, "App: "},
		{map[string]any{"Action": "destroy-database", "App": "x"}, "Action: "},
		{map[string]any{"Action": "create-database", "App": "x", "Extra": "1"}, "Extra: "},
		{map[string]any{"Action": "create-database", "App": "xy", "DropOnDelete": "maybe"}, "DropOnDelete: "},
		{map[string]any{"Action": "run-sql", "App": "xy", "Sql": "COMMIT"}, "Sql: "},
		{map[string]any{"App": "xy"}, "Action: "},
	} {
		if _, err := handle(t, h, cfn.event("Create", "", tc.props)); err != nil {
			t.Fatal(err)
		}
		got := cfn.take(t)
		if got.Status != "FAILED" || !strings.Contains(got.Reason, tc.field) || got.PhysicalResourceID != dbmanager.PhysicalIDFailedPrefix+"req-Create" {
			t.Errorf("props %v: response %+v", tc.props, got)
		}
		if _, err := handle(t, h, cfn.event("Delete", got.PhysicalResourceID, tc.props)); err != nil {
			t.Fatal(err)
		}
		if del := cfn.take(t); del.Status != "SUCCESS" || del.PhysicalResourceID != got.PhysicalResourceID {
			t.Errorf("rollback delete: %+v", del)
		}
	}
	if len(acts.calls) != 0 {
		t.Errorf("invalid properties reached the manager: %+v", acts.calls)
	}

	// A failing Update keeps the old physical id.
	acts.resp = contract.DBResponse{Error: &contract.DBError{Field: "app", Rule: contract.DBRuleConflict, Message: "app: taken"}}
	if _, err := handle(t, h, cfn.event("Update", "wharf-database:shop", map[string]any{"Action": "create-database", "App": "shop"})); err != nil {
		t.Fatal(err)
	}
	if got := cfn.take(t); got.Status != "FAILED" || got.PhysicalResourceID != "wharf-database:shop" || got.Reason != "[conflict] App: taken" {
		t.Errorf("failed update: %+v", got)
	}

	// A panic becomes a FAILED response, not a silent timeout.
	acts.panic = true
	if _, err := handle(t, h, cfn.event("Create", "", map[string]any{"Action": "enable-iam-auth"})); err != nil {
		t.Fatal(err)
	}
	if got := cfn.take(t); got.Status != "FAILED" || !strings.Contains(got.Reason, "boom") {
		t.Errorf("panic: %+v", got)
	}
	acts.panic = false

	// A configuration error found at start-up fails every request.
	broken := quietHandler(nil)
	broken.InitError = errors.New("WHARF_DB_HOST: is required")
	if _, err := handle(t, broken, cfn.event("Create", "", map[string]any{"Action": "enable-iam-auth"})); err != nil {
		t.Fatal(err)
	}
	if got := cfn.take(t); got.Status != "FAILED" || !strings.Contains(got.Reason, "WHARF_DB_HOST") {
		t.Errorf("init error: %+v", got)
	}
	out, _ := handle(t, broken, []byte(`{"action":"enable-iam-auth"}`))
	if !strings.Contains(string(out), `"rule":"config"`) {
		t.Errorf("init error on a direct request: %s", out)
	}
}

func TestCustomResourceRunSQLAndIAMAuth(t *testing.T) {
	cfn := newCFNServer(t)
	acts := &countingActions{resp: contract.DBResponse{OK: true, Database: "shop", Role: "wharf_admin", Changed: true}}
	h := quietHandler(acts)
	props := map[string]any{"Action": "run-sql", "App": "shop", "Sql": "CREATE EXTENSION IF NOT EXISTS pg_trgm"}
	for _, rt := range []string{"Create", "Update"} {
		if _, err := handle(t, h, cfn.event(rt, "wharf-sql:old", props)); err != nil {
			t.Fatal(err)
		}
		if got := cfn.take(t); got.Status != "SUCCESS" || !strings.HasPrefix(got.PhysicalResourceID, dbmanager.PhysicalIDSQLPrefix+"cfn-") {
			t.Errorf("%s: %+v", rt, got)
		}
	}
	// Same stack, resource and SQL: the same idempotency key; other SQL: another.
	props["Sql"] = "SELECT 2"
	if _, err := handle(t, h, cfn.event("Update", "wharf-sql:old", props)); err != nil {
		t.Fatal(err)
	}
	cfn.take(t)
	if len(acts.calls) != 3 || acts.calls[0].ID != acts.calls[1].ID || acts.calls[1].ID == acts.calls[2].ID || acts.calls[0].App != "shop" {
		t.Errorf("run-sql ids: %+v", acts.calls)
	}
	// Delete of run-sql and enable-iam-auth does nothing.
	acts.calls = nil
	for _, p := range []map[string]any{props, {"Action": "enable-iam-auth"}} {
		if _, err := handle(t, h, cfn.event("Delete", "wharf-x", p)); err != nil {
			t.Fatal(err)
		}
		if got := cfn.take(t); got.Status != "SUCCESS" {
			t.Errorf("delete: %+v", got)
		}
	}
	if len(acts.calls) != 0 {
		t.Errorf("delete called the manager: %+v", acts.calls)
	}
	if _, err := handle(t, h, cfn.event("Create", "", map[string]any{"Action": "enable-iam-auth"})); err != nil {
		t.Fatal(err)
	}
	if got := cfn.take(t); got.Status != "SUCCESS" || got.PhysicalResourceID != "wharf-iam-auth:wharf_admin" || got.Data["AdminUser"] != "wharf_admin" {
		t.Errorf("enable-iam-auth: %+v", got)
	}
}

func TestCustomResourceResponseRetries(t *testing.T) {
	cfn := newCFNServer(t)
	h := quietHandler(&countingActions{resp: contract.DBResponse{OK: true, Role: "a"}})
	cfn.failures = 2
	if _, err := handle(t, h, cfn.event("Create", "", map[string]any{"Action": "enable-iam-auth"})); err != nil {
		t.Fatalf("two 503s then success: %v", err)
	}
	if got := cfn.take(t); got.Status != "SUCCESS" || len(cfn.headers) != 3 {
		t.Errorf("after retries: %+v, %d attempts", got, len(cfn.headers))
	}
	// Persistent failure is a Lambda error, so the asynchronous invocation
	// is retried by Lambda.
	cfn.failures = 10
	if _, err := handle(t, h, cfn.event("Create", "", map[string]any{"Action": "enable-iam-auth"})); err == nil {
		t.Error("undeliverable response: want an error")
	}
	// A 403 (expired presigned URL) is not retried.
	forbidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "AccessDenied", http.StatusForbidden)
	}))
	defer forbidden.Close()
	ev := map[string]any{"RequestType": "Create", "ResponseURL": forbidden.URL, "RequestId": "r", "ResourceProperties": map[string]any{"Action": "enable-iam-auth"}}
	b, _ := json.Marshal(ev)
	if _, err := handle(t, h, b); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("403: want an error naming the status, got %v", err)
	}
}

func TestDirectInvocation(t *testing.T) {
	h := quietHandler(newManager(t))
	out, err := handle(t, h, []byte(`{"action":"create-database","app":"Shop"}`))
	if err != nil {
		t.Fatalf("validation failures are not Lambda errors: %v", err)
	}
	var resp contract.DBResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.OK || resp.Error == nil || resp.Error.Field != "app" || resp.Error.Rule != contract.DBRulePattern || resp.Action != "create-database" {
		t.Errorf("response %s", out)
	}
	out, _ = handle(t, h, []byte(`{"action":"create-database","app":"shop","sql":"x","extra":true}`))
	if !strings.Contains(string(out), `"field":"extra","rule":"unknown"`) {
		t.Errorf("unknown field: %s", out)
	}
	// A panic in the manager is an internal error, not a crash.
	out, err = handle(t, quietHandler(&countingActions{panic: true}), []byte(`{"action":"enable-iam-auth"}`))
	if err != nil || !strings.Contains(string(out), `"rule":"internal"`) {
		t.Errorf("panic: %s %v", out, err)
	}
}

// blockingActions waits for its context to end, like an action stuck on a
// lock or an unreachable database.
type blockingActions struct{}

func (blockingActions) Do(ctx context.Context, req contract.DBRequest) contract.DBResponse {
	<-ctx.Done()
	return contract.DBResponse{Action: req.Action, Error: &contract.DBError{Rule: contract.DBRuleDatabaseError, Message: ctx.Err().Error()}}
}

func TestCustomResourceAnswersBeforeTheDeadline(t *testing.T) {
	cfn := newCFNServer(t)
	h := quietHandler(blockingActions{})
	h.ResponseMargin = 200 * time.Millisecond
	c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := h.Handle(c, cfn.event("Create", "", map[string]any{"Action": "enable-iam-auth"})); err != nil {
		t.Fatalf("handle: %v", err)
	}
	if c.Err() != nil {
		t.Fatalf("the invocation's own deadline passed before the handler returned")
	}
	if got := cfn.take(t); got.Status != "FAILED" || !strings.Contains(got.Reason, "deadline exceeded") {
		t.Errorf("response: %+v", got)
	}
}
