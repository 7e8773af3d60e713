package main

// The harness's part for issue 11: the account's admin role (synthesized
// from the real Account construct and added to the test STS and the
// guard), IAM GetRole answered from the synthesized trust policies, and
// Lambda Invoke of the database manager answered by the real
// dbmanager.Handler over a recording stand-in for the database. Every call
// is authorized by the guard against the caller's synthesized policies
// first, like every other call of the harness.

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/wharf-paas/wharf/constructs/account"
	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/dbmanager"
	"github.com/wharf-paas/wharf/internal/cdktest"
	"github.com/wharf-paas/wharf/internal/iampolicy"
	"github.com/wharf-paas/wharf/internal/teststs"
	wiam "github.com/wharf-paas/wharf/test/iam"
)

const (
	adminRoleArn = "arn:aws:iam::" + testAccount + ":role/wharf-account-admin"
	// managerFunction is the manager of the database "main" the api app
	// uses in the harness's config.
	managerFunction = "wharf-database-main-manager"
)

// runtimeWorld is the harness state of issue 11.
type runtimeWorld struct {
	mu    sync.Mutex
	trust map[string]string // role name → resolved trust policy JSON
	db    *fakeDatabase
	// puts, when set, receives the time the guard received each SSM
	// PutParameter (the benchmarks).
	puts chan time.Time
}

// addTrust keeps a role's resolved trust policy for GetRole.
func (rt *runtimeWorld) addTrust(t testing.TB, tpl *iampolicy.Template, raw map[string]any, role *iampolicy.Role) {
	t.Helper()
	res, _ := raw["Resources"].(map[string]any)
	r, _ := res[role.LogicalID].(map[string]any)
	props, _ := r["Properties"].(map[string]any)
	doc, err := tpl.Resolve(props["AssumeRolePolicyDocument"])
	if err != nil {
		t.Fatalf("trust policy of %s: %v", role.Name, err)
	}
	b, _ := json.Marshal(doc)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.trust == nil {
		rt.trust = map[string]string{}
	}
	rt.trust[role.Name] = string(b)
}

// synthAccount synthesizes the Account construct with ada@example.com as
// the one administrator and registers its admin role with the guard (the
// test STS learns it with the app roles).
func (w *world) synthAccount(t testing.TB) {
	cdkApp := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	env := &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String(testRegion)}
	st := awscdk.NewStack(cdkApp, jsii.String("wharf-account"), &awscdk.StackProps{Env: env})
	account.NewAccount(st, "Account", &account.AccountProps{
		OIDCIssuerURL: jsii.String(testIssuer), OIDCClientIDs: []string{testClient},
		Administrators:        []string{"Ada@Example.com"},
		ControlPlaneAccountID: jsii.String(testAccount), ControlPlaneEventBusArn: jsii.String("arn:aws:events:eu-west-1:111122223333:event-bus/wharf-controlplane"),
		ObserverExternalID: jsii.String("ext-account"),
	})
	var raw map[string]any
	b, _ := json.Marshal(cdktest.Template(t, st).ToJSON())
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	attrs := map[string]string{}
	res, _ := raw["Resources"].(map[string]any)
	for id, r := range res {
		if typ, _ := r.(map[string]any)["Type"].(string); typ == "AWS::IAM::OIDCProvider" {
			attrs[id+".Arn"] = providerArn
		}
	}
	tpl, err := iampolicy.NewTemplate(raw, iampolicy.Resolver{AccountID: testAccount, Region: testRegion, StackName: "wharf-account", Attrs: attrs})
	if err != nil {
		t.Fatal(err)
	}
	role, err := tpl.Role("wharf-account-admin")
	if err != nil {
		t.Fatal(err)
	}
	if role.ARN != adminRoleArn {
		t.Fatalf("admin role ARN %s, want %s", role.ARN, adminRoleArn)
	}
	w.roles[role.ARN] = role
	w.rt.addTrust(t, tpl, raw, role)
	w.rt.db = newFakeDatabase()
}

// serveRuntime answers Lambda Invoke and IAM GetRole after authorizing
// them; it returns false for every other request.
func (w *world) serveRuntime(rw http.ResponseWriter, r *http.Request, body []byte, sess *teststs.Session, role *iampolicy.Role) bool {
	const invokePrefix = "/2015-03-31/functions/"
	if r.Header.Get("X-Amz-Target") == "AmazonSSM.PutParameter" {
		w.rt.mu.Lock()
		puts := w.rt.puts
		w.rt.mu.Unlock()
		if puts != nil {
			select {
			case puts <- time.Now():
			default:
			}
		}
	}
	switch {
	case strings.HasPrefix(r.URL.Path, invokePrefix) && strings.HasSuffix(r.URL.Path, "/invocations"):
		name, _ := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, invokePrefix), "/invocations"))
		if !strings.HasPrefix(name, "arn:") {
			name = arn("lambda", "function:"+name)
		}
		if !w.allowCall(rw, sess, role, "lambda", "Invoke", map[string]any{"FunctionName": name}, jsonDenial) {
			return true
		}
		w.invokeLambda(rw, r, name, body)
		return true
	case r.Method == http.MethodPost && strings.Contains(r.Header.Get("Content-Type"), "x-www-form-urlencoded"):
		form, _ := url.ParseQuery(string(body))
		if form.Get("Action") != "GetRole" {
			return false
		}
		roleName := form.Get("RoleName")
		if !w.allowCall(rw, sess, role, "iam", "GetRole", map[string]any{"RoleName": roleName}, xmlDenial) {
			return true
		}
		w.getRole(rw, roleName)
		return true
	}
	return false
}

type denial func(rw http.ResponseWriter, msg string)

// jsonDenial is Lambda's error form: the X-Amzn-ErrorType header and a
// JSON body (Lambda API reference, "Common Errors": AccessDeniedException,
// HTTP 403).
func jsonDenial(rw http.ResponseWriter, msg string) {
	rw.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(rw, `{"Type":"User","Message":%q}`, msg)
}

// xmlDenial is IAM's (query protocol) error form.
func xmlDenial(rw http.ResponseWriter, msg string) {
	rw.Header().Set("Content-Type", "text/xml")
	rw.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(rw, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>%s</Message></Error><RequestId>guard</RequestId></ErrorResponse>`, xmlEscape(msg))
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// contractRequests maps a call to its IAM requests with the IAM contract
// test's mapper (test/iam), the one mapping the control plane's calls
// are checked with too.
func contractRequests(service, op string, sess *teststs.Session, input map[string]any) ([]iampolicy.Request, error) {
	return wiam.NewMapper().PolicyRequests(wiam.Call{Service: service, Op: op, Role: sess.RoleARN, Account: testAccount, Region: testRegion, Input: input})
}

// allowCall maps a call with contractRequests and allows it only if every
// request is allowed.
func (w *world) allowCall(rw http.ResponseWriter, sess *teststs.Session, role *iampolicy.Role, service, op string, input map[string]any, deny denial) bool {
	reqs, err := contractRequests(service, op, sess, input)
	if err != nil || len(reqs) == 0 {
		deny(rw, fmt.Sprintf("the IAM contract cannot map %s:%s: %v", service, op, err))
		w.record(true, fmt.Sprintf("%s:%s: %v", service, op, err))
		return false
	}
	for _, req := range reqs {
		if !w.allow(rw, sess, role, req, deny) {
			return false
		}
	}
	return true
}

// allow evaluates one request against role's policies, recording it; a
// denied request is answered with deny and recorded as a denial (which
// fails the test unless expected).
func (w *world) allow(rw http.ResponseWriter, sess *teststs.Session, role *iampolicy.Role, req iampolicy.Request, deny denial) bool {
	var d iampolicy.Decision
	var err error
	if role != nil {
		d, err = iampolicy.Evaluate(req, role.Policies...)
	}
	if role == nil || err != nil || !d.Allowed() {
		msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", sess.AssumedRoleARN, req.Action, req.Resource)
		deny(rw, msg)
		w.record(true, fmt.Sprintf("%s (%v %v)", msg, d, err))
		return false
	}
	w.record(false, req.Action+" "+req.Resource)
	return true
}

// getRole answers iam:GetRole with the synthesized trust policy,
// URL-encoded as IAM returns AssumeRolePolicyDocument ("The policy is
// returned as a URL-encoded JSON string", IAM API reference, Role).
func (w *world) getRole(rw http.ResponseWriter, name string) {
	w.rt.mu.Lock()
	doc, ok := w.rt.trust[name]
	w.rt.mu.Unlock()
	rw.Header().Set("Content-Type", "text/xml")
	if !ok {
		rw.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(rw, `<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name %s cannot be found.</Message></Error><RequestId>guard</RequestId></ErrorResponse>`, xmlEscape(name))
		return
	}
	fmt.Fprintf(rw, `<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult><Role><Path>/</Path><RoleName>%s</RoleName>`+
		`<RoleId>AROAGUARD0000000000</RoleId><Arn>arn:aws:iam::%s:role/%s</Arn><CreateDate>2026-12-01T00:00:00Z</CreateDate>`+
		`<AssumeRolePolicyDocument>%s</AssumeRolePolicyDocument><MaxSessionDuration>3600</MaxSessionDuration></Role></GetRoleResult>`+
		`<ResponseMetadata><RequestId>guard</RequestId></ResponseMetadata></GetRoleResponse>`,
		xmlEscape(name), testAccount, xmlEscape(name), xmlEscape(url.QueryEscape(doc)))
}

// invokeLambda answers a synchronous Invoke: "If the function returns an
// error ... the response ... includes the X-Amz-Function-Error header";
// the payload is the function's response (Lambda API reference, Invoke).
// Only the database manager of "main" exists.
func (w *world) invokeLambda(rw http.ResponseWriter, r *http.Request, fnArn string, body []byte) {
	if fnArn != arn("lambda", "function:"+managerFunction) {
		rw.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(rw, `{"Type":"User","Message":"Function not found: %s"}`, fnArn)
		return
	}
	if it := r.Header.Get("X-Amz-Invocation-Type"); it != "" && it != "RequestResponse" {
		http.Error(rw, "the harness answers RequestResponse invocations only", http.StatusBadRequest)
		return
	}
	h := &dbmanager.Handler{Actions: w.rt.db}
	out, err := h.Handle(r.Context(), json.RawMessage(body))
	rw.Header().Set("X-Amz-Executed-Version", "$LATEST")
	if err != nil {
		rw.Header().Set("X-Amz-Function-Error", "Unhandled")
		fmt.Fprintf(rw, `{"errorMessage":%q,"errorType":"error"}`, err.Error())
		return
	}
	_, _ = rw.Write(out)
}

// fakeDatabase stands in for the PostgreSQL cluster behind the real
// handler (dbmanager.Handler validates every request before it reaches
// Do): it keeps which databases exist and the run-sql IDs, and records
// every request.
type fakeDatabase struct {
	mu       sync.Mutex
	exists   map[string]bool
	ran      map[string]string // id → SQL
	requests []contract.DBRequest
}

func newFakeDatabase() *fakeDatabase {
	return &fakeDatabase{exists: map[string]bool{}, ran: map[string]string{}}
}

func (f *fakeDatabase) Do(_ context.Context, req contract.DBRequest) contract.DBResponse {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	name := req.Database
	if req.App != "" {
		name = contract.AppDatabase(req.App)
	}
	resp := contract.DBResponse{OK: true, Action: req.Action, Database: name, Role: name}
	switch req.Action {
	case contract.DBActionCreateDatabase:
		resp.Changed = !f.exists[name]
		f.exists[name] = true
	case contract.DBActionDestroyDatabase:
		resp.Changed = f.exists[name]
		delete(f.exists, name)
	case contract.DBActionRunSQL:
		if !f.exists[name] {
			return contract.DBResponse{OK: false, Action: req.Action, Error: &contract.DBError{Field: "app", Rule: contract.DBRuleNotFound, Message: "app: database " + name + " does not exist"}}
		}
		if prev, ok := f.ran[req.ID]; ok {
			if prev != req.SQL {
				return contract.DBResponse{OK: false, Action: req.Action, Error: &contract.DBError{Field: "id", Rule: contract.DBRuleIDReused, Message: "id: " + req.ID + " was used for another script"}}
			}
			return resp
		}
		f.ran[req.ID] = req.SQL
		resp.Changed = true
		one := "1"
		resp.Results = []contract.DBStatementResult{{Command: "SELECT 1", Columns: []string{"answer"}, Rows: [][]*string{{&one}}}}
	}
	return resp
}

func (f *fakeDatabase) last() contract.DBRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return contract.DBRequest{}
	}
	return f.requests[len(f.requests)-1]
}
