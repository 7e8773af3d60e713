package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// scheduleTargetID is the ID of the single target of a schedule rule.
const scheduleTargetID = "wharf-task"

// syncSchedules makes the app's schedule rules (<prefix>-<app>_schedule-
// <name>) match the build's schedules: each runs the release family's task
// definition with the schedule's command, as the app's events role. Rules
// and targets that already match cost no write call.
func (r *run) syncSchedules(ctx context.Context, set *Settings, op *Operation) error {
	eb := r.cl.EventBridge
	prefix := ScheduleRuleName(r.c.reg.Prefix, r.reg.Name, "")
	existing := map[string]ebtypes.Rule{}
	in := &eventbridge.ListRulesInput{NamePrefix: aws.String(prefix)}
	r.awsTouched = true
	for page := 0; ; page++ {
		if page > 100 {
			return fmt.Errorf("eventbridge ListRules %s: more than 100 pages", prefix)
		}
		out, err := eb.ListRules(ctx, in)
		if err != nil {
			return fmt.Errorf("eventbridge ListRules %s: %w", prefix, err)
		}
		for _, rule := range out.Rules {
			existing[aws.ToString(rule.Name)] = rule
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	want := map[string]Schedule{}
	for _, s := range op.Metadata.Schedules {
		want[ScheduleRuleName(r.c.reg.Prefix, r.reg.Name, s.Name)] = s
	}
	if len(want) > 0 && set.EventsRoleARN == "" {
		return permanent(ReasonScheduleRejected, "schedules need eventsRoleArn in the app settings")
	}
	names := sortedKeys(want)
	for _, name := range names {
		s := want[name]
		target := r.scheduleTarget(set, op, s)
		rule, ok := existing[name]
		if !ok || aws.ToString(rule.ScheduleExpression) != s.Schedule || rule.State != ebtypes.RuleStateEnabled {
			if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{
				Name: aws.String(name), ScheduleExpression: aws.String(s.Schedule), State: ebtypes.RuleStateEnabled,
				Description: aws.String(fmt.Sprintf("Wharf scheduled task %s of app %s", s.Name, r.reg.Name)),
			}); err != nil {
				if apiCode(err) == "ValidationException" {
					return permanent(ReasonScheduleRejected, "schedule %s: %v", s.Name, err)
				}
				return fmt.Errorf("eventbridge PutRule %s: %w", name, err)
			}
			r.log.Info("schedule rule put", "build", op.Build, "rule", name)
		} else {
			cur, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(name)})
			if err != nil {
				return fmt.Errorf("eventbridge ListTargetsByRule %s: %w", name, err)
			}
			if len(cur.Targets) == 1 && sameTarget(cur.Targets[0], target) {
				continue
			}
		}
		out, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []ebtypes.Target{target}})
		if err != nil {
			return fmt.Errorf("eventbridge PutTargets %s: %w", name, err)
		}
		if out.FailedEntryCount > 0 && len(out.FailedEntries) > 0 {
			f := out.FailedEntries[0]
			return fmt.Errorf("eventbridge PutTargets %s: %s %s", name, aws.ToString(f.ErrorCode), aws.ToString(f.ErrorMessage))
		}
	}
	var stale []string
	for name := range existing {
		if _, ok := want[name]; !ok {
			stale = append(stale, name)
		}
	}
	sort.Strings(stale)
	for _, name := range stale {
		cur, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(name)})
		if err != nil && apiCode(err) != "ResourceNotFoundException" {
			return fmt.Errorf("eventbridge ListTargetsByRule %s: %w", name, err)
		}
		if cur != nil && len(cur.Targets) > 0 {
			ids := make([]string, 0, len(cur.Targets))
			for _, t := range cur.Targets {
				ids = append(ids, aws.ToString(t.Id))
			}
			if _, err := eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(name), Ids: ids}); err != nil &&
				apiCode(err) != "ResourceNotFoundException" {
				return fmt.Errorf("eventbridge RemoveTargets %s: %w", name, err)
			}
		}
		if _, err := eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(name)}); err != nil &&
			apiCode(err) != "ResourceNotFoundException" {
			return fmt.Errorf("eventbridge DeleteRule %s: %w", name, err)
		}
		r.log.Info("schedule rule deleted", "build", op.Build, "rule", name)
	}
	return nil
}

func (r *run) scheduleTarget(set *Settings, op *Operation, s Schedule) ebtypes.Target {
	input, _ := json.Marshal(map[string]any{
		"containerOverrides": []map[string]any{{
			"name": ContainerName, "command": []string{"/bin/sh", "-c", s.Command},
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
			TaskDefinitionArn: aws.String(op.TaskDefs[ReleaseFamilySuffix]),
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
