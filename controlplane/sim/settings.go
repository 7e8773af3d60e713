package sim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// InvMatchesSettings is the end check that every ACTIVE service and every
// scheduled-task target of an app runs with what the app's current
// settings document asks for.
const InvMatchesSettings = "services-match-settings"

// Settings changes the simulator draws: each edits one field of the
// settings document as a platform engineer redeploying the app stack
// would.
var settingsChanges = []struct {
	name   string
	mutate func(w *World, s *Settings)
}{
	{"subnets", func(w *World, s *Settings) {
		s.Subnets = []string{fmt.Sprintf("subnet-%s", w.hexID(8)), fmt.Sprintf("subnet-%s", w.hexID(8))}
	}},
	{"security groups", func(w *World, s *Settings) { s.SecurityGroups = []string{"sg-" + w.hexID(8)} }},
	{"public IP", func(_ *World, s *Settings) { s.AssignPublicIP = !s.AssignPublicIP }},
	{"target group", func(w *World, s *Settings) {
		i := strings.LastIndex(s.TargetGroupARN, "/")
		s.TargetGroupARN = s.TargetGroupARN[:i+1] + w.hexID(16)
	}},
	{"container port", func(_ *World, s *Settings) {
		if s.ContainerPort == 8080 {
			s.ContainerPort = 3000
		} else {
			s.ContainerPort = 8080
		}
	}},
	{"launch type", func(_ *World, s *Settings) {
		if s.LaunchType == "FARGATE" {
			s.LaunchType = "EC2"
		} else {
			s.LaunchType = "FARGATE"
		}
	}},
}

// ChangeSettings edits app's settings document (a new version of its
// settings parameter) and emits the Parameter Store Change event that the
// account forwards, as `cdk deploy` of the app's stack would. kind picks
// one of the drawn changes ("" draws one).
func (w *World) ChangeSettings(appName, kind string) {
	app := w.apps[appName]
	i := -1
	for j, c := range settingsChanges {
		if c.name == kind {
			i = j
		}
	}
	if i < 0 {
		// The first four kinds change only the services; the last two
		// what the task definitions carry.
		i = w.rng.IntN(4)
		if w.chance(w.Faults.TaskDefSettings) {
			i = 4 + w.rng.IntN(2)
		}
	}
	c := settingsChanges[i]
	c.mutate(w, &app.settings)
	name := fmt.Sprintf("/%s/apps/%s/settings", Prefix, app.name)
	doc, _ := json.Marshal(app.settings)
	p := app.acct.params[name]
	p.value = string(doc)
	p.version++
	p.modified = w.now
	app.settingsChanges++
	w.tracef("platform: settings of %s change: %s (version %d)", app.name, c.name, p.version)
	w.emitParameterChange(app, name, "String", "Update")
}

// scheduleSettingsChange draws one settings-change fault of app with
// probability Faults.SettingsChange, at the time when returns (drawn only
// if the fault is).
func (w *World) scheduleSettingsChange(app string, when func() time.Time, during bool) {
	if !w.chance(w.Faults.SettingsChange) {
		return
	}
	at := when()
	kind := "settings-change"
	if during {
		kind = "settings-during-deploy"
	}
	w.fault(kind)
	w.at(at, "settings", func() { w.ChangeSettings(app, "") })
}

// settingsCheck is the end check of InvMatchesSettings. It reads only the
// settings document and what the simulated ECS and EventBridge hold, never
// the control plane's code: every ACTIVE service of the app runs the launch
// type, subnets, security groups and public-IP choice of the settings; the
// web service (when the settings name a target group) sits behind that
// target group on the settings' container port and other services behind
// none; each service's task definition is registered for that launch type,
// with the settings' roles and log group and (web) the container port; and
// every scheduled-task target of the app launches with the same launch
// type and network, the events role and such a task definition.
func (o *oracle) settingsCheck(view StoreView) {
	w := o.w
	for _, name := range w.appNames() {
		app := w.apps[name]
		if _, interrupted := o.interrupted[name]; interrupted {
			continue // left as the interrupted operation left it (see finalCheck)
		}
		if o.stateLost && view != nil {
			if st, found, err := view.AppState(name); err == nil && (!found || st.DeployedBuild == 0) {
				// After the state loss the control plane has recorded no
				// deployed build (e.g. its first deploy since then was
				// rolled back): it knows no spec to align what runs with.
				w.tracef("%s: no deployed build recorded since the state was lost; settings not checked", name)
				continue
			}
		}
		s := app.settings
		var problems []string
		for _, key := range sortedKeys(app.acct.ecs.services) {
			svc := app.acct.ecs.services[key]
			if svc.app != app || svc.status != "ACTIVE" {
				continue
			}
			if svc.deployments[0].rollout == ecstypes.DeploymentRolloutStateFailed {
				// A first deployment the circuit breaker failed with
				// nothing to roll back to: no build runs here, so there is
				// no deployed spec to align it with.
				continue
			}
			problems = append(problems, serviceVsSettings(svc, s)...)
		}
		for _, rn := range sortedKeys(app.acct.rules) {
			for _, id := range sortedKeys(app.acct.rules[rn].targets) {
				tg := app.acct.rules[rn].targets[id]
				if tg.EcsParameters == nil {
					continue
				}
				td := app.acct.ecs.resolveTD(deref(tg.EcsParameters.TaskDefinitionArn))
				if td == nil || w.appForFamily(td.family) != app {
					continue
				}
				problems = append(problems, targetVsSettings(rn, tg, td, s)...)
			}
		}
		if len(problems) > 0 {
			w.violate(InvMatchesSettings, "%s: once settled, ECS does not run what the settings ask for: %s", name, strings.Join(problems, "; "))
		}
	}
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func wantIP(s Settings) string {
	if s.AssignPublicIP {
		return "ENABLED"
	}
	return "DISABLED"
}

func serviceVsSettings(svc *service, s Settings) []string {
	var p []string
	c := svc.cfg
	if string(c.LaunchType) != s.LaunchType || len(c.CapacityProviderStrategy) > 0 {
		p = append(p, fmt.Sprintf("%s launch type %q (capacity providers %d), settings say %s", svc.name, c.LaunchType, len(c.CapacityProviderStrategy), s.LaunchType))
	}
	if n := c.NetworkConfiguration; n == nil || n.AwsvpcConfiguration == nil {
		p = append(p, svc.name+" has no awsvpc network configuration")
	} else {
		v := n.AwsvpcConfiguration
		ip := string(v.AssignPublicIp)
		if ip == "" {
			ip = "DISABLED"
		}
		if !sameSet(v.Subnets, s.Subnets) || !sameSet(v.SecurityGroups, s.SecurityGroups) || ip != wantIP(s) {
			p = append(p, fmt.Sprintf("%s network subnets=%v groups=%v publicIp=%s, settings say %v %v %s", svc.name, v.Subnets, v.SecurityGroups, ip, s.Subnets, s.SecurityGroups, wantIP(s)))
		}
	}
	web := svc.proc == "web" && s.TargetGroupARN != ""
	switch {
	case web && (len(c.LoadBalancers) != 1 || deref(c.LoadBalancers[0].TargetGroupArn) != s.TargetGroupARN || deref(c.LoadBalancers[0].ContainerPort) != s.ContainerPort):
		var got []string
		for _, lb := range c.LoadBalancers {
			got = append(got, fmt.Sprintf("%s:%d", deref(lb.TargetGroupArn), deref(lb.ContainerPort)))
		}
		p = append(p, fmt.Sprintf("%s load balancers %v, settings say %s:%d", svc.name, got, s.TargetGroupARN, s.ContainerPort))
	case !web && len(c.LoadBalancers) > 0:
		p = append(p, fmt.Sprintf("%s has %d load balancers, settings give it none", svc.name, len(c.LoadBalancers)))
	case !web && deref(c.HealthCheckGracePeriodSeconds) != 0:
		p = append(p, fmt.Sprintf("%s has a health-check grace period without a load balancer", svc.name))
	}
	p = append(p, taskDefVsSettings(svc.name, svc.deployments[0].td, s, web)...)
	return p
}

func taskDefVsSettings(who string, td *taskDef, s Settings, web bool) []string {
	var p []string
	d := td.def
	compat := false
	for _, c := range d.RequiresCompatibilities {
		compat = compat || string(c) == s.LaunchType
	}
	if !compat {
		p = append(p, fmt.Sprintf("%s task definition %s requires %v, settings say %s", who, td.family, d.RequiresCompatibilities, s.LaunchType))
	}
	if deref(d.ExecutionRoleArn) != s.ExecutionRoleARN || deref(d.TaskRoleArn) != s.TaskRoleARN {
		p = append(p, fmt.Sprintf("%s task definition roles %s %s, settings say %s %s", who, deref(d.ExecutionRoleArn), deref(d.TaskRoleArn), s.ExecutionRoleARN, s.TaskRoleARN))
	}
	port := false
	for _, cd := range d.ContainerDefinitions {
		if cd.LogConfiguration != nil && cd.LogConfiguration.Options["awslogs-group"] != s.LogGroup {
			p = append(p, fmt.Sprintf("%s logs to %s, settings say %s", who, cd.LogConfiguration.Options["awslogs-group"], s.LogGroup))
		}
		for _, pm := range cd.PortMappings {
			port = port || deref(pm.ContainerPort) == s.ContainerPort
		}
	}
	if web && !port {
		p = append(p, fmt.Sprintf("%s task definition has no container port %d", who, s.ContainerPort))
	}
	return p
}

func targetVsSettings(rule string, tg ebtypes.Target, td *taskDef, s Settings) []string {
	var p []string
	e := tg.EcsParameters
	if string(e.LaunchType) != s.LaunchType || len(e.CapacityProviderStrategy) > 0 {
		p = append(p, fmt.Sprintf("schedule %s launch type %q, settings say %s", rule, e.LaunchType, s.LaunchType))
	}
	if deref(tg.RoleArn) != s.EventsRoleARN {
		p = append(p, fmt.Sprintf("schedule %s role %s, settings say %s", rule, deref(tg.RoleArn), s.EventsRoleARN))
	}
	if n := e.NetworkConfiguration; n == nil || n.AwsvpcConfiguration == nil {
		p = append(p, "schedule "+rule+" has no awsvpc network configuration")
	} else {
		v := n.AwsvpcConfiguration
		ip := string(v.AssignPublicIp)
		if ip == "" {
			ip = "DISABLED"
		}
		if !sameSet(v.Subnets, s.Subnets) || !sameSet(v.SecurityGroups, s.SecurityGroups) || ip != wantIP(s) {
			p = append(p, fmt.Sprintf("schedule %s network subnets=%v groups=%v publicIp=%s, settings say %v %v %s", rule, v.Subnets, v.SecurityGroups, ip, s.Subnets, s.SecurityGroups, wantIP(s)))
		}
	}
	return append(p, taskDefVsSettings("schedule "+rule, td, s, false)...)
}
