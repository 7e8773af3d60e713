package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/controlplane"
	"github.com/wharf-paas/wharf/controlplane/internal/awsmodel"
)

// Runtime requests (issue 11): users write the scale setting, restart and
// rollback requests as parameters under the app's path; their Parameter
// Store Change events go through the bus with its faults (a lost one is
// made up for by the sweep). Application Auto Scaling is the strict model
// of internal/awsmodel; while a target is registered, the simulated
// autoscaler moves the service's desired count within the range.

// Invariants of runtime requests (docs/simulation.md); a wrong desired
// count of a settled service is reported under InvConverges.
const (
	InvAutoscaledKept   = "autoscaled-count-never-reset"
	InvRollbackExact    = "rollback-deploys-chosen-build"
	InvRestartOnePerSvc = "restart-one-deployment-per-service"
)

type restartWrite struct {
	id, process string
	at          time.Time
	// deployed: some build of the app had run on every service when the
	// request was written (otherwise the control plane refuses it:
	// nothing is deployed to restart).
	deployed bool
}

type rollbackWrite struct {
	id    string
	build *build
	at    time.Time
}

// requestsWorld is what users asked and what the simulated autoscaler did.
type requestsWorld struct {
	scaling map[*account]*awsmodel.ScalingModel
	// scale is the scale setting each app's users last wrote (nil: none).
	scale map[string]*contract.ScaleSetting
	// fixedSeen[svc]: since the service's scalable target was registered,
	// a setting that does not autoscale its process was current; until
	// then the control plane must not set its desired count.
	fixedSeen map[string]bool
	restarts  map[string][]restartWrite
	// forced counts forceNewDeployment updates per service name, and when
	// the last one was.
	forced     map[string]int
	lastForced map[string]time.Time
	rollback   map[string]*rollbackWrite
	seq        int
}

func (w *World) rq() *requestsWorld {
	if w.reqs == nil {
		w.reqs = &requestsWorld{scaling: map[*account]*awsmodel.ScalingModel{}, scale: map[string]*contract.ScaleSetting{},
			fixedSeen: map[string]bool{}, restarts: map[string][]restartWrite{}, forced: map[string]int{},
			lastForced: map[string]time.Time{}, rollback: map[string]*rollbackWrite{}}
	}
	return w.reqs
}

// scaling is the account's Application Auto Scaling, tied to its services'
// desired counts.
func (w *World) scaling(a *account) *awsmodel.ScalingModel {
	r := w.rq()
	if m := r.scaling[a]; m != nil {
		return m
	}
	m := awsmodel.NewScalingModel(a.id, a.region)
	m.Now = w.Now
	find := func(id string) *service {
		parts := strings.Split(id, "/")
		if len(parts) != 3 {
			return nil
		}
		for _, key := range sortedKeys(a.ecs.services) {
			s := a.ecs.services[key]
			if s.name == parts[2] && strings.HasSuffix(s.cluster, "/"+parts[1]) && s.status == "ACTIVE" {
				return s
			}
		}
		return nil
	}
	m.Capacity = func(id string) (int32, bool) {
		if s := find(id); s != nil {
			return s.cfg.DesiredCount, true
		}
		return 0, false
	}
	m.SetCapacity = func(id string, n int32) {
		if s := find(id); s != nil {
			w.tracef("  Application Auto Scaling sets %s desired %d → %d", s.name, s.cfg.DesiredCount, n)
			w.setCount(s, n)
		}
	}
	r.scaling[a] = m
	return m
}

// setCount changes a service's desired count as Application Auto Scaling
// does (UpdateService desiredCount in place).
func (w *World) setCount(s *service, n int32) {
	s.cfg.DesiredCount = n
	if len(s.deployments) > 0 {
		s.deployments[0].desired = n
	}
	w.kick(s)
}

// AASClient is the simulated controlplane.AutoScalingAPI.
type AASClient struct{ c caller }

var _ controlplane.AutoScalingAPI = (*AASClient)(nil)

func (c *AASClient) model() *awsmodel.ScalingModel { return c.c.w.scaling(c.c.acct) }

// allowedResource: the app's management role may act on its own services.
func (c *AASClient) allowedResource(id string) bool {
	return c.c.allowed(id[strings.LastIndex(id, "/")+1:])
}

// RegisterScalableTarget implements controlplane.AutoScalingAPI.
func (c *AASClient) RegisterScalableTarget(_ context.Context, in *aas.RegisterScalableTargetInput, _ ...func(*aas.Options)) (*aas.RegisterScalableTargetOutput, error) {
	id := deref(in.ResourceId)
	detail := fmt.Sprintf("%s %d-%d", id, deref(in.MinCapacity), deref(in.MaxCapacity))
	return call(c.c, in, "ApplicationAutoScaling", "RegisterScalableTarget", true, detail, func() (*aas.RegisterScalableTargetOutput, string, error) {
		w := c.c.w
		if !c.allowedResource(id) {
			return nil, "", w.apiError("ApplicationAutoScaling", "RegisterScalableTarget", 400, generic("AccessDeniedException", "not authorized for "+id, 0))
		}
		out, err := c.model().RegisterScalableTarget(in)
		if err != nil {
			return nil, "", w.apiError("ApplicationAutoScaling", "RegisterScalableTarget", 400, ruleErr(err))
		}
		w.onTargetRegistered(c.c.app, id)
		return out, "registered", nil
	})
}

// DeregisterScalableTarget implements controlplane.AutoScalingAPI.
func (c *AASClient) DeregisterScalableTarget(_ context.Context, in *aas.DeregisterScalableTargetInput, _ ...func(*aas.Options)) (*aas.DeregisterScalableTargetOutput, error) {
	id := deref(in.ResourceId)
	return call(c.c, in, "ApplicationAutoScaling", "DeregisterScalableTarget", true, id, func() (*aas.DeregisterScalableTargetOutput, string, error) {
		out, err := c.model().DeregisterScalableTarget(in)
		if err != nil {
			return nil, "", c.c.w.apiError("ApplicationAutoScaling", "DeregisterScalableTarget", 400, ruleErr(err))
		}
		return out, "deregistered", nil
	})
}

// PutScalingPolicy implements controlplane.AutoScalingAPI.
func (c *AASClient) PutScalingPolicy(_ context.Context, in *aas.PutScalingPolicyInput, _ ...func(*aas.Options)) (*aas.PutScalingPolicyOutput, error) {
	return call(c.c, in, "ApplicationAutoScaling", "PutScalingPolicy", true, deref(in.PolicyName), func() (*aas.PutScalingPolicyOutput, string, error) {
		out, err := c.model().PutScalingPolicy(in)
		if err != nil {
			return nil, "", c.c.w.apiError("ApplicationAutoScaling", "PutScalingPolicy", 400, ruleErr(err))
		}
		return out, "put", nil
	})
}

// DescribeScalableTargets implements controlplane.AutoScalingAPI.
func (c *AASClient) DescribeScalableTargets(_ context.Context, in *aas.DescribeScalableTargetsInput, _ ...func(*aas.Options)) (*aas.DescribeScalableTargetsOutput, error) {
	return call(c.c, in, "ApplicationAutoScaling", "DescribeScalableTargets", false, strings.Join(in.ResourceIds, ","), func() (*aas.DescribeScalableTargetsOutput, string, error) {
		out, err := c.model().DescribeScalableTargets(in)
		if err != nil {
			return nil, "", c.c.w.apiError("ApplicationAutoScaling", "DescribeScalableTargets", 400, ruleErr(err))
		}
		return out, fmt.Sprintf("%d targets", len(out.ScalableTargets)), nil
	})
}

// DescribeScalingPolicies implements controlplane.AutoScalingAPI.
func (c *AASClient) DescribeScalingPolicies(_ context.Context, in *aas.DescribeScalingPoliciesInput, _ ...func(*aas.Options)) (*aas.DescribeScalingPoliciesOutput, error) {
	return call(c.c, in, "ApplicationAutoScaling", "DescribeScalingPolicies", false, deref(in.ResourceId), func() (*aas.DescribeScalingPoliciesOutput, string, error) {
		out, err := c.model().DescribeScalingPolicies(in)
		if err != nil {
			return nil, "", c.c.w.apiError("ApplicationAutoScaling", "DescribeScalingPolicies", 400, ruleErr(err))
		}
		return out, fmt.Sprintf("%d policies", len(out.ScalingPolicies)), nil
	})
}

// onTargetRegistered starts the simulated autoscaler on the service (once)
// and notes whether the current setting autoscales its process.
func (w *World) onTargetRegistered(app *appWorld, id string) {
	r := w.rq()
	proc := id[strings.LastIndex(id, "_")+1:]
	key := app.name + "/" + proc
	_, was := r.fixedSeen[key]
	r.fixedSeen[key] = !autoscales(r.scale[app.name], proc)
	if was {
		return
	}
	var tick func()
	tick = func() {
		m := w.scaling(app.acct)
		t := m.Target(id)
		if t == nil {
			delete(r.fixedSeen, key)
			return
		}
		lo, hi := deref(t.MinCapacity), deref(t.MaxCapacity)
		n := lo + int32(w.rng.IntN(int(hi-lo)+1))
		if c, ok := m.Capacity(id); ok && c != n {
			w.fault("autoscaler")
			w.tracef("Application Auto Scaling: %s desired %d → %d (target tracking, range %d-%d)", id, c, n, lo, hi)
			m.SetCapacity(id, n)
		}
		w.after(w.between(3*time.Minute, 15*time.Minute), "autoscaler", tick)
	}
	w.after(w.between(time.Minute, 5*time.Minute), "autoscaler", tick)
}

func autoscales(sc *contract.ScaleSetting, proc string) bool {
	if sc == nil {
		return false
	}
	p, ok := sc.Processes[proc]
	return ok && p.Autoscaled()
}

// onServiceWrite checks a CreateService/UpdateService before it takes
// effect: the control plane never sets the desired count of a service
// whose scalable target is registered while only autoscaling settings
// were current since; a forced deployment is one per restart request.
func (w *World) onServiceWrite(svc *service, desired *int32, force bool) {
	if svc == nil || svc.app == nil {
		return
	}
	r := w.rq()
	key := svc.app.name + "/" + svc.proc
	id := contract.ScalableResourceID(svc.cluster[strings.LastIndex(svc.cluster, "/")+1:], svc.name)
	if desired != nil && w.scaling(svc.app.acct).Target(id) != nil && !r.fixedSeen[key] {
		w.violate(InvAutoscaledKept, "UpdateService sets %s desired %d while Application Auto Scaling owns it (setting %s)", svc.name, *desired, scaleString(r.scale[svc.app.name]))
	}
	if force {
		r.forced[svc.name]++
		r.lastForced[svc.name] = w.now
		n := 0
		for _, rw := range r.restarts[svc.app.name] {
			if rw.process == "" || rw.process == svc.proc {
				n++
			}
		}
		if r.forced[svc.name] > n {
			w.violate(InvRestartOnePerSvc, "%s: forced deployment %d, but only %d restart requests name it", svc.name, r.forced[svc.name], n)
		}
	}
}

func scaleString(sc *contract.ScaleSetting) string {
	if sc == nil {
		return "none"
	}
	var parts []string
	for _, p := range sortedKeys(sc.Processes) {
		parts = append(parts, p+"="+sc.Processes[p].String())
	}
	return strings.Join(parts, " ")
}

// putRequest writes a runtime request parameter as the CLI does.
func (w *World) putRequest(app *appWorld, key string, doc any) {
	name := contract.Names{Prefix: Prefix}.AppParameterPath(app.name) + key
	op := "Update"
	if doc == nil {
		delete(app.acct.params, name)
		op = "Delete"
		w.tracef("user: delete-parameter %s", name)
	} else {
		b, _ := json.Marshal(doc)
		p, ok := app.acct.params[name]
		if !ok {
			p = &param{name: name, typ: "String"}
			app.acct.params[name] = p
			op = "Create"
		}
		p.version++
		p.modified = w.now
		p.value = string(b)
		w.tracef("user: put-parameter %s %s", name, p.value)
	}
	w.emitParameterChange(app, name, "String", op)
}

// Scale writes a scale setting (nil: wharf scale --reset).
func (w *World) Scale(appName string, sc *contract.ScaleSetting) {
	app := w.apps[appName]
	r := w.rq()
	r.scale[appName] = sc
	for _, proc := range []string{"web", "worker"} {
		key := appName + "/" + proc
		if _, registered := r.fixedSeen[key]; registered && !autoscales(sc, proc) {
			r.fixedSeen[key] = true
		}
	}
	if sc == nil {
		w.putRequest(app, contract.ScaleKey, nil)
		return
	}
	w.putRequest(app, contract.ScaleKey, sc)
}

// Restart writes a restart request with a new ID.
func (w *World) Restart(appName, process string) {
	r := w.rq()
	r.seq++
	id := fmt.Sprintf("r%d", r.seq)
	deployed := false
	for _, b := range w.apps[appName].builds {
		deployed = deployed || w.oracle.appDeployed[b]
	}
	r.restarts[appName] = append(r.restarts[appName], restartWrite{id: id, process: process, at: w.now, deployed: deployed})
	w.putRequest(w.apps[appName], contract.RestartKey, contract.RestartRequest{Version: 1, ID: id, Process: process})
}

// Rollback writes a rollback request to build b.
func (w *World) Rollback(appName string, b *build) {
	r := w.rq()
	r.seq++
	id := fmt.Sprintf("rb%d", r.seq)
	r.rollback[appName] = &rollbackWrite{id: id, build: b, at: w.now}
	w.putRequest(w.apps[appName], contract.RollbackKey, contract.RollbackRequest{Version: 1, ID: id, Build: b.number})
}

// scheduleRequests adds the users' runtime requests to the random
// scenario: scale settings (counts, ranges, resets), restarts (all, or
// one process) at random times, and, at the end of the active phase once
// every build has finished, sometimes a rollback to a build that ran.
func (w *World) scheduleRequests(app string, active time.Duration) {
	for range w.rng.IntN(4) {
		at := Epoch.Add(w.between(0, active-5*time.Minute))
		var sc *contract.ScaleSetting
		switch w.rng.IntN(4) {
		case 0:
			sc = &contract.ScaleSetting{Version: 1, Processes: map[string]contract.ProcessScale{"web": {Count: ptr(int32(1 + w.rng.IntN(3)))}}}
		case 1, 2:
			lo := int32(1 + w.rng.IntN(2))
			sc = &contract.ScaleSetting{Version: 1, Processes: map[string]contract.ProcessScale{"web": {Min: lo, Max: lo + int32(1+w.rng.IntN(3)), CPUTarget: 60}}}
			if w.chance(0.5) {
				sc.Processes["worker"] = contract.ProcessScale{Count: ptr(int32(w.rng.IntN(3)))}
			}
		}
		w.fault("scale-request")
		w.at(at, "scale", func() { w.Scale(app, sc) })
	}
	for range w.rng.IntN(3) {
		at := Epoch.Add(w.between(0, active-5*time.Minute))
		proc := ""
		if w.chance(0.3) {
			proc = "web"
		}
		w.fault("restart-request")
		w.at(at, "restart", func() { w.Restart(app, proc) })
	}
	if w.chance(0.4) {
		w.at(Epoch.Add(active-time.Minute), "rollback", func() {
			a := w.apps[app]
			var newest, pick *build
			for _, b := range a.builds {
				if b.status == "IN_PROGRESS" {
					w.tracef("user: no rollback of %s, build %d is still running", app, b.number)
					return
				}
				if w.oracle.appDeployed[b] {
					if newest == nil || b.number > newest.number {
						newest = b
					}
				}
			}
			for _, b := range a.builds {
				if w.oracle.appDeployed[b] && b != newest && (pick == nil || b.number > pick.number) {
					pick = b
				}
			}
			if pick == nil {
				return
			}
			w.fault("rollback-request")
			w.Rollback(app, pick)
		})
	}
}

// effectiveCount is the desired count the oracle expects for a process of
// build b under the app's last scale setting, and whether it is a range.
func (w *World) effectiveCount(app string, b *build, proc string) (count, lo, hi int32, ranged bool) {
	count = b.plan.Processes[proc].DesiredCount()
	sc := w.rq().scale[app]
	if sc == nil {
		return count, 0, 0, false
	}
	p, ok := sc.Processes[proc]
	switch {
	case !ok:
		return count, 0, 0, false
	case p.Count != nil:
		return *p.Count, 0, 0, false
	case p.Autoscaled():
		return 0, p.Min, p.Max, true
	}
	return count, 0, 0, false
}

// scaleProblem says why a settled service's desired count is not the
// effective scale of its process ("" when it is).
func (w *World) scaleProblem(app *appWorld, target *build, s *service) string {
	count, lo, hi, ranged := w.effectiveCount(app.name, target, s.proc)
	id := contract.ScalableResourceID(s.cluster[strings.LastIndex(s.cluster, "/")+1:], s.name)
	t := w.scaling(app.acct).Target(id)
	switch {
	case ranged && t == nil:
		return fmt.Sprintf("%s should be autoscaled %d-%d, no scalable target", s.proc, lo, hi)
	case ranged && (deref(t.MinCapacity) != lo || deref(t.MaxCapacity) != hi):
		return fmt.Sprintf("%s scalable target %d-%d, want %d-%d", s.proc, deref(t.MinCapacity), deref(t.MaxCapacity), lo, hi)
	case ranged && (s.cfg.DesiredCount < lo || s.cfg.DesiredCount > hi):
		return fmt.Sprintf("%s desiredCount %d outside %d-%d", s.proc, s.cfg.DesiredCount, lo, hi)
	case !ranged && t != nil:
		return fmt.Sprintf("%s still has a scalable target (%d-%d) although its scale is fixed", s.proc, deref(t.MinCapacity), deref(t.MaxCapacity))
	case !ranged && s.cfg.DesiredCount != count:
		return fmt.Sprintf("%s desiredCount %d, want %d (scale %s)", s.proc, s.cfg.DesiredCount, count, scaleString(w.rq().scale[app.name]))
	}
	return ""
}

// rollbackTarget is the build a rollback made the expected one: the
// chosen build, unless a build succeeded after the request.
func (o *oracle) rollbackTarget(app *appWorld) *build {
	rb := o.w.rq().rollback[app.name]
	if rb == nil {
		return nil
	}
	for _, b := range app.builds {
		if b.status == "SUCCEEDED" && !b.end.Before(rb.at) {
			return nil
		}
	}
	return rb.build
}

// requestsCheck is the end check of the restart invariant: the last
// restart request reached every service it names (a forced deployment
// after it was written), unless the state was lost.
func (o *oracle) requestsCheck() {
	w := o.w
	r := w.rq()
	if o.stateLost {
		return
	}
	for _, name := range w.appNames() {
		app := w.apps[name]
		rs := r.restarts[name]
		if len(rs) == 0 {
			continue
		}
		last := rs[len(rs)-1]
		if !last.deployed {
			continue // refused: nothing was deployed to restart
		}
		if _, interrupted := o.interrupted[name]; interrupted {
			continue
		}
		for _, key := range sortedKeys(app.acct.ecs.services) {
			s := app.acct.ecs.services[key]
			if s.app != app || s.status != "ACTIVE" || (last.process != "" && s.proc != last.process) {
				continue
			}
			if s.createdAt.After(last.at) {
				continue // created after the request: a new deployment anyway
			}
			if t, ok := r.lastForced[s.name]; !ok || t.Before(last.at) {
				w.violate(InvRestartOnePerSvc, "%s: restart %s (written %s) made no new deployment of %s", name, last.id, fmtOffset(last.at.Sub(Epoch)), s.name)
			}
		}
	}
}
