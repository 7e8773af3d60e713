package iam

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"

	"github.com/wharf-paas/wharf/controlplane"
	"github.com/wharf-paas/wharf/controlplane/integration"
	"github.com/wharf-paas/wharf/internal/iampolicy"
)

var integrationNaming = naming{cluster: integration.Cluster, bucket: func(_, app string) string { return "wharf-" + app + "-artifacts" }}

var wireServices = map[string]string{"ecs": "ecs", "codebuild": "codebuild", "ssm": "ssm", "events": "events", "s3": "s3", "logs": "logs"}

// recordIntegration runs the real control plane with the real SDK clients
// against the integration fixture (kumo and awsfake over HTTP) through a
// deploy with a release and a schedule, a second deploy that drops a
// process and the schedule, a release that times out (the control plane
// stops its task) while a newer build arrives, a config change and a
// sweep; then it maps
// every request the control plane sent, as seen on the wire by the
// fixture's CallLog.
func recordIntegration(t *testing.T) *recorded {
	t.Helper()
	ctx := context.Background()
	env, err := integration.NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	app, err := env.AddApp(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(env.PutConfig(ctx, app, "DATABASE_URL", "postgres://db/api"))
	const table = "wharf-controlplane-iam"
	must(env.CreateTable(ctx, table))
	provider, err := env.Provider()
	must(err)
	// A short release timeout lets build 3's release time out (and be
	// stopped) while build 4 arrives.
	cp, err := controlplane.New(controlplane.Options{Registry: env.Registry, Store: env.Store(table), Clients: provider, Now: time.Now,
		ReleaseTimeout: 2 * time.Second, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	must(err)
	drv := &integration.Driver{Env: env, App: app, Deliver: func(ctx context.Context, ev integration.Event) error {
		return cp.Handle(ctx, ev.CloudWatch())
	}}
	env.Log.Reset()

	m1 := app.Metadata(1, "bin/migrate", "web", "worker")
	m1.Schedules = []integration.Schedule{{Name: "nightly", Schedule: "cron(0 3 * * ? *)", Command: "bin/nightly"}}
	must(drv.Deploy(ctx, m1))
	must(drv.Deploy(ctx, app.Metadata(2, "", "web")))
	// Build 3's release runs past its timeout; build 4 arrives.
	m3 := app.Metadata(3, "bin/migrate", "web")
	must(drv.StartBuild(ctx, m3))
	must(drv.EndBuild(ctx, m3, cbtypes.StatusTypeSucceeded))
	time.Sleep(2500 * time.Millisecond)
	m4 := app.Metadata(4, "bin/migrate", "web")
	must(drv.StartBuild(ctx, m4))
	must(drv.EndBuild(ctx, m4, cbtypes.StatusTypeSucceeded))
	// Config change, then a sweep.
	must(env.PutConfig(ctx, app, "SECRET_KEY", "s3cr3t"))
	ev, err := env.Samples.ParameterChange(integration.Account, integration.Region, app.Settings.ConfigPrefix+"SECRET_KEY", "Update", "SecureString")
	must(err)
	must(cp.Handle(ctx, ev.CloudWatch()))
	must(cp.Handle(ctx, events.CloudWatchEvent{ID: "sweep-iam", Source: "aws.events", DetailType: "Scheduled Event",
		AccountID: integration.Account, Region: integration.Region, Time: time.Now(), Detail: []byte("{}")}))

	rec := newRecorded()
	m := NewMapper()
	for _, c := range env.Log.Calls() {
		if c.Service == "dynamodb" {
			continue // the control plane's own table, under its own role
		}
		if c.Service == "sts" {
			rec.calls["sts:"+c.Op]++
			role := c.Form.Get("RoleArn")
			ext := c.Form.Get("ExternalId")
			if strings.HasSuffix(role, "-account-observer") {
				// The fixture's observer external ID is its own
				// (integration.ObserverID); the synthesized Account
				// carries the simulator's. Only the management trust is
				// checked here.
				continue
			}
			rec.assumes[role] = append(rec.assumes[role], iampolicy.AssumeRoleRequest(controlPlaneSession, ext, nil))
			continue
		}
		svc, ok := wireServices[c.Service]
		if !ok {
			t.Fatalf("call to unknown service %s.%s", c.Service, c.Op)
		}
		if c.Role == "" {
			// Signed with the base credentials: the fixture seeding the
			// world (PutConfig), not the control plane, whose calls to an
			// app's resources all go through the app's role.
			continue
		}
		rec.calls[c.Service+":"+c.Op]++
		call := Call{Service: svc, Op: c.Op, Role: c.Role, Account: integration.Account, Region: integration.Region}
		if svc == "s3" {
			// Path style: /<bucket>/<key>.
			bucket, key, _ := strings.Cut(strings.TrimPrefix(c.Path, "/"), "/")
			if key == "" {
				t.Fatalf("S3 %s %s: no bucket/key in the path", c.Op, c.Path)
			}
			call.Input = map[string]any{"Bucket": bucket, "Key": key}
		} else {
			if err := json.Unmarshal(c.Body, &call.Input); err != nil {
				t.Fatalf("%s:%s body: %v", c.Service, c.Op, err)
			}
			if len(c.Response) > 0 {
				_ = json.Unmarshal(c.Response, &call.Output)
			}
		}
		reqs, err := m.Requests(call)
		if err != nil {
			t.Fatal(err)
		}
		rec.requests = append(rec.requests, reqs...)
	}
	if rec.calls["ecs:StopTask"] == 0 {
		t.Fatalf("the scenario stopped no release task: calls %v", rec.calls)
	}
	return rec
}
