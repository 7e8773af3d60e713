package app

import (
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// nagResource is a cdk-nag AppliesTo matcher for a wildcard resource of
// this app; pattern is a regular expression for what follows "Resource::".
func nagResource(pattern string) interface{} {
	return &cdknag.RegexAppliesTo{Regex: jsii.String("/^Resource::" + pattern + "$/")}
}

// suppress records the cdk-nag findings this construct accepts, each with
// its reason. Every IAM5 suppression is limited to the exact wildcard
// patterns of this app (AppliesTo), so a new wildcard still fails.
func (a *App) suppress(props *AppProps) {
	q := regexp.QuoteMeta
	arn := func(service, rest string) string {
		return `arn:<AWS::Partition>:` + service + `:[^:]+:[^:]+:` + rest
	}
	app := q(a.Prefix) + `-` + q(a.Name)
	star := "Resource::*"
	logs := nagResource(arn("logs", `log-group:\/`+q(a.Prefix)+`\/apps\/`+q(a.Name)+`(\/deploys|\/activity)?:log-stream:\*`))
	activity := nagResource(arn("logs", `log-group:\/`+q(a.Prefix)+`\/apps\/`+q(a.Name)+`\/activity:\*`))
	config := nagResource(arn("ssm", `parameter\/`+q(a.Prefix)+`\/apps\/`+q(a.Name)+`\/config\/\*`))
	taskDefs := nagResource(arn("ecs", `task-definition\/`+app+`_\*`))
	tasks := nagResource(arn("ecs", `task\/.+\/\*`))
	services := nagResource(arn("ecs", `service\/.+\/`+app+`_\*`))
	rules := nagResource(arn("events", `rule\/`+app+`_schedule-\*`))
	objects := nagResource(`<[A-Za-z0-9]+\.Arn>\/(builds\/)?\*`)
	scalableTargets := nagResource(arn("application-autoscaling", `scalable-target\/\*`))

	iam5 := func(role awsiam.Role, reason string, appliesTo ...interface{}) {
		if role == nil {
			return
		}
		cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String(reason), AppliesTo: &appliesTo,
		}}, jsii.Bool(true))
	}
	iam5(a.ExecutionRole, "execution role: ecr:GetAuthorizationToken has no resource type; log streams are created per task in this app's log group; "+
		"config is this app's own path /"+a.Prefix+"/apps/"+a.Name+"/config/*", star, logs, config)
	iam5(a.TaskRole, "task role: the ssmmessages channel actions ECS Exec needs have no resource type", star)
	iam5(a.EventsRole, "events role: task-definition/"+a.Prefix+"-"+a.Name+"_* matches only this app's families (app names have no _); "+
		"task/<cluster>/* is the tag-on-create check of the tasks RunTask starts, whose IDs are not known in advance", taskDefs, tasks)
	iam5(a.BuildRole, "build role: ecr:GetAuthorizationToken has no resource type; build log streams are created per build in this app's deploy log group; "+
		"artifacts are written under builds/ of this app's bucket with build-ID keys", star, logs, objects)
	iam5(a.ManagementRole, "management role: services and task definitions match only this app's names (<prefix>-<app>_*), schedule rules only "+
		"<prefix>-<app>_schedule-*, build metadata only this app's bucket; task ARNs carry no family so DescribeTasks covers the cluster's tasks (read only); "+
		"ListServices/ListTasks (ecs:cluster condition), RegisterTaskDefinition/DescribeTaskDefinition, events:ListRules and ssm:DescribeParameters have no resource type; "+
		"activity streams are created per build in this app's activity log group only; "+
		"scalable-target/* because Application Auto Scaling names a target by an ID it assigns (not the service), so the statement is pinned "+
		"by application-autoscaling:service-namespace ecs and scalable-dimension ecs:service:DesiredCount instead",
		services, taskDefs, tasks, rules, objects, star, activity, scalableTargets)
	iam5(a.UserRole, "user role: log streams (app, deploy and activity logs) and config parameters of this app only; services match <prefix>-<app>_*; task ARNs carry no family so ExecuteCommand "+
		"and DescribeTasks are limited by the wharf:app tag; ListServices/ListTasks have no resource type (ecs:cluster condition); "+
		"one-off tasks (wharf run, exec, shell) RunTask only this app's families task-definition/<prefix>-<app>_* (app names have no _) in its cluster (ecs:cluster), "+
		"and StopTask/TagResource on task/<cluster>/* are limited by the wharf:app tag and ecs:cluster",
		logs, config, services, tasks, star, taskDefs)

	cdknag.NagSuppressions_AddResourceSuppressions(a.ArtifactBucket, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("the bucket holds only wharf-build.json files written by this app's build role and read by its management role; " +
			"object access can be audited with CloudTrail data events, and a second log bucket per app would double the buckets"),
	}}, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(a.Project, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-CB4"),
		Reason: jsii.String("the only artifact is wharf-build.json (no secrets), stored with the bucket's SSE-S3 encryption; a customer managed key would " +
			"cost a key per app and force kms:Decrypt on the control plane's management role"),
	}}, jsii.Bool(true))
}

var _ constructs.IConstruct = (*App)(nil)
