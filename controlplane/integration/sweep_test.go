package integration_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"

	"github.com/wharf-paas/wharf/controlplane"
	"github.com/wharf-paas/wharf/controlplane/awsfake"
	"github.com/wharf-paas/wharf/controlplane/integration"
)

// TestSweepFindsBuildWhoseEventsWereLost: every event of build 2 is lost
// (they went to the dead-letter queue); the sweep lists the project's
// builds, finds it and deploys it. An idle sweep with nothing new makes no
// write, not even to DynamoDB.
func TestSweepFindsBuildWhoseEventsWereLost(t *testing.T) {
	now := time.Now()
	w := newWorldTB(t, func(o *controlplane.Options) { o.Now = func() time.Time { return now } })
	seq := 0
	sweep := func() {
		t.Helper()
		seq++
		w.must(w.cp.Handle(w.ctx, events.CloudWatchEvent{ID: fmt.Sprintf("sweep-%d", seq), Source: "aws.events",
			DetailType: "Scheduled Event", AccountID: integration.Account, Region: integration.Region, Time: now, Detail: []byte("{}")}))
	}
	w.must(w.drv.Deploy(w.ctx, w.app.Metadata(1, "", "web")))
	w.wantPhase(controlplane.PhaseDeployed, 1)

	// Nothing new: one listing, no BatchGetBuilds, no write at all.
	w.env.Log.Reset()
	w.env.Fake.ResetCalls()
	sweep()
	var ops []string
	for _, c := range w.env.Log.Calls() {
		ops = append(ops, c.Service+"."+c.Op)
	}
	t.Logf("idle sweep of one app: %d calls: %s", len(ops), strings.Join(ops, " "))
	if writes := w.env.Log.Writes(); len(writes) != 0 {
		t.Errorf("idle sweep wrote: %+v", writes)
	}
	if n := w.env.Log.Count("codebuild", "ListBuildsForProject"); n != 1 {
		t.Errorf("%d ListBuildsForProject, want 1", n)
	}
	if n := w.env.Log.Count("codebuild", "BatchGetBuilds"); n != 0 {
		t.Errorf("%d BatchGetBuilds with nothing new, want 0", n)
	}
	lists := w.env.Fake.CallsTo("ListBuildsForProject")
	if len(lists) != 1 {
		t.Fatalf("awsfake saw %d ListBuildsForProject", len(lists))
	}
	if in := lists[0].Input.(*codebuild.ListBuildsForProjectInput); aws.ToString(in.ProjectName) != "wharf-"+w.app.Name ||
		in.SortOrder != cbtypes.SortOrderTypeDescending || in.NextToken != nil {
		t.Errorf("ListBuildsForProject input %+v", in)
	}

	// Build 2 runs and succeeds; none of its events arrive.
	m2 := w.app.Metadata(2, "bin/migrate", "web", "worker")
	w.must(w.env.FinishBuild(w.app, m2, cbtypes.StatusTypeSucceeded))
	w.env.Fake.ResetCalls()
	sweep()
	w.wantPhase(controlplane.PhaseReleasing, 2)
	gets := w.env.Fake.CallsTo("BatchGetBuilds")
	if len(gets) != 1 || strings.Join(gets[0].Input.(*codebuild.BatchGetBuildsInput).Ids, ",") != w.app.BuildID(2) {
		t.Fatalf("BatchGetBuilds calls %+v, want one for build 2", gets)
	}
	if n := len(w.drv.ReleaseTasks(2)); n != 1 {
		t.Fatalf("%d release tasks for build 2", n)
	}
	// The release's and the rollout's events are lost too: the sweep
	// re-observes the app once its step is older than StuckAfter.
	arn := aws.ToString(w.drv.ReleaseTasks(2)[0].TaskArn)
	if _, err := w.env.Fake.StartTask(arn); err != nil {
		t.Fatal(err)
	}
	if _, err := w.env.Fake.FinishTaskWith(arn, awsfake.TaskOutcome{}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(controlplane.DefaultStuckAfter + time.Minute)
	sweep()
	w.wantPhase(controlplane.PhaseDeploying, 2)
	w.env.Fake.CompleteDeployments()
	now = now.Add(controlplane.DefaultStuckAfter + time.Minute)
	sweep()
	w.wantPhase(controlplane.PhaseDeployed, 2)
	// web moves to its second revision; worker is new with build 2.
	for proc, rev := range map[string]int{"web": 2, "worker": 1} {
		svc, ok := w.env.Fake.Service(w.env.ClusterARN, w.name(proc))
		if !ok || aws.ToString(svc.Status) != awsfake.StatusActive || !strings.HasSuffix(aws.ToString(svc.TaskDefinition), fmt.Sprintf("/%s:%d", w.name(proc), rev)) {
			t.Errorf("%s: %s runs %s", proc, aws.ToString(svc.Status), aws.ToString(svc.TaskDefinition))
		}
	}
	// Its events arriving late now change nothing.
	w.env.Fake.ResetCalls()
	ev, err := w.env.BuildEvent(w.app, 2, "SUCCEEDED")
	w.must(err)
	w.must(w.drv.Redeliver(w.ctx, ev))
	if n := len(w.env.Fake.Calls()); n != 0 {
		t.Errorf("late event of a build the sweep found: %d calls to ECS/CodeBuild/S3", n)
	}
}
