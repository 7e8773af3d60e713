package sim

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Event is one EventBridge event the simulated account emitted.
type Event struct {
	// Envelope is exactly what the control plane's rule delivers.
	Envelope events.CloudWatchEvent
	// App is the app the event concerns ("" for the sweep).
	App string
	// Summary is a one-line description for traces and timelines.
	Summary string

	// lost: the event is never delivered, whatever the fault switch says
	// (a build with the build-events-lost fault).
	lost bool
}

const isoMillis = "2006-01-02T15:04:05.000Z"

// codebuildTime is the format CodeBuild uses inside additional-information.
const codebuildTime = "Jan 2, 2006 3:04:05 PM"

func (w *World) envelope(source, detailType, acct, region string, resources []string, detail any) events.CloudWatchEvent {
	raw, err := json.Marshal(detail)
	if err != nil {
		panic(fmt.Sprintf("sim: marshal event detail: %v", err))
	}
	return events.CloudWatchEvent{
		Version:    "0",
		ID:         w.uuid(),
		DetailType: detailType,
		Source:     source,
		AccountID:  acct,
		Time:       w.now.Truncate(time.Second),
		Region:     region,
		Resources:  resources,
		Detail:     raw,
	}
}

func (w *World) emit(ev Event) {
	w.Stats.Events++
	w.tracef("emit %s [%s]", ev.Summary, ev.Envelope.ID[:8])
	for _, l := range w.listeners {
		l(ev)
	}
	if w.emitHook != nil {
		w.emitHook(ev)
	}
}

func isoTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(isoMillis)
}

func (w *World) emitTask(t *task) {
	a := t.app
	if a == nil {
		return
	}
	var containers []map[string]any
	for i, cd := range t.td.def.ContainerDefinitions {
		c := map[string]any{
			"containerArn": fmt.Sprintf("arn:aws:ecs:%s:%s:container/%s/%d", a.acct.region, a.acct.id, t.arn[strings.LastIndex(t.arn, "/")+1:], i),
			"lastStatus":   containerStatus(t),
			"name":         deref(cd.Name),
			"image":        deref(cd.Image),
			"taskArn":      t.arn,
		}
		if t.exitCode != nil {
			c["exitCode"] = *t.exitCode
		}
		if t.containerWhy != "" {
			c["reason"] = t.containerWhy
		}
		containers = append(containers, c)
	}
	d := map[string]any{
		"clusterArn":        t.cluster,
		"containers":        containers,
		"createdAt":         isoTime(t.createdAt),
		"desiredStatus":     t.desiredStatus,
		"group":             t.group,
		"lastStatus":        t.lastStatus,
		"launchType":        string(t.launchType),
		"taskArn":           t.arn,
		"taskDefinitionArn": t.td.arn,
		"updatedAt":         isoTime(w.now),
		"version":           t.version,
		"cpu":               deref(t.td.def.Cpu),
		"memory":            deref(t.td.def.Memory),
	}
	if t.startedBy != "" {
		d["startedBy"] = t.startedBy
	}
	if !t.startedAt.IsZero() {
		d["startedAt"] = isoTime(t.startedAt)
	}
	if t.stopCode != "" {
		d["stopCode"] = string(t.stopCode)
		d["stoppedReason"] = t.stoppedReason
		d["stoppingAt"] = isoTime(t.stoppingAt)
	}
	if !t.stoppedAt.IsZero() {
		d["stoppedAt"] = isoTime(t.stoppedAt)
		d["executionStoppedAt"] = isoTime(t.stoppedAt)
	}
	if t.overrides != nil {
		d["overrides"] = t.overrides
	}
	summary := fmt.Sprintf("ECS Task State Change %s %s %s v%d", t.td.family, shortTask(t.arn), t.lastStatus, t.version)
	if t.desiredStatus == "STOPPED" && t.lastStatus == "RUNNING" {
		summary += " (desired STOPPED)"
	}
	if t.lastStatus == "STOPPED" {
		summary += " stopCode=" + string(t.stopCode)
		if t.exitCode != nil {
			summary += fmt.Sprintf(" exit=%d", *t.exitCode)
		}
	}
	w.emit(Event{
		Envelope: w.envelope("aws.ecs", "ECS Task State Change", a.acct.id, a.acct.region, []string{t.arn}, d),
		App:      a.name,
		Summary:  summary,
	})
}

func (w *World) emitDeployment(svc *service, d *deployment, typ, name, reason string) {
	w.emit(Event{
		Envelope: w.envelope("aws.ecs", "ECS Deployment State Change", svc.app.acct.id, svc.app.acct.region, []string{svc.arn}, map[string]any{
			"eventType":    typ,
			"eventName":    name,
			"deploymentId": d.id,
			"updatedAt":    w.now.UTC().Format(time.RFC3339),
			"reason":       reason,
		}),
		App:     svc.app.name,
		Summary: fmt.Sprintf("ECS Deployment State Change %s %s %s (%s)", svc.name, name, d.id[len(d.id)-6:], reason),
	})
}

func (w *World) emitServiceAction(svc *service, typ, name string) {
	w.emit(Event{
		Envelope: w.envelope("aws.ecs", "ECS Service Action", svc.app.acct.id, svc.app.acct.region, []string{svc.arn}, map[string]any{
			"eventType":  typ,
			"eventName":  name,
			"clusterArn": svc.cluster,
			"createdAt":  isoTime(w.now),
		}),
		App:     svc.app.name,
		Summary: fmt.Sprintf("ECS Service Action %s %s", svc.name, name),
	})
}

func (w *World) buildInfo(b *build, complete bool) map[string]any {
	info := map[string]any{
		"artifact": map[string]any{
			"location": "arn:aws:s3:::" + b.artifactPath,
		},
		"environment": map[string]any{
			"image":                 "aws/codebuild/amazonlinux-aarch64-standard:3.0",
			"privileged-mode":       true,
			"compute-type":          "BUILD_GENERAL1_SMALL",
			"type":                  "ARM_CONTAINER",
			"environment-variables": []any{},
		},
		"timeout-in-minutes": 60,
		"build-complete":     complete,
		"build-number":       float64(b.number),
		"initiator":          "GitHub-Hookshot/sim",
		"build-start-time":   b.start.Format(codebuildTime),
		"source-version":     b.commit,
		"source": map[string]any{
			"location": "https://github.com/example/" + b.app.name + ".git",
			"type":     "GITHUB",
		},
		"logs": map[string]any{
			"group-name":  "/aws/codebuild/" + b.app.settings.CodeBuildProject,
			"stream-name": b.id[strings.Index(b.id, ":")+1:],
		},
	}
	if complete {
		info["phases"] = []map[string]any{
			{"phase-type": "SUBMITTED", "phase-status": "SUCCEEDED", "start-time": b.start.Format(codebuildTime), "end-time": b.start.Format(codebuildTime), "duration-in-seconds": 0},
			{"phase-type": "BUILD", "phase-status": phaseStatus(b.status), "start-time": b.start.Format(codebuildTime), "end-time": w.now.Format(codebuildTime), "duration-in-seconds": int(w.now.Sub(b.start).Seconds())},
			{"phase-type": "COMPLETED", "start-time": w.now.Format(codebuildTime)},
		}
	}
	return info
}

func phaseStatus(buildStatus string) string {
	if buildStatus == "IN_PROGRESS" {
		return "SUCCEEDED"
	}
	return buildStatus
}

func (w *World) emitBuildState(b *build) {
	a := b.app.acct
	complete := b.status != "IN_PROGRESS"
	phase := "SUBMITTED"
	if complete {
		phase = "COMPLETED"
	}
	w.emit(Event{
		Envelope: w.envelope("aws.codebuild", "CodeBuild Build State Change", a.id, a.region, []string{b.arn}, map[string]any{
			"build-status":           b.status,
			"project-name":           b.app.settings.CodeBuildProject,
			"build-id":               b.arn,
			"additional-information": w.buildInfo(b, complete),
			"current-phase":          phase,
			"current-phase-context":  "[]",
			"version":                "1",
		}),
		App:     b.app.name,
		Summary: fmt.Sprintf("CodeBuild Build State Change %s %s", b.label(), b.status),
		lost:    b.eventsLost,
	})
}

func (w *World) emitBuildPhase(b *build, phase string, since time.Time) {
	a := b.app.acct
	w.emit(Event{
		Envelope: w.envelope("aws.codebuild", "CodeBuild Build Phase Change", a.id, a.region, []string{b.arn}, map[string]any{
			"completed-phase":                  phase,
			"completed-phase-status":           "SUCCEEDED",
			"completed-phase-duration-seconds": int(w.now.Sub(since).Seconds()),
			"completed-phase-start":            since.Format(codebuildTime),
			"completed-phase-end":              w.now.Format(codebuildTime),
			"completed-phase-context":          "[]",
			"project-name":                     b.app.settings.CodeBuildProject,
			"build-id":                         b.arn,
			"additional-information":           w.buildInfo(b, false),
			"version":                          "1",
		}),
		App:     b.app.name,
		Summary: fmt.Sprintf("CodeBuild Build Phase Change %s %s", b.label(), phase),
		lost:    b.eventsLost,
	})
}

func (w *World) emitParameterChange(app *appWorld, name, typ, op string) {
	a := app.acct
	w.emit(Event{
		Envelope: w.envelope("aws.ssm", "Parameter Store Change", a.id, a.region,
			[]string{fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", a.region, a.id, name)}, map[string]any{
				"operation": op,
				"name":      name,
				"type":      typ,
			}),
		App:     app.name,
		Summary: fmt.Sprintf("Parameter Store Change %s %s", op, name),
	})
}

// SweepEvent returns the control plane's periodic sweep event.
func (w *World) SweepEvent() Event {
	return Event{
		Envelope: w.envelope("aws.events", "Scheduled Event", ControlPlaneAccount, "eu-west-1",
			[]string{fmt.Sprintf("arn:aws:events:eu-west-1:%s:rule/%s-controlplane-sweep", ControlPlaneAccount, Prefix)}, map[string]any{}),
		Summary: "Scheduled Event (sweep)",
	}
}
