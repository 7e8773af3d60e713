package controlplane

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/wharf-paas/wharf/contract"
)

// maxServicePages bounds ListServices pages (100 services each) when the
// control plane looks for an app's services in its cluster.
const maxServicePages = 100

// adoptAction is what the first deploy of an app does once its services
// have been looked at.
type adoptAction int

const (
	// adoptNone: the app runs no service; deploy as usual.
	adoptNone adoptAction = iota
	// adoptWait: a service is mid-deployment (or draining); look again
	// at the next reconcile, deploy nothing now.
	adoptWait
	// adoptDone: the adoption is recorded in the state; nothing deploys.
	adoptDone
	// adoptDeploy: deploy the build (without its release when adopt
	// says so).
	adoptDeploy
)

// runningService is one of the app's services as ECS runs it.
type runningService struct {
	taskDef, image, configVersion string
	build                         int64
}

// adopt runs before the first deploy this store starts for the app (no
// build ever started, nothing deployed): when the state was lost (a new or
// emptied table, a control plane moved to another account), the app's
// services may already run, and deploying the newest build again would
// re-run its release command and roll every service.
//
// It first lists the app's release tasks ECS still knows (running, or
// stopped within about an hour): one of a newer build means the build is
// a late event of an older one, which is skipped (adoptDone); one of
// another build still running is waited for (adoptWait; past
// ReleaseTimeout ECS is asked to stop it), one release per app at a time.
// Then it lists the app's services in its cluster (ListServices, paginated,
// then DescribeServices); with none, the build deploys as usual
// (adoptNone). Otherwise, once every service's deployment has settled
// (adoptWait until then, for at most RolloutTimeout from when the build was
// first heard of), it reads the task definitions they run
// (DescribeTaskDefinition: image, build number, config version) and:
//
//  1. the build's deployment failed on a service (nothing to roll back
//     to): the build is recorded as failed, nothing deploys (adoptDone);
//  2. every service runs the build's image, one per declared process: the
//     build is recorded as deployed, without any AWS write (adoptDone);
//  3. a service runs a newer build (a late event of an older one): the
//     build is recorded as skipped and forgotten, nothing else changes; the
//     sweep's listing finds the newer build (adoptDone);
//  4. some services run the build's image: its deploy goes on without the
//     release, which succeeded before any service could move to the build
//     (adoptDeploy, skipRelease);
//  5. the build's release task exists: its deploy goes on and waits for
//     that task, which is never started again (adoptDeploy);
//  6. a build event named the build (most likely one pushed since the state
//     was lost): it deploys once the sweep's listing has looked at the
//     project's builds, so the newest successful build is the one decided
//     on (adoptWait until then, at most 2×StuckAfter) (adoptDeploy);
//  7. the sweep's listing alone found it: nothing deploys; its number
//     becomes the high-water mark, so the next build deploys as usual
//     (adoptDone).
//
// Outcomes 1, 2 and 4–7 set AppState.Adopted (with the task definitions
// and counts the services ran, which a failed deploy with nothing deployed
// before rolls back to) and make the running process types
// AppState.Services (a later deploy deletes those it no longer declares),
// and log a warning.
func (d *decider) adopt(b TrackedBuild, meta *contract.BuildMetadata) (adoptAction, bool) {
	st := d.st
	set, perr, ok := d.settings()
	if !ok {
		return adoptWait, false
	}
	if perr != nil {
		return adoptNone, false // the deploy fails on it as usual
	}
	// Release tasks of the last hour: the state may have been lost
	// mid-release, or after a newer build's release.
	if !d.obs.ReleaseTasksSeen {
		d.need(Need{ReleaseTasks: true})
		return adoptWait, false
	}
	tasks := d.obs.ReleaseTasks
	for _, t := range tasks {
		if n := buildNumberOfRelease(t); n > b.Number {
			// A late event of an older build: a newer one was released.
			detail := fmt.Sprintf("the control plane had no state for the app and build %d, newer than build %d, was released", n, b.Number)
			d.record(d.finalRecord(b, OutcomeSkipped, ReasonSuperseded, detail))
			st.forget(b.ID)
			d.note(slog.LevelWarn, "not deploying an older build than one already released", "build", b.Number, "build_id", b.ID, "reason", detail)
			return adoptDone, false
		}
	}
	for _, t := range tasks {
		if aws.ToString(t.StartedBy) == ReleaseStartedBy(b.Number) || aws.ToString(t.LastStatus) == "STOPPED" {
			continue
		}
		// One release per app at a time: wait for the other build's to
		// stop (past ReleaseTimeout, ask ECS to stop it).
		arn := aws.ToString(t.TaskArn)
		if t.CreatedAt != nil && d.now.Sub(*t.CreatedAt) >= d.pol.ReleaseTimeout && d.pol.CanStopTasks {
			d.act(stopTaskAction(set.ClusterARN, arn, "wharf: release timed out"))
		}
		d.note(slog.LevelInfo, "the control plane has no state for the app and another build's release task runs; deciding once it stops",
			"build", b.Number, "build_id", b.ID, "task", arn)
		d.done = true
		return adoptWait, false
	}
	if !d.obs.AppServicesSeen {
		d.need(Need{AppServices: true})
		return adoptWait, false
	}
	if d.obs.AppServicesErr != "" {
		d.note(slog.LevelWarn, "cannot list the app's services; deploying as if it had none", "error", d.obs.AppServicesErr)
		return adoptNone, false
	}
	procs := d.obs.AppServices
	if len(procs) == 0 {
		return adoptNone, false
	}
	if missing := d.obs.missingServices(procs); len(missing) > 0 {
		d.need(Need{Services: missing})
		return adoptWait, false
	}
	svcs := map[string]*ecstypes.Service{}
	for _, p := range procs {
		if s := d.obs.Services[p]; s != nil {
			svcs[p] = s
		}
	}
	if len(svcs) == 0 {
		return adoptNone, false
	}
	running := sortedKeys(svcs)
	logArgs := []any{"build", b.Number, "build_id", b.ID, "services", strings.Join(running, ",")}
	if d.now.Sub(b.SeenAt) < d.pol.RolloutTimeout {
		for _, proc := range running {
			if !settled(svcs[proc]) {
				d.note(slog.LevelInfo, "the app's services run but are mid-deployment; deciding once they settle", append(logArgs, "process", proc)...)
				d.done = true
				return adoptWait, false
			}
		}
	}
	var tds []string
	for _, proc := range running {
		tds = append(tds, primaryTaskDef(svcs[proc]))
	}
	if missing := unseen(tds, d.obs.Running); len(missing) > 0 {
		d.need(Need{Running: missing})
		return adoptWait, false
	}
	byProc := map[string]*runningService{}
	for _, proc := range running {
		byProc[proc] = d.obs.Running[primaryTaskDef(svcs[proc])]
	}
	var onImage []string
	var newest int64 // the newest build a service runs (WHARF_BUILD_NUMBER)
	for _, proc := range running {
		rs := byProc[proc]
		if rs.image == meta.Image {
			onImage = append(onImage, proc)
		}
		newest = max(newest, rs.build)
	}
	declared := sortedKeys(meta.Processes)
	ad := &Adoption{Build: b.Number, BuildID: b.ID, Services: running, At: d.now,
		TaskDefs: map[string]string{}, Counts: map[string]int32{}}
	var failed []string // services whose deployment of the build failed
	for _, proc := range running {
		ad.TaskDefs[proc], ad.Counts[proc] = byProc[proc].taskDef, svcs[proc].DesiredCount
		if dep := primary(svcs[proc]); dep != nil && dep.RolloutState == ecstypes.DeploymentRolloutStateFailed && byProc[proc].image == meta.Image {
			failed = append(failed, proc)
		}
	}
	services := strings.Join(running, ", ")
	switch {
	case len(failed) > 0:
		// The build's deploy failed (with nothing to roll back to): it
		// is recorded as failed, as it was before the state was lost.
		ad.Outcome = AdoptedNotDeployed
		ad.Detail = fmt.Sprintf("the control plane had no state for the app and build %d's deployment had failed on %s: nothing deployed; the next build deploys",
			b.Number, strings.Join(failed, ", "))
		detail := fmt.Sprintf("service %s deployment failed (found when the control plane took the app over)", d.family(failed[0]))
		d.skipOlder(b.Number, fmt.Sprintf("superseded by build %d", b.Number))
		st.HighWater = b.Number
		st.forget(b.ID)
		d.record(d.finalRecord(b, OutcomeFailed, ReasonDeploymentFailed, detail))
		st.Services, st.Adopted = running, ad
		d.setPhase(PhaseFailed, b.Number, ReasonDeploymentFailed, detail)
		d.note(slog.LevelWarn, "adopted an app whose services already run: the build's deployment had failed, nothing deployed", append(logArgs, "reason", ad.Detail)...)
		return adoptDone, false
	case len(onImage) == len(running) && slices.Equal(running, declared):
		ad.Outcome = AdoptedDeployed
		ad.Detail = fmt.Sprintf("the control plane had no state for the app and its services (%s) already ran build %d's image: recorded as deployed, nothing deployed",
			services, b.Number)
		defs := make(map[string]string, len(running))
		for _, proc := range running {
			defs[proc] = byProc[proc].taskDef
		}
		cfgVersion := byProc[running[0]].configVersion
		d.skipOlder(b.Number, fmt.Sprintf("build %d was adopted as deployed", b.Number))
		st.HighWater = b.Number
		st.forget(b.ID)
		// The services are taken as they run. Which settings they were
		// aligned with is unknown (a settings change may have been lost
		// with the state), so no settings hash is recorded: the next
		// configuration check restarts the build once, which registers
		// nothing and updates no service when every field already
		// matches, and aligns services and schedule targets otherwise.
		st.Deployed = &Deployment{Build: b.Number, BuildID: b.ID, Metadata: meta, ConfigVersion: cfgVersion,
			TaskDefs: defs, At: d.now,
			// The scale the services were aligned with is unknown (a
			// scale change or an autoscaling target may have been left
			// half applied): known once counts and targets match.
			ScaleHash: scaleUnknown}
		rec := d.finalRecord(b, OutcomeDeployed, "", ad.Detail)
		rec.TaskDefinitions, rec.ConfigVersion = defs, cfgVersion
		d.record(rec)
		st.Services, st.Adopted = running, ad
		sc := d.wantedScale(d.obs.Requests)
		aligned, ok := d.scaleAligned(set, sc)
		if !ok {
			return adoptDone, false
		}
		if aligned {
			st.Deployed.ScaleHash, st.Deployed.Scale = scaleHash(sc), sc
		}
		d.setPhase(PhaseDeployed, b.Number, "", "")
		d.note(slog.LevelWarn, "adopted an app whose services already run: build recorded as deployed, nothing deployed", append(logArgs, "reason", ad.Detail)...)
		return adoptDone, false
	case newest > b.Number:
		// A late event of an older build: the services run a newer one,
		// which the sweep's listing will find and adopt.
		detail := fmt.Sprintf("the control plane had no state for the app and its services (%s) ran build %d, newer than build %d", services, newest, b.Number)
		d.record(d.finalRecord(b, OutcomeSkipped, ReasonSuperseded, detail))
		st.forget(b.ID)
		d.note(slog.LevelWarn, "not deploying an older build than the services run", append(logArgs, "reason", detail)...)
		return adoptDone, false
	case len(onImage) > 0:
		ad.Outcome = AdoptedDeploying
		ad.Detail = fmt.Sprintf("the control plane had no state for the app and build %d's image already ran on %s: deploying it to every service without running its release again",
			b.Number, strings.Join(onImage, ", "))
		st.Services, st.Adopted = running, ad
		d.note(slog.LevelWarn, "adopting an app whose services already run: finishing the build's deploy without its release", append(logArgs, "reason", ad.Detail)...)
		return adoptDeploy, true
	}
	if meta.ReleaseCommand != "" {
		// The release tasks listed above: no second listing.
		task := ""
		for _, t := range tasks {
			if aws.ToString(t.StartedBy) == ReleaseStartedBy(b.Number) {
				task = aws.ToString(t.TaskArn)
				break
			}
		}
		if task != "" {
			ad.Outcome = AdoptedDeploying
			ad.Detail = fmt.Sprintf("the control plane had no state for the app, its services (%s) ran another image, and build %d's release task %s exists: its deploy goes on (the task is not started again)",
				services, b.Number, task)
			st.Services, st.Adopted = running, ad
			d.note(slog.LevelWarn, "adopting an app whose services already run: resuming the build's deploy", append(logArgs, "reason", ad.Detail)...)
			return adoptDeploy, false
		}
	}
	if !b.Listed {
		// A build event named it: most likely a build pushed since the
		// state was lost. First let the sweep's listing show the newest
		// builds (an event may be a late one of an older build; the
		// newest successful build is the one to decide on).
		if st.ListedBuild == "" && d.now.Sub(b.SeenAt) < 2*d.pol.StuckAfter {
			d.note(slog.LevelInfo, "the app's services run but the control plane has no state for it; waiting for the sweep to list its builds", logArgs...)
			d.done = true
			return adoptWait, false
		}
		ad.Outcome = AdoptedDeploying
		ad.Detail = fmt.Sprintf("the control plane had no state for the app, its services (%s) ran another image, and a build event named build %d, the newest successful build: deploying it",
			services, b.Number)
		st.Services, st.Adopted = running, ad
		d.note(slog.LevelWarn, "adopting an app whose services already run: deploying the build an event named", append(logArgs, "reason", ad.Detail)...)
		return adoptDeploy, false
	}
	ad.Detail = fmt.Sprintf("the control plane had no state for the app and its services (%s) ran another image than build %d, the newest successful build (found by the sweep's listing, not by an event): nothing deployed; the next build deploys",
		services, b.Number)
	ad.Outcome = AdoptedNotDeployed
	d.skipOlder(b.Number, fmt.Sprintf("build %d was adopted without deploying", b.Number))
	st.HighWater = b.Number
	st.forget(b.ID)
	st.Services, st.Adopted = running, ad
	d.setPhase(PhaseNone, b.Number, "", ad.Detail)
	d.note(slog.LevelWarn, "adopted an app whose services already run: nothing deployed", append(logArgs, "reason", ad.Detail)...)
	return adoptDone, false
}

// settled reports whether a service's deployment has ended: its PRIMARY
// deployment completed or failed (or, without rollout states, is the only
// one and full).
func settled(s *ecstypes.Service) bool {
	if aws.ToString(s.Status) != "ACTIVE" {
		return false
	}
	d := primary(s)
	if d == nil {
		return false
	}
	switch d.RolloutState {
	case ecstypes.DeploymentRolloutStateCompleted, ecstypes.DeploymentRolloutStateFailed:
		return true
	case "":
		return len(s.Deployments) == 1 && d.RunningCount == d.DesiredCount
	}
	return false
}

// listAppServices returns the process types of the app's services in its
// cluster: ListServices (the management role may list the cluster's
// services, names only) filtered on <prefix>-<app>_<proc>.
func (r *run) listAppServices(ctx context.Context, set *contract.Settings) ([]string, error) {
	prefix := FamilyName(r.c.reg.Prefix, r.reg.Name, "")
	in := &ecs.ListServicesInput{Cluster: aws.String(set.ClusterARN), MaxResults: aws.Int32(100)}
	procs := map[string]bool{}
	r.awsTouched = true
	for page := 0; ; page++ {
		if page >= maxServicePages {
			return nil, fmt.Errorf("ecs ListServices %s: more than %d pages", set.ClusterARN, maxServicePages)
		}
		out, err := r.cl.ECS.ListServices(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("ecs ListServices %s: %w", set.ClusterARN, err)
		}
		for _, arn := range out.ServiceArns {
			name := arn[strings.LastIndex(arn, "/")+1:]
			if proc, ok := strings.CutPrefix(name, prefix); ok && contract.ValidateProcessName(proc) == nil {
				procs[proc] = true
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	return sortedKeys(procs), nil
}

// describeRunning reads the image and config version of a task definition
// a service runs; a task definition ECS no longer describes has neither.
func (r *run) describeRunning(ctx context.Context, td string) (*runningService, error) {
	rs := &runningService{taskDef: td}
	r.awsTouched = true
	out, err := r.cl.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(td)})
	if err != nil {
		if apiCode(err) == "ClientException" {
			return rs, nil
		}
		return nil, fmt.Errorf("ecs DescribeTaskDefinition %s: %w", td, err)
	}
	if out.TaskDefinition == nil {
		return rs, nil
	}
	for _, cd := range out.TaskDefinition.ContainerDefinitions {
		if aws.ToString(cd.Name) != contract.ContainerName {
			continue
		}
		rs.image = aws.ToString(cd.Image)
		for _, kv := range cd.Environment {
			switch aws.ToString(kv.Name) {
			case "WHARF_CONFIG_VERSION":
				rs.configVersion = aws.ToString(kv.Value)
			case "WHARF_BUILD_NUMBER":
				rs.build, _ = strconv.ParseInt(aws.ToString(kv.Value), 10, 64)
			}
		}
	}
	return rs, nil
}
