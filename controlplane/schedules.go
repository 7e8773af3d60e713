package controlplane

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/wharf-paas/wharf/contract"
)

// scheduleTargetID is the ID of the single target of a schedule rule.
const scheduleTargetID = "wharf-task"

// scheduleActions makes the app's schedule rules (<prefix>-<app>_schedule-
// <name>) match the build's schedules: each runs the release family's task
// definition with the schedule's command, as the app's events role. Rules
// and targets that already match cost no write call. ok is false when it
// needs the rules or their targets observed first (or schedules cannot
// work: then the deploy ends with schedule_rejected).
func (d *decider) scheduleActions(set *contract.Settings, op *Operation) ([]Action, bool) {
	if !d.obs.RulesSeen {
		d.need(Need{Rules: true})
		return nil, false
	}
	existing := d.obs.Rules
	want := map[string]contract.Schedule{}
	for _, s := range op.Metadata.Schedules {
		want[ScheduleRuleName(d.pol.Prefix, d.pol.App, s.Name)] = s
	}
	if len(want) > 0 && set.EventsRoleARN == "" {
		d.succeed(ReasonScheduleRejected, "schedules need eventsRoleArn in the app settings")
		return nil, false
	}
	// The targets of rules that otherwise match, and of rules to delete.
	var targets []string
	for _, name := range sortedKeys(want) {
		rule, ok := existing[name]
		if ok && aws.ToString(rule.ScheduleExpression) == want[name].Schedule && rule.State == ebtypes.RuleStateEnabled {
			targets = append(targets, name)
		}
	}
	for _, name := range sortedKeys(existing) {
		if _, ok := want[name]; !ok {
			targets = append(targets, name)
		}
	}
	if missing := unseen(targets, d.obs.TargetsSeen); len(missing) > 0 {
		d.need(Need{Targets: missing})
		return nil, false
	}
	var acts []Action
	for _, name := range sortedKeys(want) {
		s := want[name]
		target := scheduleTarget(d.pol, set, op, s)
		rule, ok := existing[name]
		if !ok || aws.ToString(rule.ScheduleExpression) != s.Schedule || rule.State != ebtypes.RuleStateEnabled {
			acts = append(acts, Action{Kind: ActPutRule, PutRule: &eventbridge.PutRuleInput{
				Name: aws.String(name), ScheduleExpression: aws.String(s.Schedule), State: ebtypes.RuleStateEnabled,
				Description: aws.String(fmt.Sprintf("Wharf scheduled task %s of app %s", s.Name, d.pol.App)),
			}})
		} else if cur := d.obs.Targets[name]; len(cur) == 1 && sameTarget(cur[0], target) {
			continue
		}
		acts = append(acts, Action{Kind: ActPutTargets, PutTargets: &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []ebtypes.Target{target}}})
	}
	for _, name := range sortedKeys(existing) {
		if _, ok := want[name]; ok {
			continue
		}
		if cur := d.obs.Targets[name]; len(cur) > 0 {
			ids := make([]string, 0, len(cur))
			for _, t := range cur {
				ids = append(ids, aws.ToString(t.Id))
			}
			acts = append(acts, Action{Kind: ActRemoveTargets, RemoveTargets: &eventbridge.RemoveTargetsInput{Rule: aws.String(name), Ids: ids}})
		}
		acts = append(acts, Action{Kind: ActDeleteRule, DeleteRule: &eventbridge.DeleteRuleInput{Name: aws.String(name)}})
	}
	return acts, true
}

func scheduleTarget(pol Policy, set *contract.Settings, op *Operation, s contract.Schedule) ebtypes.Target {
	input, _ := json.Marshal(map[string]any{
		"containerOverrides": []map[string]any{{
			"name": contract.ContainerName, "command": []string{"/bin/sh", "-c", s.Command},
		}},
	})
	ip := ebtypes.AssignPublicIpDisabled
	if set.AssignPublicIP {
		ip = ebtypes.AssignPublicIpEnabled
	}
	return ebtypes.Target{
		Id:      aws.String(scheduleTargetID),
		Arn:     aws.String(set.ClusterARN),
		RoleArn: aws.String(set.EventsRoleARN),
		Input:   aws.String(string(input)),
		EcsParameters: &ebtypes.EcsParameters{
			TaskDefinitionArn: aws.String(op.TaskDefs[contract.ReleaseProcess]),
			TaskCount:         aws.Int32(1),
			LaunchType:        ebtypes.LaunchType(set.LaunchType),
			NetworkConfiguration: &ebtypes.NetworkConfiguration{AwsvpcConfiguration: &ebtypes.AwsVpcConfiguration{
				Subnets: set.Subnets, SecurityGroups: set.SecurityGroups, AssignPublicIp: ip,
			}},
			PropagateTags:        ebtypes.PropagateTagsTaskDefinition,
			EnableECSManagedTags: true,
		},
	}
}
