package sim

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/controlplane"
)

// FaultConfig gives the probability of each injected fault. Zero values
// inject nothing.
type FaultConfig struct {
	// Drop, Duplicate, Delay and Reorder apply to each emitted event.
	Drop, Duplicate, Delay, Reorder float64
	// Throttle and ServerError apply to each API call, before it takes
	// effect; LostResponse to each successful write, after it took effect
	// (the caller sees a 5xx although the write happened).
	Throttle, ServerError, LostResponse float64
	// Crash is the probability that an invocation crashes between its
	// first successful AWS write and its next state write.
	Crash float64
	// Concurrent is the probability that a second invocation for the same
	// app runs inside the first one's first AWS write.
	Concurrent float64
	// RunTaskFailure is the probability that RunTask returns a capacity
	// failure in Failures instead of a task.
	RunTaskFailure float64
	// TaskFailStart is the probability that a task stops with
	// TaskFailedToStart instead of reaching RUNNING.
	TaskFailStart float64
	// Foreign is the probability that a copy of an event also arrives as
	// if from another account (an unregistered one, or a registered one the
	// app does not live in).
	Foreign float64
	// BuildEventsLost is the probability that every copy of every event
	// of a build (its Build State and Phase Changes, IN_PROGRESS and
	// final) is lost, as if each went to the dead-letter queue; drawn
	// when a build starts during the active phase.
	BuildEventsLost float64
	// StateLost is the probability that the control plane's state table is
	// emptied (state, history and processed event IDs) once during the
	// active phase, at a random time, as if it had been recreated; drawn
	// once per run, only when the target can lose its state.
	StateLost float64
	// ReadLag is the probability that a successful service write
	// (CreateService, UpdateService, DeleteService) is followed by 1-20 s
	// in which DescribeServices still shows the service as it was before
	// the write (a new one as missing): ECS's eventual consistency. The
	// write's own answer is never stale.
	ReadLag float64
	// TaskReadLag is the same for task writes (RunTask, StopTask) as
	// DescribeTasks and ListTasks see them.
	TaskReadLag float64
	// SettingsChange is the probability, per build and once more per app,
	// that the app's settings document changes: during the build's deploy,
	// or at a random time of the active phase. The change is to the
	// services' subnets, security groups, public IP or target group, or,
	// with probability TaskDefSettings, to what the task definitions carry
	// (the container port or the launch type).
	SettingsChange  float64
	TaskDefSettings float64
}

// invocation is one control-plane Handle call in progress.
type invocation struct {
	id      int
	ev      Event
	foreign bool
	depth   int
	parent  *invocation
	app     string
	eventID string
	handled bool // the event was already handled successfully
	calls   int
	writes  int

	crashPlanned bool
	crashArmed   bool
	crashed      bool
	concPlanned  bool
	concFired    bool
	nested       func()
}

// caller is the identity a client acts with.
type caller struct {
	w        *World
	acct     *account
	app      *appWorld // nil for the observer role
	observer bool
}

var errCrashed = fmt.Errorf("sim: invocation crashed (process gone)")

// Call is one API request the control plane sent, as an IAM contract test
// sees it: which identity sent it, the operation and its input, and the
// output when it succeeded.
type Call struct {
	// Service is "STS", "ECS", "CodeBuild", "S3", "SSM" or "EventBridge";
	// Op the operation ("RunTask").
	Service, Op string
	// Role is the ARN of the role the request was signed with: the app's
	// management role, the account's observer role, or "" for the control
	// plane's own role (its AssumeRole calls).
	Role string
	// Account and Region are where the request went ("" for STS).
	Account, Region string
	// Input is the SDK input (*ecs.RunTaskInput...; the registration for
	// AssumeRole); Output the SDK output, nil unless the call succeeded.
	Input, Output any
	// Err is the error the caller saw, if any.
	Err error
}

// RecordCalls makes the world pass every API request the control plane
// sends to f, in order (nil: stop recording).
func (w *World) RecordCalls(f func(*Call)) { w.recorder = f }

// call runs one simulated API call: it counts it, records it, injects
// faults, runs fn (which applies the call's effect), traces the result and
// fires the crash and concurrency hooks after a successful write.
func call[T any](c caller, in any, svc, op string, write bool, detail string, fn func() (T, string, error)) (out T, err error) {
	w := c.w
	var zero T
	if w.recorder != nil {
		rec := &Call{Service: svc, Op: op, Input: in}
		if c.acct != nil && svc != "STS" {
			rec.Account, rec.Region = c.acct.id, c.acct.region
		}
		switch {
		case c.app != nil:
			rec.Role = c.app.reg.ManagementRoleARN
		case c.observer:
			rec.Role = fmt.Sprintf("arn:aws:iam::%s:role/%s-account-observer", c.acct.id, Prefix)
		}
		defer func() {
			rec.Err = err
			if err == nil {
				rec.Output = out
			}
			w.recorder(rec)
		}()
	}
	w.Stats.Calls[svc+"."+op]++
	inv := w.inv
	if inv != nil {
		inv.calls++
		if inv.crashed {
			w.tracef("%s.%s %s → not sent: invocation crashed", svc, op, detail)
			return zero, errCrashed
		}
	}
	if write {
		w.Stats.WriteCalls++
		if inv != nil {
			inv.writes++
		}
		if c.observer {
			w.tracef("%s.%s %s → AccessDenied (observer role)", svc, op, detail)
			return zero, w.apiError(svc, op, 400, &ecstypes.AccessDeniedException{Message: ptr("observer role is read-only")})
		}
		w.oracle.onWrite(inv, svc, op, detail)
	}
	if w.faultsOn {
		if w.chance(w.Faults.Throttle) {
			w.fault("api-throttle")
			w.tracef("%s.%s %s → FAULT ThrottlingException", svc, op, detail)
			return zero, w.throttleErr(svc, op)
		}
		if w.chance(w.Faults.ServerError) {
			w.fault("api-5xx")
			w.tracef("%s.%s %s → FAULT 5xx", svc, op, detail)
			return zero, w.serverErr(svc, op)
		}
	}
	t0 := time.Now()
	out, res, err := fn()
	w.Stats.SimCallTime += time.Since(t0)
	if err != nil {
		w.tracef("%s.%s %s → error: %v", svc, op, detail, shortErr(err))
		return zero, err
	}
	if res != "" {
		w.tracef("%s.%s %s → %s", svc, op, detail, res)
	} else {
		w.tracef("%s.%s %s → ok", svc, op, detail)
	}
	if write {
		w.oracle.recordWrite(svc, op, detail)
	}
	if write && inv != nil {
		if w.faultsOn && w.chance(w.Faults.LostResponse) {
			w.fault("api-lost-response")
			w.tracef("  FAULT response lost after %s.%s took effect", svc, op)
			return zero, w.serverErr(svc, op)
		}
		if inv.crashPlanned && !inv.crashArmed {
			inv.crashArmed = true
			w.tracef("  (crash armed: the next state write fails and the invocation dies)")
		}
		if inv.concPlanned && !inv.concFired && inv.nested != nil {
			inv.concFired = true
			inv.nested()
		}
	}
	return out, nil
}

func shortErr(err error) string {
	var ae smithy.APIError
	if asAPIError(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

func (w *World) throttleErr(svc, op string) error {
	// Services that model ThrottlingException get their typed error; the
	// others get the generic error the SDK builds from the code.
	switch svc {
	case "EventBridge":
		return w.apiError(svc, op, 400, ebThrottling())
	case "SSM":
		return w.apiError(svc, op, 400, generic("ThrottlingException", "Rate exceeded", smithy.FaultClient))
	case "S3":
		return w.apiError(svc, op, 503, generic("SlowDown", "Please reduce your request rate.", smithy.FaultServer))
	}
	return w.apiError(svc, op, 400, generic("ThrottlingException", "Rate exceeded", smithy.FaultClient))
}

func (w *World) serverErr(svc, op string) error {
	switch svc {
	case "ECS":
		if w.rng.IntN(2) == 0 {
			return w.apiError(svc, op, 500, &ecstypes.ServerException{Message: ptr("Service Unavailable. Please try again later.")})
		}
	case "S3":
		return w.apiError(svc, op, 500, generic("InternalError", "We encountered an internal error. Please try again.", smithy.FaultServer))
	}
	if w.rng.IntN(2) == 0 {
		return w.apiError(svc, op, http.StatusServiceUnavailable, generic("ServiceUnavailable", "Service is unavailable", smithy.FaultServer))
	}
	return w.apiError(svc, op, 500, generic("InternalFailure", "An internal error occurred", smithy.FaultServer))
}

// Provider is the simulated controlplane.ClientProvider: it checks the
// role and external ID the way STS would and hands out clients bound to
// the app's account and scoped to the app's resources.
type Provider struct{ w *World }

// Provider returns the world's client provider.
func (w *World) Provider() *Provider { return &Provider{w: w} }

var _ controlplane.ClientProvider = (*Provider)(nil)

// ForApp implements controlplane.ClientProvider.
func (p *Provider) ForApp(_ context.Context, reg contract.AppRegistration) (*controlplane.AppClients, error) {
	w := p.w
	c := caller{w: w}
	return call(c, reg, "STS", "AssumeRole", false, "role="+reg.ManagementRoleARN, func() (*controlplane.AppClients, string, error) {
		app, ok := w.apps[reg.Name]
		if !ok || app.reg.ManagementRoleARN != reg.ManagementRoleARN || app.reg.AccountID != reg.AccountID {
			return nil, "", w.apiError("STS", "AssumeRole", 403, generic("AccessDenied", "not authorized to perform sts:AssumeRole on "+reg.ManagementRoleARN, smithy.FaultClient))
		}
		if reg.ExternalID != app.reg.ExternalID {
			return nil, "", w.apiError("STS", "AssumeRole", 403, generic("AccessDenied", "external ID does not match", smithy.FaultClient))
		}
		c := caller{w: w, acct: app.acct, app: app}
		return &controlplane.AppClients{
			ECS:         &ECSClient{c: c},
			CodeBuild:   &CodeBuildClient{c: c},
			S3:          &S3Client{c: c},
			SSM:         &SSMClient{c: c},
			EventBridge: &EventBridgeClient{c: c},
			AutoScaling: &AASClient{c: c},
		}, "", nil
	})
}

// ForObserver implements controlplane.ClientProvider.
func (p *Provider) ForObserver(_ context.Context, reg contract.AccountRegistration) (*controlplane.ObserverClients, error) {
	w := p.w
	c := caller{w: w}
	return call(c, reg, "STS", "AssumeRole", false, "role="+reg.ObserverRoleARN, func() (*controlplane.ObserverClients, string, error) {
		a, ok := w.accounts[reg.AccountID]
		want := fmt.Sprintf("arn:aws:iam::%s:role/%s-account-observer", reg.AccountID, Prefix)
		if !ok || reg.ObserverRoleARN != want || reg.ExternalID != "ext-account-"+reg.AccountID {
			return nil, "", w.apiError("STS", "AssumeRole", 403, generic("AccessDenied", "not authorized to perform sts:AssumeRole on "+reg.ObserverRoleARN, smithy.FaultClient))
		}
		return &controlplane.ObserverClients{ECS: &ECSClient{c: caller{w: w, acct: a, observer: true}}}, "", nil
	})
}

// allowed reports whether the caller may touch a resource named name
// (a task-definition family or a service name): an app's management role
// is scoped to "<prefix>-<app>_*".
func (c caller) allowed(name string) bool {
	if c.app == nil {
		return true
	}
	return strings.HasPrefix(name, Prefix+"-"+c.app.name+"_")
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
