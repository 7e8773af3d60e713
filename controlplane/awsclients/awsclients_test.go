package awsclients_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/sivchari/kumo"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/controlplane/awsclients"
	"github.com/wharf-paas/wharf/controlplane/awsfake"
)

// exchange is one HTTP request and its response, as sent over the wire.
type exchange struct {
	host     string
	header   http.Header
	form     url.Values // for form-encoded (STS) bodies
	response string
}

// recorder wraps the SDK's HTTP client and keeps every exchange.
type recorder struct {
	base aws.HTTPClient
	mu   sync.Mutex
	ex   []exchange
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	e := exchange{host: req.URL.Host, header: req.Header.Clone()}
	if strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		e.form, _ = url.ParseQuery(string(body))
	}
	resp, err := r.base.Do(req)
	if err != nil {
		return nil, err
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	e.response = string(rb)
	r.mu.Lock()
	r.ex = append(r.ex, e)
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) assumeRoleCalls() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []exchange
	for _, e := range r.ex {
		if e.form.Get("Action") == "AssumeRole" {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) to(host string) []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []exchange
	for _, e := range r.ex {
		if e.host == host && e.form == nil {
			out = append(out, e)
		}
	}
	return out
}

type env struct {
	kumo *kumo.Server
	fake *awsfake.Server
	rec  *recorder
	cfg  aws.Config
}

func newEnv(t *testing.T) env {
	t.Helper()
	k := kumo.NewServer()
	t.Cleanup(k.Close)
	f := awsfake.New()
	t.Cleanup(f.Close)
	rec := &recorder{base: awshttp.NewBuildableClient()}
	cfg := aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDCONTROLPLANE", "secret", ""),
		HTTPClient:  rec,
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	return env{kumo: k, fake: f, rec: rec, cfg: cfg}
}

func (e env) provider(t *testing.T, opts ...awsclients.Option) *awsclients.Provider {
	t.Helper()
	opts = append([]awsclients.Option{
		awsclients.WithEndpoint(awsclients.ServiceSTS, e.kumo.URL),
		awsclients.WithEndpoint(awsclients.ServiceSSM, e.kumo.URL),
		awsclients.WithEndpoint(awsclients.ServiceEventBridge, e.kumo.URL),
		awsclients.WithEndpoint(awsclients.ServiceECS, e.fake.URL),
		awsclients.WithEndpoint(awsclients.ServiceCodeBuild, e.fake.URL),
		awsclients.WithEndpoint(awsclients.ServiceS3, e.fake.URL),
	}, opts...)
	p, err := awsclients.New(e.cfg, opts...)
	if err != nil {
		t.Fatalf("new provider: %v", err)
	}
	return p
}

var api = contract.AppRegistration{
	Name:              "api",
	AccountID:         "111122223333",
	Region:            "eu-central-1",
	ManagementRoleARN: "arn:aws:iam::111122223333:role/wharf-app-api-management",
	ExternalID:        "ext-api-7f3c",
}

var accessKeyRE = regexp.MustCompile(`<AccessKeyId>([^<]+)</AccessKeyId>`)

func TestForAppAssumesManagementRoleOnceAndSignsWithIt(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, awsclients.WithSessionDuration(30*time.Minute))
	ctx := context.Background()

	clients, err := p.ForApp(ctx, api)
	if err != nil {
		t.Fatalf("for app: %v", err)
	}
	calls := e.rec.assumeRoleCalls()
	if len(calls) != 1 {
		t.Fatalf("AssumeRole calls = %d, want 1", len(calls))
	}
	form := calls[0].form
	if got := form.Get("RoleArn"); got != api.ManagementRoleARN {
		t.Errorf("RoleArn = %q, want %q", got, api.ManagementRoleARN)
	}
	if got := form.Get("ExternalId"); got != api.ExternalID {
		t.Errorf("ExternalId = %q, want %q", got, api.ExternalID)
	}
	if got := form.Get("RoleSessionName"); got != "wharf-controlplane-api" {
		t.Errorf("RoleSessionName = %q, want wharf-controlplane-api", got)
	}
	if got := form.Get("DurationSeconds"); got != "1800" {
		t.Errorf("DurationSeconds = %q, want 1800", got)
	}
	// The STS call itself is signed with the control plane's own key.
	if auth := calls[0].header.Get("Authorization"); !strings.Contains(auth, "Credential=AKIDCONTROLPLANE/") {
		t.Errorf("AssumeRole signed with %q", auth)
	}
	m := accessKeyRE.FindStringSubmatch(calls[0].response)
	if m == nil {
		t.Fatalf("no AccessKeyId in AssumeRole response %q", calls[0].response)
	}
	assumedKey := m[1]

	// A second ForApp reuses the cached credentials.
	again, err := p.ForApp(ctx, api)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.rec.assumeRoleCalls()); n != 1 {
		t.Errorf("AssumeRole calls after second ForApp = %d, want 1", n)
	}
	if again != clients {
		t.Errorf("second ForApp built new clients")
	}

	// App clients sign with the assumed credentials, in the app's region,
	// and reach the configured endpoints.
	if _, err := clients.ECS.ListServices(ctx, &ecs.ListServicesInput{}); err != nil {
		t.Fatalf("ecs call: %v", err)
	}
	fakeHost := strings.TrimPrefix(e.fake.URL, "http://")
	ecsCalls := e.rec.to(fakeHost)
	if len(ecsCalls) != 1 {
		t.Fatalf("requests to awsfake = %d, want 1", len(ecsCalls))
	}
	auth := ecsCalls[0].header.Get("Authorization")
	if !strings.Contains(auth, "Credential="+assumedKey+"/") || !strings.Contains(auth, "/eu-central-1/ecs/aws4_request") {
		t.Errorf("ECS request Authorization = %q, want assumed key %s in eu-central-1", auth, assumedKey)
	}
	if ecsCalls[0].header.Get("X-Amz-Security-Token") == "" {
		t.Errorf("ECS request has no session token")
	}
	if _, err := clients.SSM.DescribeParameters(ctx, &ssm.DescribeParametersInput{}); err != nil {
		t.Errorf("ssm call through kumo: %v", err)
	}

	// Another app's role is assumed separately.
	other := api
	other.Name = "web"
	other.ManagementRoleARN = "arn:aws:iam::444455556666:role/wharf-app-web-management"
	other.ExternalID = "ext-web"
	if _, err := p.ForApp(ctx, other); err != nil {
		t.Fatal(err)
	}
	calls = e.rec.assumeRoleCalls()
	if len(calls) != 2 || calls[1].form.Get("RoleArn") != other.ManagementRoleARN || calls[1].form.Get("ExternalId") != "ext-web" {
		t.Errorf("second role: %d calls, last form %v", len(calls), calls[len(calls)-1].form)
	}
}

func TestCredentialsRefreshInsideExpiryWindow(t *testing.T) {
	e := newEnv(t)
	// A window longer than the session makes every cached credential
	// "about to expire", so each ForApp must assume the role again.
	p := e.provider(t, awsclients.WithSessionDuration(15*time.Minute), awsclients.WithExpiryWindow(16*time.Minute))
	for range 3 {
		if _, err := p.ForApp(context.Background(), api); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.rec.assumeRoleCalls()); n != 3 {
		t.Errorf("AssumeRole calls = %d, want 3", n)
	}
}

func TestForObserverAssumesObserverRole(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t)
	acct := contract.AccountRegistration{
		AccountID:       "111122223333",
		ObserverRoleARN: "arn:aws:iam::111122223333:role/wharf-account-observer",
		ExternalID:      "ext-obs",
	}
	obs, err := p.ForObserver(context.Background(), acct)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.ForObserver(context.Background(), acct); err != nil {
		t.Fatal(err)
	}
	calls := e.rec.assumeRoleCalls()
	if len(calls) != 1 || calls[0].form.Get("RoleArn") != acct.ObserverRoleARN || calls[0].form.Get("ExternalId") != "ext-obs" ||
		calls[0].form.Get("RoleSessionName") != "wharf-controlplane-observer-111122223333" {
		t.Fatalf("observer AssumeRole calls: %+v", calls)
	}
	if _, err := obs.ECS.ListServices(context.Background(), &ecs.ListServicesInput{}); err != nil {
		t.Errorf("observer ecs call: %v", err)
	}
}

func TestRejectsBadRegistrations(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t)
	for name, app := range map[string]contract.AppRegistration{
		"no external id": {Name: "api", Region: "eu-west-1", ManagementRoleARN: api.ManagementRoleARN},
		"bad role arn":   {Name: "api", Region: "eu-west-1", ManagementRoleARN: "wharf-app-api-management", ExternalID: "x"},
		"no region":      {Name: "api", ManagementRoleARN: api.ManagementRoleARN, ExternalID: "x"},
	} {
		if _, err := p.ForApp(context.Background(), app); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := len(e.rec.assumeRoleCalls()); n != 0 {
		t.Errorf("AssumeRole called %d times for invalid registrations", n)
	}
	if _, err := awsclients.New(e.cfg, awsclients.WithSessionDuration(time.Minute)); err == nil {
		t.Errorf("1-minute session accepted")
	}
}

func TestAssumeRoleFailureIsReported(t *testing.T) {
	e := newEnv(t)
	// An STS endpoint that refuses: the error names the role and app.
	srv := awsfake.New()
	defer srv.Close()
	p := e.provider(t, awsclients.WithEndpoint(awsclients.ServiceSTS, srv.URL))
	_, err := p.ForApp(context.Background(), api)
	if err == nil || !strings.Contains(err.Error(), api.ManagementRoleARN) || !strings.Contains(err.Error(), "app api") {
		t.Errorf("err = %v, want one naming role and app", err)
	}
}

// The app's Application Auto Scaling client signs with the assumed
// management role and goes to its endpoint; WithoutAutoScaling leaves it
// out (the control plane then refuses ranges).
func TestAutoScalingClient(t *testing.T) {
	e := newEnv(t)
	// Only the recorder sees this server: whatever it answers, the
	// request was made.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{"ScalableTargets":[]}`))
	}))
	t.Cleanup(srv.Close)
	p := e.provider(t, awsclients.WithEndpoint(awsclients.ServiceAutoScaling, srv.URL))
	clients, err := p.ForApp(context.Background(), api)
	if err != nil {
		t.Fatal(err)
	}
	if clients.AutoScaling == nil {
		t.Fatal("no Application Auto Scaling client")
	}
	if _, err := clients.AutoScaling.DescribeScalableTargets(context.Background(), &applicationautoscaling.DescribeScalableTargetsInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs}); err != nil {
		t.Fatalf("DescribeScalableTargets: %v", err)
	}
	u, _ := url.Parse(srv.URL)
	ex := e.rec.to(u.Host)
	if len(ex) != 1 || !strings.Contains(ex[0].header.Get("X-Amz-Target"), "DescribeScalableTargets") ||
		strings.Contains(ex[0].header.Get("Authorization"), "Credential=AKIDCONTROLPLANE/") {
		t.Fatalf("requests to the endpoint: %+v", ex)
	}
	none, err := e.provider(t, awsclients.WithoutAutoScaling()).ForApp(context.Background(), api)
	if err != nil {
		t.Fatal(err)
	}
	if none.AutoScaling != nil {
		t.Error("WithoutAutoScaling still gave a client")
	}
}
