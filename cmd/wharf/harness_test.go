package main

// The end-to-end harness: the wharf binary runs as a subprocess with a
// throwaway home, against
//
//   - an OIDC provider in this process (internal/testoidc) whose issuer is
//     https://login.wharf.test, reached through a CONNECT proxy and a
//     throwaway CA (HTTPS_PROXY, SSL_CERT_FILE: no test hook in the CLI);
//   - a test STS (internal/teststs) that checks the ID token against the
//     provider's JWKS and evaluates the SYNTHESIZED user role's trust
//     policy with internal/iampolicy;
//   - SSM and CloudWatch Logs on kumo, ECS and CodeBuild on awsfake, behind
//     a guard that authorizes every call against the synthesized user
//     role's policies (the role is found from the SigV4 access key the test
//     STS issued). A denied call is answered AccessDenied and fails the test.
//
// Endpoints reach the CLI through the SDK's AWS_ENDPOINT_URL_<SERVICE>.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/jsii-runtime-go"
	"github.com/sivchari/kumo"

	"github.com/wharf-paas/wharf/apps/config"
	"github.com/wharf-paas/wharf/apps/platform/descriptor"
	"github.com/wharf-paas/wharf/constructs/app"
	"github.com/wharf-paas/wharf/constructs/cluster"
	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/controlplane/awsfake"
	"github.com/wharf-paas/wharf/internal/cdktest"
	"github.com/wharf-paas/wharf/internal/iampolicy"
	"github.com/wharf-paas/wharf/internal/testoidc"
	"github.com/wharf-paas/wharf/internal/teststs"
)

const (
	testAccount = "111122223333"
	testRegion  = "eu-west-1"
	testIssuer  = "https://login.wharf.test"
	testClient  = "wharf-cli"
	providerArn = "arn:aws:iam::" + testAccount + ":oidc-provider/login.wharf.test"
)

var wharfBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wharf-bin-")
	if err != nil {
		panic(err)
	}
	wharfBin = filepath.Join(dir, "wharf")
	build := exec.Command("go", "build", "-o", wharfBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build wharf:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	cdktest.Main(m)
}

// world is shared by the tests of this binary (one synthesis).
type world struct {
	oidc     *testoidc.Provider
	sts      *teststs.Server
	kumo     *kumo.Server
	fake     *awsfake.Server
	guard    *httptest.Server
	platform string // descriptor file
	desc     *contract.Platform
	roles    map[string]*iampolicy.Role // by role ARN
	rt       runtimeWorld               // issue 11: trust documents, the database manager

	oneOff oneOffWorld

	mu      sync.Mutex
	denials []string
	allowed []string
}

var (
	worldOnce sync.Once
	theWorld  *world
)

func getWorld(t testing.TB) *world {
	t.Helper()
	worldOnce.Do(func() { theWorld = newWorld(t) })
	if theWorld == nil {
		t.Fatal("test world setup failed (see the first test)")
	}
	// Every test starts with no denials and fails on any it causes.
	theWorld.mu.Lock()
	theWorld.denials = nil
	theWorld.mu.Unlock()
	t.Cleanup(func() {
		theWorld.mu.Lock()
		defer theWorld.mu.Unlock()
		for _, d := range theWorld.denials {
			t.Errorf("the user role's policy denied a call the CLI made: %s", d)
		}
	})
	return theWorld
}

// expectDenied consumes the denials a test provoked on purpose.
func (w *world) expectDenied(t testing.TB, substr string) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	var rest []string
	found := false
	for _, d := range w.denials {
		if strings.Contains(d, substr) {
			found = true
		} else {
			rest = append(rest, d)
		}
	}
	w.denials = rest
	if !found {
		t.Errorf("no denial matching %q", substr)
	}
}

func newWorld(t testing.TB) *world {
	w := &world{roles: map[string]*iampolicy.Role{}}
	var err error
	w.oidc, err = testoidc.Start(testoidc.Options{
		Issuer: testIssuer,
		Users: []testoidc.User{
			{ID: "alice-0001", Email: "alice@example.com", Password: "pw"},     // on api by email
			{ID: "sam-0002", Email: "sam@example.com", Password: "pw"},         // on api by sub only
			{ID: "mallory-0003", Email: "mallory@example.com", Password: "pw"}, // on web only
			{ID: "noemail-0004", Password: "pw"},                               // no email claim
			{ID: "ada-0005", Email: "ada@example.com", Password: "pw"},         // administrator, on no app
		},
		Clients: []testoidc.Client{{ID: testClient}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Platform{
		Prefix: "wharf", AccountID: testAccount, Region: testRegion,
		Account:  config.Account{OIDCIssuerURL: testIssuer, OIDCClientIDs: []string{testClient}},
		Clusters: []config.Cluster{{Name: "main", Domain: "apps.example.com"}},
		Apps: []config.App{
			{Name: "api", Cluster: "main", AllowedUsers: []string{"Alice@Example.com"}, AllowedSubjects: []string{"sam-0002"}, Database: "main"},
			{Name: "web", Cluster: "main", AllowedUsers: []string{"mallory@example.com"}},
		},
	}
	w.synth(t, cfg)
	w.synthAccount(t)

	w.sts = teststs.New()
	w.sts.AddProvider(teststs.Provider{ARN: providerArn, IssuerURL: testIssuer, ClientIDs: []string{testClient}, HTTPClient: w.oidc.HTTPClient()})
	for arn, role := range w.roles {
		trust := role.Trust
		w.sts.AddRole(teststs.Role{ARN: arn, Trust: teststs.TrustFunc(func(prov string, claims map[string][]string) (bool, string, error) {
			req, err := iampolicy.WebIdentityRequest(prov, claims)
			if err != nil {
				return false, "", err
			}
			d, err := iampolicy.EvaluateTrust(trust, req)
			if err != nil {
				return false, "", err
			}
			return d.Allowed(), d.String(), nil
		})})
	}
	w.kumo = kumo.NewServer()
	w.fake = awsfake.New()
	w.guard = httptest.NewServer(http.HandlerFunc(w.authorize))

	w.desc = descriptor.FromConfig(cfg)
	data, err := descriptor.Marshal(w.desc)
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := os.MkdirTemp("", "wharf-platform-")
	w.platform = filepath.Join(dir, "platform.json")
	if err := os.WriteFile(w.platform, data, 0o644); err != nil {
		t.Fatal(err)
	}
	w.seed(t)
	return w
}

// synth synthesizes the real App constructs of the config's apps, each in
// its own stack with the cluster found by name (as the platform app does),
// and resolves their user roles.
func (w *world) synth(t testing.TB, cfg *config.Platform) {
	cdkApp := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	env := &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String(testRegion)}
	stacks := map[string]awscdk.Stack{}
	for _, a := range cfg.Apps {
		st := awscdk.NewStack(cdkApp, jsii.String("wharf-app-"+a.Name), &awscdk.StackProps{Env: env})
		cl := cluster.FromName(st, "Cluster", &cluster.FromNameProps{Name: jsii.String(a.Cluster), AvailabilityZones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}})
		app.NewApp(st, "App", &app.AppProps{
			Name: jsii.String(a.Name), Cluster: cl, RepositoryURL: jsii.String("https://github.com/acme/" + a.Name + ".git"),
			AllowedUsers: a.AllowedUsers, AllowedSubjects: a.AllowedSubjects,
			OIDCIssuerURL: jsii.String(testIssuer), OIDCClientIDs: []string{testClient},
			ControlPlaneAccountID: jsii.String(testAccount), ControlPlaneEventBusArn: jsii.String("arn:aws:events:eu-west-1:111122223333:event-bus/wharf-controlplane"),
			ManagementExternalID: jsii.String("ext-" + a.Name),
		})
		stacks[a.Name] = st
	}
	for name, st := range stacks {
		var raw map[string]interface{}
		b, _ := json.Marshal(cdktest.Template(t, st).ToJSON())
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		ssmValues := map[string]string{}
		params, _ := raw["Parameters"].(map[string]interface{})
		for _, p := range params {
			pm, _ := p.(map[string]interface{})
			def, _ := pm["Default"].(string)
			switch {
			case strings.HasSuffix(def, "/"+cluster.ParamEcsClusterName):
				ssmValues[def] = "wharf-main"
			case strings.HasSuffix(def, "/"+cluster.ParamEcsClusterArn):
				ssmValues[def] = "arn:aws:ecs:eu-west-1:111122223333:cluster/wharf-main"
			case def != "":
				ssmValues[def] = "stand-in-" + filepath.Base(def)
			}
		}
		tpl, err := iampolicy.NewTemplate(raw, iampolicy.Resolver{AccountID: testAccount, Region: testRegion, StackName: "wharf-app-" + name, SSM: ssmValues,
			Refs: roleNames(raw, "wharf-app-"+name)})
		if err != nil {
			t.Fatal(err)
		}
		role, err := tpl.Role(contract.Names{Prefix: "wharf"}.UserRole(name))
		if err != nil {
			t.Fatal(err)
		}
		w.roles[role.ARN] = role
		w.noteTaskRoles(t, name, tpl)
		w.rt.addTrust(t, tpl, raw, role)
	}
}

func (w *world) sdkConfig() aws.Config {
	return aws.Config{Region: testRegion, Credentials: credentials.NewStaticCredentialsProvider("seed", "seed", ""), RetryMaxAttempts: 1}
}

func (w *world) ssm() *ssm.Client {
	return ssm.NewFromConfig(w.sdkConfig(), func(o *ssm.Options) { o.BaseEndpoint = aws.String(w.kumo.URL) })
}

func (w *world) logs() *cloudwatchlogs.Client {
	return cloudwatchlogs.NewFromConfig(w.sdkConfig(), func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(w.kumo.URL) })
}

func (w *world) ecs() *ecs.Client {
	return ecs.NewFromConfig(w.sdkConfig(), func(o *ecs.Options) { o.BaseEndpoint = aws.String(w.fake.URL) })
}

// seed creates what the platform would have made: log groups, the status
// document, a foreign app's config var, ECS services.
func (w *world) seed(t testing.TB) {
	ctx := context.Background()
	for _, a := range w.desc.Apps {
		for _, g := range []string{a.LogGroup, a.DeployLogGroup, a.ActivityLogGroup} {
			if _, err := w.logs().CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g)}); err != nil {
				t.Fatalf("seed log group %s: %v", g, err)
			}
		}
	}
	if _, err := w.ssm().PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/wharf/apps/web/config/SECRET"), Value: aws.String("web-secret"),
		Type: "SecureString"}); err != nil {
		t.Fatal(err)
	}
	w.fake.AddCluster("wharf-main")
	w.fake.PutProject("wharf-api")
	w.fake.PutProject("wharf-web")
}

// putStatus writes the api app's status document as the control plane
// would.
func (w *world) putStatus(t testing.TB, st map[string]any) {
	t.Helper()
	b, _ := json.Marshal(st)
	_, err := w.ssm().PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String("/wharf/apps/api/status"), Value: aws.String(string(b)),
		Type: "String", Overwrite: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
}

func (w *world) putLogs(t testing.TB, group, stream string, msgs ...string) {
	t.Helper()
	ctx := context.Background()
	_, _ = w.logs().CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)})
	var events []cwlEvent
	now := time.Now()
	for i, m := range msgs {
		events = append(events, cwlEvent{m, now.Add(time.Duration(i-len(msgs)) * time.Millisecond)})
	}
	in := &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}
	for _, e := range events {
		in.LogEvents = append(in.LogEvents, cwlInput(e))
	}
	if _, err := w.logs().PutLogEvents(ctx, in); err != nil {
		t.Fatalf("put logs %s/%s: %v", group, stream, err)
	}
}

// home is one user's throwaway home directory.
type home struct {
	dir string
	w   *world
	env []string
}

func (w *world) newHome(t testing.TB) *home {
	dir := t.TempDir()
	h := &home{dir: dir, w: w}
	h.env = []string{
		"HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, ".config"), "XDG_CACHE_HOME=" + filepath.Join(dir, ".cache"),
		"PATH=" + os.Getenv("PATH"), "HTTPS_PROXY=" + w.oidc.Proxy, "SSL_CERT_FILE=" + w.oidc.CAFile,
		"AWS_ENDPOINT_URL_STS=" + w.sts.URL, "AWS_ENDPOINT_URL_SSM=" + w.guard.URL, "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=" + w.guard.URL,
		"AWS_ENDPOINT_URL_ECS=" + w.guard.URL, "AWS_ENDPOINT_URL_CODEBUILD=" + w.guard.URL,
		"AWS_ENDPOINT_URL_LAMBDA=" + w.guard.URL, "AWS_ENDPOINT_URL_IAM=" + w.guard.URL,
		// Two attempts, not the default three (a denied call is not
		// retried either way), nor one: Go's HTTP client can close a
		// kept-alive connection under a response it is still reading
		// ("read tcp …: use of closed network connection", a race the SDK
		// retries by default since aws/aws-sdk-go-v2#2949; seen once in CI
		// on a loaded machine), and a real CLI would retry it.
		"AWS_MAX_ATTEMPTS=2", "WHARF_POLL_INTERVAL=100ms", "BROWSER=/bin/false",
	}
	return h
}

// cachedConfig is an AWS config with the credentials wharf cached for app
// in this home, as a user (or a hostile one) would take them to call AWS
// directly: one attempt, no endpoint (each client names the guard).
func (h *home) cachedConfig(t *testing.T, app string) aws.Config {
	t.Helper()
	var cached cachedCredentials
	data, _ := os.ReadFile(filepath.Join(h.dir, ".cache", "wharf", "credentials", app+".json"))
	if err := json.Unmarshal(data, &cached); err != nil {
		t.Fatal(err)
	}
	return aws.Config{Region: testRegion, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(cached.AccessKeyID, cached.SecretAccessKey, cached.SessionToken)}
}

// result of one CLI run.
type result struct {
	stdout, stderr string
	code           int
}

func (h *home) run(t testing.TB, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wharfBin, args...)
	cmd.Env = h.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run wharf %v: %v", args, err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

var codeRe = regexp.MustCompile(`enter the code: (\S+)`)

// login runs `wharf login` and approves its code for user (or denies it
// when user is "").
func (h *home) login(t testing.TB, user string, extra ...string) result {
	t.Helper()
	args := append([]string{"login", "--platform", h.w.platform, "--no-browser"}, extra...)
	cmd := exec.Command(wharfBin, args...)
	cmd.Env = h.env
	stderr, _ := cmd.StderrPipe()
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var errText strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		errText.WriteString(line + "\n")
		if m := codeRe.FindStringSubmatch(line); m != nil {
			code := strings.Trim(m[1], "\x1b[0123456789m")
			var err error
			if user == "" {
				err = h.w.oidc.Deny(code)
			} else {
				err = h.w.oidc.Approve(code, user)
			}
			if err != nil {
				t.Fatalf("approve %q: %v", code, err)
			}
		}
	}
	rest, _ := io.ReadAll(stderr)
	errText.Write(rest)
	err := cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return result{stdout: out.String(), stderr: errText.String(), code: code}
}

func (h *home) mustLogin(t testing.TB, user string) {
	t.Helper()
	if r := h.login(t, user); r.code != 0 {
		t.Fatalf("login %s: exit %d\n%s", user, r.code, r.stderr)
	}
}

// authorize is the guard: it finds the caller's role from the SigV4
// access key, evaluates the operation against the role's policies, and
// forwards allowed calls to kumo (SSM, Logs) or awsfake (ECS, CodeBuild).
func (w *world) authorize(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	target := r.Header.Get("X-Amz-Target")
	deny := func(status int, code, msg string) {
		rw.Header().Set("Content-Type", "application/x-amz-json-1.1")
		rw.WriteHeader(status)
		fmt.Fprintf(rw, `{"__type":%q,"message":%q}`, code, msg)
	}
	akid := ""
	if m := regexp.MustCompile(`Credential=([A-Z0-9]+)/`).FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		akid = m[1]
	}
	sess, ok := w.sts.Session(akid)
	if !ok {
		deny(400, "UnrecognizedClientException", "The security token included in the request is invalid (not issued by the test STS, or expired).")
		w.record(true, fmt.Sprintf("%s with unknown or expired key %q", target, akid))
		return
	}
	role := w.roles[sess.RoleARN]
	if w.serveRuntime(rw, r, body, sess, role) {
		return // Lambda Invoke, IAM GetRole: answered in this process
	}
	reqs, err := w.requests(sess.RoleARN, target, body)
	if err != nil {
		deny(400, "AccessDeniedException", err.Error())
		w.record(true, fmt.Sprintf("%s by %s: %v", target, sess.RoleARN, err))
		return
	}
	for _, req := range reqs {
		d, err := iampolicy.Evaluate(req, role.Policies...)
		if err != nil || !d.Allowed() {
			msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", sess.AssumedRoleARN, req.Action, req.Resource)
			deny(400, "AccessDeniedException", msg)
			w.record(true, fmt.Sprintf("%s (%v %v)", msg, d, err))
			return
		}
		w.record(false, req.Action+" "+req.Resource)
	}
	backend := w.kumo.URL
	if strings.HasPrefix(target, "AmazonEC2ContainerServiceV20141113.") || strings.HasPrefix(target, "CodeBuild_20161006.") {
		backend = w.fake.URL
	}
	u, _ := url.Parse(backend)
	httputil.NewSingleHostReverseProxy(u).ServeHTTP(rw, r)
}

// sawAllowed checks the guard authorized (and so evaluated) this call.
func (w *world) sawAllowed(t testing.TB, call string) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, a := range w.allowed {
		if a == call {
			return
		}
	}
	t.Errorf("the guard never authorized %s", call)
}

// statusReads counts the authorized reads of the api app's status
// document (each poll of a waiting CLI is one).
func (w *world) statusReads() int {
	call := "ssm:GetParameter " + arn("ssm", "parameter/wharf/apps/api/status")
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, a := range w.allowed {
		if a == call {
			n++
		}
	}
	return n
}

// awaitStatusRead waits until the status document has been read more than
// after times, so a test changes the status only once the CLI has seen
// the previous one, however slowly it starts on a loaded machine. It
// returns the new count; it gives up after a minute (the CLI's own
// timeout fails the test then).
func (w *world) awaitStatusRead(after int) int {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if n := w.statusReads(); n > after {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
	return after
}

func (w *world) record(denied bool, s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if denied {
		w.denials = append(w.denials, s)
	} else {
		w.allowed = append(w.allowed, s)
	}
}

func arn(service, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, testRegion, testAccount, resource)
}

func ssmArn(name string) string { return arn("ssm", "parameter/"+strings.TrimPrefix(name, "/")) }

// requestsFor maps an API call to the authorization requests IAM makes
// for it: action, resource ARN and context keys, from the Service
// Authorization Reference's tables for SSM, CloudWatch Logs, ECS and
// CodeBuild. An operation not listed is refused (the test must map it).
func requestsFor(target string, body []byte) ([]iampolicy.Request, error) {
	service, op, _ := strings.Cut(target, ".")
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	str := func(k string) string { s, _ := in[k].(string); return s }
	list := func(k string) []string {
		var out []string
		for _, v := range asSlice(in[k]) {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	one := func(action, resource string, ctx iampolicy.Context) []iampolicy.Request {
		return []iampolicy.Request{{Action: action, Resource: resource, Context: ctx}}
	}
	switch service {
	case "AmazonSSM":
		switch op {
		case "GetParameter", "PutParameter", "DeleteParameter":
			// The IAM contract test's mapping (test/iam).
			return contractRequests("ssm", op, &teststs.Session{RoleARN: "arn:aws:iam::" + testAccount + ":role/caller"}, in)
		case "GetParameterHistory":
			return one("ssm:"+op, ssmArn(str("Name")), nil), nil
		case "GetParametersByPath":
			return one("ssm:GetParametersByPath", ssmArn(str("Path")), nil), nil
		case "GetParameters", "DeleteParameters":
			var out []iampolicy.Request
			for _, n := range list("Names") {
				out = append(out, iampolicy.Request{Action: "ssm:" + op, Resource: ssmArn(n)})
			}
			return out, nil
		}
	case "Logs_20140328":
		group := str("logGroupName")
		if id := str("logGroupIdentifier"); id != "" {
			group = strings.TrimPrefix(id, arn("logs", "log-group:"))
		}
		groupArn := arn("logs", "log-group:"+group)
		switch op {
		case "FilterLogEvents", "DescribeLogStreams", "GetLogGroupFields":
			return one("logs:"+op, groupArn, nil), nil
		case "GetLogEvents":
			return one("logs:GetLogEvents", groupArn+":log-stream:"+str("logStreamName"), nil), nil
		case "StartLiveTail":
			var out []iampolicy.Request
			for _, g := range list("logGroupIdentifiers") {
				out = append(out, iampolicy.Request{Action: "logs:StartLiveTail", Resource: strings.TrimSuffix(g, ":*")})
			}
			return out, nil
		}
	case "AmazonEC2ContainerServiceV20141113":
		cluster := str("cluster")
		if !strings.HasPrefix(cluster, "arn:") {
			cluster = arn("ecs", "cluster/"+cluster)
		}
		ctx := iampolicy.Context{"ecs:cluster": {cluster}}
		name := strings.TrimPrefix(cluster, arn("ecs", "cluster/"))
		switch op {
		case "DescribeServices":
			var out []iampolicy.Request
			for _, s := range list("services") {
				if !strings.HasPrefix(s, "arn:") {
					s = arn("ecs", "service/"+name+"/"+s)
				}
				out = append(out, iampolicy.Request{Action: "ecs:DescribeServices", Resource: s, Context: ctx})
			}
			return out, nil
		case "ListServices", "ListTasks":
			return one("ecs:"+op, "*", ctx), nil
		}
	case "CodeBuild_20161006":
		switch op {
		case "StartBuild", "ListBuildsForProject", "StopBuild":
			return one("codebuild:"+op, arn("codebuild", "project/"+str("projectName")), nil), nil
		case "BatchGetBuilds":
			var out []iampolicy.Request
			for _, id := range list("ids") {
				project, _, _ := strings.Cut(id, ":")
				out = append(out, iampolicy.Request{Action: "codebuild:BatchGetBuilds", Resource: arn("codebuild", "project/"+project)})
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("the test guard does not know how IAM authorizes %s", target)
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
