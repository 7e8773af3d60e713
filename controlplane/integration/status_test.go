package integration_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/controlplane"
	"github.com/wharf-paas/wharf/controlplane/awsfake"
)

// TestStatusPublishing: after each committed transition the status
// parameter holds StatusOf(state) and the build's activity stream gets the
// transition's events; a redelivered event writes nothing; a status that
// drifted (written by someone else, or lost) is repaired by the next sweep.
func TestStatusPublishing(t *testing.T) {
	w := newWorld(t)
	name := contract.Names{Prefix: "wharf"}.StatusParameter(w.app.Name)
	status := func() contract.AppStatus {
		t.Helper()
		out, err := w.env.SSM.GetParameter(w.ctx, &ssm.GetParameterInput{Name: aws.String(name)})
		w.must(err)
		var s contract.AppStatus
		w.must(json.Unmarshal([]byte(aws.ToString(out.Parameter.Value)), &s))
		return s
	}
	wantPublished := func() {
		t.Helper()
		got, _ := json.Marshal(status())
		want, _ := json.Marshal(controlplane.StatusOf(w.state()))
		if string(got) != string(want) {
			t.Fatalf("published %s\nstate     %s", got, want)
		}
	}
	m := w.app.Metadata(1, "bin/migrate", "web")
	w.must(w.drv.StartBuild(w.ctx, m))
	wantPublished()
	if s := status(); s.Phase != "building" || s.Build != 1 || s.Commit != m.Commit {
		t.Errorf("after the build started: %+v", s)
	}
	w.must(w.drv.EndBuild(w.ctx, m, cbtypes.StatusTypeSucceeded))
	wantPublished()
	if s := status(); s.Phase != "releasing" || s.Op == nil || s.Op.Step != "release" {
		t.Errorf("releasing: %+v", s)
	}
	w.must(w.drv.FinishRelease(w.ctx, 1, awsfake.TaskOutcome{}))
	_, err := w.drv.CompleteDeployments(w.ctx)
	w.must(err)
	wantPublished()
	s := status()
	if s.Phase != "deployed" || s.Deployed == nil || s.Deployed.Build != 1 || s.Processes["web"].Desired == 0 || s.Op != nil {
		t.Errorf("deployed: %+v", s)
	}

	// The activity stream of build 1 tells the deploy's timeline.
	out, err := w.env.Logs.GetLogEvents(w.ctx, &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: aws.String(w.app.Settings.LogGroup + "/activity"), LogStreamName: aws.String("build-1"), StartFromHead: aws.Bool(true)})
	w.must(err)
	var timeline []string
	for _, e := range out.Events {
		var ev contract.ActivityEvent
		w.must(json.Unmarshal([]byte(aws.ToString(e.Message)), &ev))
		timeline = append(timeline, ev.Event+":"+ev.Phase+ev.Step+ev.Outcome)
	}
	got := strings.Join(timeline, " ")
	for _, want := range []string{"phase:building", "phase:releasing", "step:release", "phase:deployed", "deploy:deployed"} {
		if !strings.Contains(got, want) {
			t.Errorf("activity of build 1 lacks %s: %s", want, got)
		}
	}
	if last := timeline[len(timeline)-1]; last != "deploy:deployed" {
		t.Errorf("last event %s, want the deploy", last)
	}

	// A redelivered event changes nothing and writes nothing.
	ev, err := w.env.BuildEvent(w.app, 1, "SUCCEEDED")
	w.must(err)
	w.env.Log.Reset()
	w.must(w.drv.Redeliver(w.ctx, ev))
	for _, c := range w.env.Log.Calls() {
		if c.Service == "ssm" && c.Op == "PutParameter" || c.Service == "logs" {
			t.Errorf("a redelivered event published: %s.%s", c.Service, c.Op)
		}
	}

	// Drift: the parameter is overwritten; the next sweep puts it back.
	_, err = w.env.SSM.PutParameter(w.ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(`{"version":1,"phase":"failed"}`),
		Type: "String", Overwrite: aws.Bool(true)})
	w.must(err)
	w.must(w.cp.Handle(w.ctx, sweepEvent(99, time.Now())))
	wantPublished()
}
