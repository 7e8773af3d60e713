// Package dashfake is a local world for the web dashboard: an OpenID Connect
// provider doing authorization code + PKCE (internal/testoidc), the test STS
// that verifies ID tokens against its JWKS (internal/teststs), kumo for SSM
// and CloudWatch Logs, awsfake for ECS and CodeBuild, a
// CORS gateway in front of them that checks every call against the caller's
// app, and a static server for web/dist with the dashboard's security
// headers. The end-to-end test (web/e2e) and `make sandbox-dashboard` both
// use it.
package dashfake

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/sivchari/kumo"

	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/wharf-paas/wharf/constructs/dashboard/csp"
	"github.com/wharf-paas/wharf/controlplane/awsfake"
	"github.com/wharf-paas/wharf/internal/testoidc"
	"github.com/wharf-paas/wharf/internal/teststs"
)

// Names of the world.
const (
	Prefix   = "wharf"
	Account  = awsfake.DefaultAccount
	Region   = awsfake.DefaultRegion
	ClientID = "wharf-dashboard"
	Cluster  = "wharf-main"
)

// App is one app of the world and who may use it.
type App struct {
	Name  string
	Users []string
}

// World is everything the dashboard talks to.
type World struct {
	OIDC    *testoidc.Provider
	STS     *teststs.Server
	Kumo    *kumo.Server
	Fake    *awsfake.Server
	Gateway *Gateway
	// AWS is the browser's AWS endpoint (the gateway).
	AWS *httptest.Server
	// Site serves the dashboard.
	Site *httptest.Server
	// Control lets a test script drive the world over HTTP (see Handler).
	Control *httptest.Server

	Apps     []App
	Platform map[string]any
	SSM      *ssm.Client
	Logs     *cloudwatchlogs.Client
	ECS      *ecs.Client
}

func appNames(app string) AppNames {
	base := "/" + Prefix + "/apps/" + app
	return AppNames{
		ConfigPrefix:    base + "/config/",
		StatusParameter: base + "/status",
		LogGroups:       []string{base, base + "/deploys", base + "/activity"},
		ServicePrefix:   Prefix + "-" + app + "_",
		Cluster:         Cluster,
		Project:         Prefix + "-" + app,
	}
}

// RoleARN is the user role of an app.
func RoleARN(app string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s-app-%s-user", Account, Prefix, app)
}

// Password is every user's password at the world's OIDC provider.
const Password = "wharf-sandbox"

// New starts the world and serves the built site in dist (web/dist; ""
// serves no site files, only /platform.json).
func New(dist string, apps []App) (*World, error) {
	if dist != "" {
		if _, err := os.Stat(filepath.Join(dist, "index.html")); err != nil {
			return nil, fmt.Errorf("dashboard not built (run npm ci && npm run build in web/): %w", err)
		}
	}
	w := &World{Kumo: kumo.NewServer(), Fake: awsfake.New(), Apps: apps}
	// The site first: the provider must know its callback address.
	w.Site = httptest.NewServer(w.siteHandler(dist))
	seen := map[string]bool{}
	var users []testoidc.User
	for _, a := range apps {
		for _, u := range a.Users {
			if !seen[u] {
				seen[u] = true
				users = append(users, testoidc.User{ID: u, Email: u, Password: Password})
			}
		}
	}
	o, err := testoidc.Start(testoidc.Options{Users: users, Clients: []testoidc.Client{{ID: ClientID, RedirectURIs: []string{w.Site.URL + "/callback"}}}})
	if err != nil {
		w.Site.Close()
		return nil, err
	}
	w.OIDC = o
	w.STS = teststs.New()
	w.STS.AddProvider(teststs.Provider{ARN: ProviderARN(o.Issuer), IssuerURL: o.Issuer, ClientIDs: []string{ClientID}, HTTPClient: o.HTTPClient()})
	names := map[string]AppNames{}
	roles := map[string]string{}
	for _, a := range apps {
		allowed := a.Users
		w.STS.AddRole(teststs.Role{ARN: RoleARN(a.Name), Trust: trustPolicy(ProviderARN(o.Issuer), allowed)})
		names[a.Name] = appNames(a.Name)
		roles[RoleARN(a.Name)] = a.Name
	}
	w.Gateway, err = NewGateway(w.STS, roles, w.Kumo.URL, w.Fake.URL, names)
	if err != nil {
		return nil, err
	}
	w.AWS = httptest.NewServer(w.Gateway)
	cfg := aws.Config{Region: Region, Credentials: credentials.NewStaticCredentialsProvider("AKIDADMIN", "secret", "")}
	w.SSM = ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(w.Kumo.URL) })
	w.Logs = cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(w.Kumo.URL) })
	w.ECS = ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = aws.String(w.Fake.URL) })

	var papps []map[string]any
	for _, a := range apps {
		n := appNames(a.Name)
		papps = append(papps, map[string]any{
			"name": a.Name, "accountId": Account, "region": Region, "cluster": "main",
			"url":         "https://" + a.Name + ".apps.example.com",
			"userRoleArn": RoleARN(a.Name), "logGroup": n.LogGroups[0], "deployLogGroup": n.LogGroups[1], "activityLogGroup": n.LogGroups[2],
			"statusParameter": n.StatusParameter, "configPrefix": n.ConfigPrefix, "codebuildProject": n.Project, "ecsCluster": Cluster,
		})
	}
	w.Platform = map[string]any{
		"version": 1, "prefix": Prefix, "issuer": o.Issuer, "clientId": "wharf-cli", "dashboardClientId": ClientID,
		"region": Region, "accountId": Account, "apps": papps,
		"endpoints": map[string]string{"sts": w.STS.URL, "ssm": w.AWS.URL, "logs": w.AWS.URL, "ecs": w.AWS.URL, "codebuild": w.AWS.URL},
	}
	w.Control = httptest.NewServer(w.controlHandler())
	if err := w.setup(context.Background()); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// ProviderARN is the IAM OIDC provider of an issuer (its URL without the scheme).
func ProviderARN(issuer string) string {
	return fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", Account, strings.TrimPrefix(strings.TrimPrefix(issuer, "https://"), "http://"))
}

// trustPolicy mirrors the user role's trust conditions (docs/security.md):
// the token comes from the provider, StringEquals <issuer>:aud on the
// dashboard's client ID and StringEqualsIgnoreCase <issuer>:email on the
// allowed users.
func trustPolicy(provider string, allowed []string) teststs.TrustPolicy {
	return teststs.TrustFunc(func(p string, claims map[string][]string) (bool, string, error) {
		if p != provider {
			return false, "untrusted provider", nil
		}
		if !slices.Contains(claims["aud"], ClientID) {
			return false, "aud is not a Wharf client", nil
		}
		for _, e := range claims["email"] {
			for _, a := range allowed {
				if strings.EqualFold(e, a) {
					return true, "", nil
				}
			}
		}
		return false, "email is not an allowed user", nil
	})
}

// Close stops every server.
func (w *World) Close() {
	for _, s := range []*httptest.Server{w.Site, w.AWS, w.Control} {
		if s != nil {
			s.Close()
		}
	}
	if w.OIDC != nil {
		w.OIDC.Close()
	}
	if w.STS != nil {
		w.STS.Close()
	}
	w.Kumo.Close()
	w.Fake.Close()
}

// CSP is the policy the site is served with: the construct's, with the
// local issuer and gateway in connect-src.
func (w *World) CSP() string {
	iss, _ := csp.Origin(w.OIDC.Issuer)
	gw, _ := csp.Origin(w.AWS.URL)
	sts, _ := csp.Origin(w.STS.URL)
	return csp.Policy([]string{iss, sts, gw})
}

func (w *World) siteHandler(dist string) http.Handler {
	files := http.FileServer(http.Dir(dist))
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h := rw.Header()
		h.Set("Content-Security-Policy", w.CSP())
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		if r.URL.Path == "/platform.json" {
			h.Set("Content-Type", "application/json")
			h.Set("Cache-Control", "no-cache")
			_ = json.NewEncoder(rw).Encode(w.Platform)
			return
		}
		// SPA routing, as the construct's CloudFront Function does: a path
		// without a file extension is the app's index.html.
		if path.Ext(r.URL.Path) == "" {
			http.ServeFile(rw, r, filepath.Join(dist, "index.html"))
			return
		}
		files.ServeHTTP(rw, r)
	})
}

// --- seeding and driving ---

func (w *World) putStatus(ctx context.Context, app string, st map[string]any) error {
	st["version"] = 1
	st["app"] = app
	st["updatedAt"] = time.Now().UTC().Format(time.RFC3339)
	b, _ := json.Marshal(st)
	_, err := w.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(appNames(app).StatusParameter), Value: aws.String(string(b)),
		Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)})
	return err
}

// Activity writes one activity event (the control plane's format) to the build's stream.
func (w *World) Activity(ctx context.Context, app string, ev map[string]any) error {
	ev["app"] = app
	if _, ok := ev["time"]; !ok {
		ev["time"] = time.Now().UTC().Format(time.RFC3339Nano)
	}
	b, _ := json.Marshal(ev)
	return w.putLog(ctx, appNames(app).LogGroups[2], fmt.Sprintf("build-%d", ev["build"]), string(b), time.Now())
}

func (w *World) putLog(ctx context.Context, group, stream, msg string, at time.Time) error {
	_, _ = w.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)})
	_, _ = w.Logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)})
	_, err := w.Logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
		LogEvents: []cwltypes.InputLogEvent{{Message: aws.String(msg), Timestamp: aws.Int64(at.UnixMilli())}}})
	return err
}

// Log writes a container log line of a process.
func (w *World) Log(ctx context.Context, app, proc, msg string) error {
	return w.putLog(ctx, appNames(app).LogGroups[0], proc+"/app/0a1b2c3d4e5f", msg, time.Now())
}

// SetConfig writes a config var as the CLI would.
func (w *World) SetConfig(ctx context.Context, app, name, value string) error {
	_, err := w.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(appNames(app).ConfigPrefix + name), Value: aws.String(value),
		Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true)})
	return err
}

// Config reads a config var ("", false when absent).
func (w *World) Config(ctx context.Context, app, name string) (string, bool) {
	out, err := w.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(appNames(app).ConfigPrefix + name), WithDecryption: aws.Bool(true)})
	if err != nil {
		return "", false
	}
	return aws.ToString(out.Parameter.Value), true
}

func (w *World) putBuild(app string, n int64, status cbtypes.StatusType, phase, commit string, start time.Time) {
	end := time.Time{}
	if status != cbtypes.StatusTypeInProgress {
		end = start.Add(3 * time.Minute)
	}
	w.Fake.PutBuild(awsfake.Build{ID: fmt.Sprintf("%s-%s:%08d-0000-4000-8000-000000000000", Prefix, app, n), Number: n, Status: status, Phase: phase,
		SourceVersion: "main", ResolvedSourceVersion: commit, Start: start, End: end,
		LogGroup: appNames(app).LogGroups[1], LogStream: fmt.Sprintf("%08d-0000-4000-8000-000000000000", n)})
}

func (w *World) buildLog(ctx context.Context, app string, n int64, lines ...string) error {
	for _, l := range lines {
		if err := w.putLog(ctx, appNames(app).LogGroups[1], fmt.Sprintf("%08d-0000-4000-8000-000000000000", n), l, time.Now()); err != nil {
			return err
		}
	}
	return nil
}

func commitOf(n int64) string { return fmt.Sprintf("%07x%033x", 0xabc0000+n, n) }

// setup seeds the first app with history (two deploys, one failed
// release), services and tasks; the other apps are left as they are.
func (w *World) setup(ctx context.Context) error {
	w.Fake.AddCluster(Cluster)
	if len(w.Apps) == 0 {
		return nil
	}
	app := w.Apps[0].Name
	t0 := time.Now().Add(-2 * time.Hour)
	hist := []struct {
		n      int64
		failed bool
	}{{40, false}, {41, true}, {42, false}}
	for i, h := range hist {
		at := t0.Add(time.Duration(i) * 20 * time.Minute)
		ts := func(m int) string { return at.Add(time.Duration(m) * time.Minute).UTC().Format(time.RFC3339) }
		c := commitOf(h.n)
		status := cbtypes.StatusTypeSucceeded
		w.putBuild(app, h.n, status, "COMPLETED", c, at)
		if err := w.buildLog(ctx, app, h.n, "[Container] Entering phase BUILD", fmt.Sprintf("Step 1/4 : FROM heroku/builder:24 (build %d)", h.n), "Running tests: 128 passed", "[Container] Phase complete: POST_BUILD State: SUCCEEDED"); err != nil {
			return err
		}
		evs := []map[string]any{
			{"time": ts(0), "build": h.n, "commit": c, "kind": "build", "event": "phase", "phase": "building"},
			{"time": ts(4), "build": h.n, "commit": c, "kind": "build", "event": "phase", "phase": "releasing"},
		}
		if h.failed {
			evs = append(evs, map[string]any{"time": ts(5), "build": h.n, "commit": c, "kind": "build", "event": "deploy", "phase": "failed", "outcome": "failed",
				"reason": "ReleaseFailed", "detail": "release task exited with code 1: relation \"users\" already exists"})
		} else {
			evs = append(evs,
				map[string]any{"time": ts(5), "build": h.n, "commit": c, "kind": "build", "event": "phase", "phase": "deploying"},
				map[string]any{"time": ts(7), "build": h.n, "commit": c, "kind": "build", "event": "deploy", "phase": "deployed", "outcome": "deployed"})
		}
		for _, e := range evs {
			if err := w.Activity(ctx, app, e); err != nil {
				return err
			}
		}
	}
	deployedAt := t0.Add(47 * time.Minute).UTC().Format(time.RFC3339)
	if err := w.putStatus(ctx, app, map[string]any{"phase": "deployed", "build": 42, "commit": commitOf(42),
		"deployed":  map[string]any{"build": 42, "commit": commitOf(42), "at": deployedAt},
		"processes": map[string]any{"web": map[string]any{"desired": 2}, "worker": map[string]any{"desired": 1}}}); err != nil {
		return err
	}
	for k, v := range map[string]string{"DATABASE_URL": "postgres://api@db.internal:5432/api", "SECRET_KEY": "s3cr3t-value-do-not-show", "LOG_LEVEL": "info"} {
		if err := w.SetConfig(ctx, app, k, v); err != nil {
			return err
		}
	}
	for _, l := range []struct{ proc, msg string }{
		{"web", "GET /health 200 1.2ms"}, {"worker", "job sent_welcome_email done in 41ms"}, {"web", "GET /api/orders 200 18.0ms"},
	} {
		if err := w.Log(ctx, app, l.proc, l.msg); err != nil {
			return err
		}
	}
	return w.seedECS(ctx, app, map[string]int32{"web": 2, "worker": 1})
}

func (w *World) seedECS(ctx context.Context, app string, procs map[string]int32) error {
	for proc, n := range procs {
		family := Prefix + "-" + app + "_" + proc
		if _, err := w.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("example/app:42")}}}); err != nil {
			return fmt.Errorf("register %s: %w", family, err)
		}
		if _, err := w.ECS.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(Cluster), ServiceName: aws.String(family),
			TaskDefinition: aws.String(family), DesiredCount: aws.Int32(n)}); err != nil {
			return fmt.Errorf("create service %s: %w", family, err)
		}
		out, err := w.ECS.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(Cluster), TaskDefinition: aws.String(family), Count: aws.Int32(n),
			Group: aws.String("service:" + family), Tags: []ecstypes.Tag{{Key: aws.String("wharf:app"), Value: aws.String(app)}, {Key: aws.String("wharf:build"), Value: aws.String("42")}}})
		if err != nil {
			return fmt.Errorf("run %s: %w", family, err)
		}
		for _, t := range out.Tasks {
			if _, err := w.Fake.StartTask(aws.ToString(t.TaskArn)); err != nil {
				return err
			}
		}
	}
	w.Fake.CompleteDeployments()
	return nil
}

// StartBuild begins build n of app: status building, a CodeBuild build in progress.
func (w *World) StartBuild(ctx context.Context, app string, n int64) error {
	c := commitOf(n)
	w.putBuild(app, n, cbtypes.StatusTypeInProgress, "BUILD", c, time.Now())
	if err := w.buildLog(ctx, app, n, "[Container] Entering phase BUILD", fmt.Sprintf("Step 1/4 : FROM heroku/builder:24 (build %d)", n)); err != nil {
		return err
	}
	if err := w.Activity(ctx, app, map[string]any{"build": n, "commit": c, "kind": "build", "event": "phase", "phase": "building"}); err != nil {
		return err
	}
	return w.setPhase(ctx, app, n, "building", nil)
}

func (w *World) setPhase(ctx context.Context, app string, n int64, phase string, extra map[string]any) error {
	cur, err := w.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(appNames(app).StatusParameter)})
	st := map[string]any{}
	if err == nil {
		_ = json.Unmarshal([]byte(aws.ToString(cur.Parameter.Value)), &st)
	}
	st["phase"] = phase
	st["build"] = n
	st["commit"] = commitOf(n)
	delete(st, "reason")
	delete(st, "detail")
	delete(st, "op")
	if phase != "deployed" && phase != "failed" {
		st["op"] = map[string]any{"kind": "build", "build": n, "since": time.Now().UTC().Format(time.RFC3339), "started": time.Now().UTC().Format(time.RFC3339)}
	}
	for k, v := range extra {
		st[k] = v
	}
	return w.putStatus(ctx, app, st)
}

// Advance moves build n of app to phase (releasing, deploying, deployed,
// failed); a failure carries reason and detail.
func (w *World) Advance(ctx context.Context, app string, n int64, phase, reason, detail string) error {
	c := commitOf(n)
	ev := map[string]any{"build": n, "commit": c, "kind": "build", "event": "phase", "phase": phase}
	var extra map[string]any
	switch phase {
	case "releasing":
		w.putBuild(app, n, cbtypes.StatusTypeSucceeded, "COMPLETED", c, time.Now().Add(-3*time.Minute))
		if err := w.buildLog(ctx, app, n, "Running tests: 128 passed", "[Container] Phase complete: POST_BUILD State: SUCCEEDED"); err != nil {
			return err
		}
	case "deployed":
		ev["event"], ev["outcome"] = "deploy", "deployed"
		extra = map[string]any{"deployed": map[string]any{"build": n, "commit": c, "at": time.Now().UTC().Format(time.RFC3339)}}
	case "failed":
		ev["event"], ev["outcome"], ev["reason"], ev["detail"] = "deploy", "failed", reason, detail
		extra = map[string]any{"reason": reason, "detail": detail}
	}
	if err := w.Activity(ctx, app, ev); err != nil {
		return err
	}
	return w.setPhase(ctx, app, n, phase, extra)
}

// controlHandler serves the test script's requests:
//
//	POST /build/start?app=&build=          StartBuild
//	POST /build/advance?app=&build=&phase=&reason=&detail=
//	POST /log?app=&proc=&msg=              Log
//	GET  /config?app=&name=                Config (404 when absent)
//	GET  /calls                            the gateway's calls
//	GET  /denied                           STS refusals by role ARN
func (w *World) controlHandler() http.Handler {
	mux := http.NewServeMux()
	fail := func(rw http.ResponseWriter, err error) { http.Error(rw, err.Error(), http.StatusInternalServerError) }
	build := func(r *http.Request) int64 { n, _ := strconv.ParseInt(r.URL.Query().Get("build"), 10, 64); return n }
	mux.HandleFunc("POST /build/start", func(rw http.ResponseWriter, r *http.Request) {
		if err := w.StartBuild(r.Context(), r.URL.Query().Get("app"), build(r)); err != nil {
			fail(rw, err)
		}
	})
	mux.HandleFunc("POST /build/advance", func(rw http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if err := w.Advance(r.Context(), q.Get("app"), build(r), q.Get("phase"), q.Get("reason"), q.Get("detail")); err != nil {
			fail(rw, err)
		}
	})
	mux.HandleFunc("POST /log", func(rw http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if err := w.Log(r.Context(), q.Get("app"), q.Get("proc"), q.Get("msg")); err != nil {
			fail(rw, err)
		}
	})
	mux.HandleFunc("GET /config", func(rw http.ResponseWriter, r *http.Request) {
		v, ok := w.Config(r.Context(), r.URL.Query().Get("app"), r.URL.Query().Get("name"))
		if !ok {
			http.NotFound(rw, r)
			return
		}
		_, _ = rw.Write([]byte(v))
	})
	mux.HandleFunc("GET /calls", func(rw http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(rw).Encode(w.Gateway.Calls())
	})
	mux.HandleFunc("GET /denied", func(rw http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(rw).Encode(w.Denied())
	})
	return mux
}

// Denied counts the AssumeRoleWithWebIdentity calls STS refused, by role ARN.
func (w *World) Denied() map[string]int {
	out := map[string]int{}
	for _, c := range w.STS.Calls() {
		if c.ErrorCode == "AccessDenied" {
			out[c.RoleARN]++
		}
	}
	return out
}

// Env is what the browser script needs, as environment variables.
func (w *World) Env() []string {
	return []string{"WHARF_SITE=" + w.Site.URL, "WHARF_CONTROL=" + w.Control.URL, "WHARF_ISSUER=" + w.OIDC.Issuer, "WHARF_PASSWORD=" + Password, "WHARF_AWS=" + w.AWS.URL,
		"WHARF_APPS=" + strings.Join(func() []string {
			var s []string
			for _, a := range w.Apps {
				s = append(s, a.Name)
			}
			return s
		}(), ",")}
}
