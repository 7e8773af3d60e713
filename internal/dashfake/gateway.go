package dashfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/wharf-paas/wharf/internal/teststs"
)

// GatewayCall is one AWS request the browser made through the gateway.
type GatewayCall struct {
	Service, Op, App, Email string
	// Resource is the name the call was checked against (parameter, log
	// group, service, project).
	Resource string
	// Denied reports a call refused by the gateway's role check.
	Denied bool
}

// Gateway stands in for the AWS endpoints a browser reaches: it answers
// CORS preflights and adds the CORS response headers the way AWS's
// endpoints do (any origin, the requested method and headers allowed, no
// credentials), routes SSM and CloudWatch Logs to kumo
// and ECS and CodeBuild to awsfake. Before forwarding, it checks that the
// request is signed with credentials the test STS (internal/teststs) issued and that every
// resource it names belongs to that role's app, mirroring the user role's
// policy (docs/security.md): a hostile tenant holding one app's credentials
// cannot reach another app's config, logs, services or builds.
type Gateway struct {
	STS       *teststs.Server
	Roles     map[string]string // role ARN -> app
	Kumo      *url.URL
	Fake      *url.URL
	Apps      map[string]AppNames
	mu        sync.Mutex
	calls     []GatewayCall
	kumoProxy *httputil.ReverseProxy
	fakeProxy *httputil.ReverseProxy
}

// AppNames are the AWS names of one app the gateway's role check allows.
type AppNames struct {
	ConfigPrefix    string // "/wharf/apps/api/config/"
	StatusParameter string
	LogGroups       []string
	ServicePrefix   string // "wharf-api_"
	Cluster         string
	Project         string
}

// NewGateway wires a gateway to its backends.
func NewGateway(sts *teststs.Server, roles map[string]string, kumoURL, fakeURL string, apps map[string]AppNames) (*Gateway, error) {
	k, err := url.Parse(kumoURL)
	if err != nil {
		return nil, err
	}
	f, err := url.Parse(fakeURL)
	if err != nil {
		return nil, err
	}
	return &Gateway{STS: sts, Roles: roles, Kumo: k, Fake: f, Apps: apps, kumoProxy: httputil.NewSingleHostReverseProxy(k), fakeProxy: httputil.NewSingleHostReverseProxy(f)}, nil
}

// Calls returns the calls seen so far.
func (g *Gateway) Calls() []GatewayCall {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]GatewayCall(nil), g.calls...)
}

func (g *Gateway) record(c GatewayCall) {
	g.mu.Lock()
	g.calls = append(g.calls, c)
	g.mu.Unlock()
}

// exposed are the response headers the SDK reads.
const exposed = "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, x-amz-request-id, Date"

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if r.Header.Get("Origin") != "" {
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", exposed)
	}
	if r.Method == http.MethodOptions {
		// Preflight: allowed only as a real preflight (Origin and
		// Access-Control-Request-Method present).
		if r.Header.Get("Origin") == "" || r.Header.Get("Access-Control-Request-Method") == "" {
			http.Error(w, "not a CORS preflight", http.StatusBadRequest)
			return
		}
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
		h.Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusOK)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	target := r.Header.Get("X-Amz-Target")
	svc, op, _ := strings.Cut(target, ".")
	var service string
	var proxy *httputil.ReverseProxy
	switch svc {
	case "AmazonSSM":
		service, proxy = "ssm", g.kumoProxy
	case "Logs_20140328":
		service, proxy = "logs", g.kumoProxy
	case "AmazonEC2ContainerServiceV20141113":
		service, proxy = "ecs", g.fakeProxy
	case "CodeBuild_20161006":
		service, proxy = "codebuild", g.fakeProxy
	default:
		jsonError(w, 400, "UnknownOperationException", "unknown target "+target)
		return
	}
	sess, ok := g.session(r)
	if !ok {
		g.record(GatewayCall{Service: service, Op: op, Denied: true})
		jsonError(w, 403, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	app := g.Roles[sess.RoleARN]
	resource, allowed := g.allowed(app, service, op, in)
	g.record(GatewayCall{Service: service, Op: op, App: app, Email: sess.Email, Resource: resource, Denied: !allowed})
	if !allowed {
		jsonError(w, 400, "AccessDeniedException", fmt.Sprintf("User: %s is not authorized to perform: %s:%s on resource: %s",
			sess.AssumedRoleARN, service, op, resource))
		return
	}
	r.Host = ""
	r.Header.Del("Origin")
	// The browser's signature covers the gateway's host; the backends do not check signatures.
	proxy.ServeHTTP(w, r)
}

var credRE = regexp.MustCompile(`Credential=([A-Z0-9]+)/`)

func (g *Gateway) session(r *http.Request) (*teststs.Session, bool) {
	m := credRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		return nil, false
	}
	s, ok := g.STS.Session(m[1])
	if !ok || r.Header.Get("X-Amz-Security-Token") != s.SessionToken {
		return nil, false
	}
	return s, true
}

func jsonError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

func str(in map[string]any, k string) string {
	s, _ := in[k].(string)
	return s
}

func strs(in map[string]any, k string) []string {
	var out []string
	if l, ok := in[k].([]any); ok {
		for _, v := range l {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// allowed mirrors the user role's statements (docs/security.md "User role").
func (g *Gateway) allowed(app, service, op string, in map[string]any) (string, bool) {
	n, ok := g.Apps[app]
	if !ok {
		return app, false
	}
	inConfig := func(name string) bool {
		rest, ok := strings.CutPrefix(name, n.ConfigPrefix)
		return ok && rest != "" && !strings.Contains(rest, "/")
	}
	switch service + "." + op {
	case "ssm.GetParameter":
		name := str(in, "Name")
		return name, name == n.StatusParameter || inConfig(name)
	case "ssm.PutParameter", "ssm.DeleteParameter", "ssm.GetParameterHistory":
		name := str(in, "Name")
		return name, inConfig(name)
	case "ssm.GetParametersByPath":
		p := str(in, "Path")
		return p, p == n.ConfigPrefix || p+"/" == n.ConfigPrefix
	case "logs.FilterLogEvents", "logs.GetLogEvents", "logs.DescribeLogStreams":
		lg := str(in, "logGroupName")
		return lg, slices.Contains(n.LogGroups, lg)
	case "ecs.DescribeServices":
		svcs := strs(in, "services")
		for _, s := range svcs {
			if !strings.HasPrefix(s, n.ServicePrefix) {
				return s, false
			}
		}
		return strings.Join(svcs, ","), str(in, "cluster") == n.Cluster
	case "ecs.ListTasks", "ecs.DescribeTasks":
		return str(in, "cluster"), str(in, "cluster") == n.Cluster
	case "codebuild.ListBuildsForProject":
		return str(in, "projectName"), str(in, "projectName") == n.Project
	case "codebuild.BatchGetBuilds":
		for _, id := range strs(in, "ids") {
			if !strings.HasPrefix(id, n.Project+":") {
				return id, false
			}
		}
		return n.Project, true
	}
	return service + ":" + op, false
}
