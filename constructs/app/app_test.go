package app_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/constructs/app"
	"github.com/wharf-paas/wharf/constructs/app/apptest"
	"github.com/wharf-paas/wharf/internal/cdktest"
)

// starActions are the actions Wharf grants on Resource "*", each because
// AWS defines no resource type for it (Service Authorization Reference).
var starActions = map[string]string{
	"ecr:GetAuthorizationToken":        "no resource type",
	"ssmmessages:CreateControlChannel": "no resource type (ECS Exec)",
	"ssmmessages:CreateDataChannel":    "no resource type (ECS Exec)",
	"ssmmessages:OpenControlChannel":   "no resource type (ECS Exec)",
	"ssmmessages:OpenDataChannel":      "no resource type (ECS Exec)",
	"ecs:ListServices":                 "no resource type; limited by ecs:cluster",
	"ecs:ListTasks":                    "container-instance only; limited by ecs:cluster",
	"ecs:RegisterTaskDefinition":       "no resource type",
	"ecs:DescribeTaskDefinition":       "no resource type",
	"events:ListRules":                 "no resource type",
	"ssm:DescribeParameters":           "no resource type",
	// Application Auto Scaling's describe actions have no resource type
	// (Service Authorization Reference); they return ranges and policies.
	"application-autoscaling:DescribeScalableTargets": "no resource type",
	"application-autoscaling:DescribeScalingPolicies": "no resource type",
}

func resource(t *testing.T, tpl map[string]interface{}, id string) map[string]interface{} {
	t.Helper()
	res, _ := tpl["Resources"].(map[string]interface{})
	r, ok := res[id].(map[string]interface{})
	if !ok {
		t.Fatalf("resource %s not in template", id)
	}
	return r
}

func props(t *testing.T, tpl map[string]interface{}, id string) map[string]interface{} {
	t.Helper()
	p, _ := resource(t, tpl, id)["Properties"].(map[string]interface{})
	return p
}

// statement returns the one statement with sid in role's policies.
func statement(t *testing.T, tpl map[string]interface{}, roleID, sid string) apptest.Statement {
	t.Helper()
	sts := apptest.FindStatement(tpl, roleID, sid)
	if len(sts) != 1 {
		t.Fatalf("%s: want one statement %s, found %d", roleID, sid, len(sts))
	}
	return sts[0]
}

func wantStatement(t *testing.T, tpl map[string]interface{}, roleID, sid string, actions []string, resources ...string) apptest.Statement {
	t.Helper()
	st := statement(t, tpl, roleID, sid)
	got := slices.Clone(st.Actions)
	slices.Sort(got)
	want := slices.Clone(actions)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s[%s]: actions %v, want %v", roleID, sid, got, want)
	}
	if res := apptest.ResourcesOf(st); !slices.Equal(res, resources) {
		t.Errorf("%s[%s]: resources %v, want %v", roleID, sid, res, resources)
	}
	return st
}

func TestNagClean(t *testing.T) {
	f := getFixture(t)
	cdktest.AssertNagClean(t, f.apiStack)
	cdktest.AssertNagClean(t, f.workerStack)
}

func TestNoWildcardActionsAndOnlyRequiredStarResources(t *testing.T) {
	f := getFixture(t)
	for name, tpl := range map[string]map[string]interface{}{"api": f.apiJSON, "worker": f.workerJSON} {
		if n := len(apptest.Statements(tpl)); n < 20 {
			t.Fatalf("%s: only %d statements found; the checker is not seeing the policies", name, n)
		}
		for _, p := range apptest.Check(tpl, apptest.Policy{StarResourceActions: starActions}) {
			t.Errorf("%s: %s", name, p)
		}
	}
}

func TestCheckerCatchesBroadStatements(t *testing.T) {
	tpl := map[string]interface{}{"Resources": map[string]interface{}{
		"R": map[string]interface{}{"Type": "AWS::IAM::Role", "Properties": map[string]interface{}{"Policies": []interface{}{
			map[string]interface{}{"PolicyName": "p", "PolicyDocument": map[string]interface{}{"Statement": []interface{}{
				map[string]interface{}{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
				map[string]interface{}{"Effect": "Allow", "Action": []interface{}{"s3:GetObject"}, "Resource": "*"},
				map[string]interface{}{"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"},
			}}},
		}}},
	}}
	problems := apptest.Check(tpl, apptest.Policy{StarResourceActions: starActions})
	if len(problems) != 3 {
		t.Fatalf("want 3 problems, got %d: %v", len(problems), problems)
	}
}

const (
	mgmt     = "AppManagementRole4A627F40"
	execRole = "AppExecutionRole02BC3DDE"
	task     = "AppTaskRole9B4EA8ED"
	events   = "AppEventsRole6C6FD6B7"
	user     = "AppUserRole5EA75881"
	build    = "AppBuildRole2B51A498"
	// taskPolicy holds the statements added after the task role exists.
	taskPolicy = "AppTaskRoleDefaultPolicy5936E41C"
)

const (
	clusterArn   = "<import>"
	acct         = ":eu-west-1:111122223333:"
	services     = "arn:<AWS::Partition>:ecs" + acct + "service/<import>/wharf-api_*"
	taskDefs     = "arn:<AWS::Partition>:ecs" + acct + "task-definition/wharf-api_*"
	tasks        = "arn:<AWS::Partition>:ecs" + acct + "task/<import>/*"
	configParams = "arn:<AWS::Partition>:ssm" + acct + "parameter/wharf/apps/api/config/*"
)

func TestManagementRole(t *testing.T) {
	f := getFixture(t)
	tpl := f.apiJSON
	p := props(t, tpl, mgmt)
	if p["RoleName"] != "wharf-app-api-management" {
		t.Errorf("RoleName = %v", p["RoleName"])
	}
	trust := apptest.JSON(p["AssumeRolePolicyDocument"])
	for _, want := range []string{`"sts:ExternalId":"ext-api-123"`, `:iam::999988887777:root`, `"Action":"sts:AssumeRole"`} {
		if !strings.Contains(trust, want) {
			t.Errorf("trust policy %s lacks %s", trust, want)
		}
	}
	st := wantStatement(t, tpl, mgmt, "ManageOwnServices", []string{"ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService", "ecs:DescribeServices"}, services)
	if c := apptest.JSON(st.Condition); !strings.Contains(c, `"ArnLikeIfExists"`) || !strings.Contains(c, "task-definition/wharf-api_*") {
		t.Errorf("ManageOwnServices condition %s does not pin the task-definition family", c)
	}
	st = wantStatement(t, tpl, mgmt, "RunOwnTasks", []string{"ecs:RunTask"}, taskDefs)
	if c := apptest.JSON(st.Condition); !strings.Contains(c, `"ecs:cluster"`) {
		t.Errorf("RunOwnTasks not limited to the cluster: %s", c)
	}
	wantStatement(t, tpl, mgmt, "DescribeClusterTasks", []string{"ecs:DescribeTasks"}, tasks)
	st = wantStatement(t, tpl, mgmt, "StopOwnTasks", []string{"ecs:StopTask"}, tasks)
	if c := apptest.JSON(st.Condition); !strings.Contains(c, `"ecs:cluster"`) || !strings.Contains(c, `"aws:ResourceTag/wharf:app":"api"`) {
		t.Errorf("StopOwnTasks not limited to the cluster and the app's tag: %s", c)
	}
	st = wantStatement(t, tpl, mgmt, "ListInCluster", []string{"ecs:ListServices", "ecs:ListTasks"}, "*")
	if c := apptest.JSON(st.Condition); !strings.Contains(c, `"ArnEquals":{"ecs:cluster"`) {
		t.Errorf("ListInCluster condition %s", c)
	}
	wantStatement(t, tpl, mgmt, "RegisterTaskDefinitions", []string{"ecs:RegisterTaskDefinition"}, "*")
	wantStatement(t, tpl, mgmt, "DescribeTaskDefinitions", []string{"ecs:DescribeTaskDefinition"}, "*")
	wantStatement(t, tpl, mgmt, "TagOnCreate", []string{"ecs:TagResource"}, services, taskDefs, tasks)
	st = wantStatement(t, tpl, mgmt, "PassOwnTaskRoles", []string{"iam:PassRole"}, "<"+execRole+".Arn>", "<"+task+".Arn>")
	if c := apptest.JSON(st.Condition); c != `{"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}` {
		t.Errorf("PassOwnTaskRoles condition %s", c)
	}
	st = wantStatement(t, tpl, mgmt, "PassOwnEventsRole", []string{"iam:PassRole"}, "<"+events+".Arn>")
	if c := apptest.JSON(st.Condition); c != `{"StringEquals":{"iam:PassedToService":"events.amazonaws.com"}}` {
		t.Errorf("PassOwnEventsRole condition %s", c)
	}
	wantStatement(t, tpl, mgmt, "ReadOwnBuildMetadata", []string{"s3:GetObject"}, "<AppArtifacts84A44C7D.Arn>/*")
	wantStatement(t, tpl, mgmt, "ReadOwnBuilds", []string{"codebuild:BatchGetBuilds", "codebuild:ListBuildsForProject"}, "<AppBuildC4D5B8FE.Arn>")
	wantStatement(t, tpl, mgmt, "ManageOwnSchedules", []string{"events:PutRule", "events:DeleteRule", "events:RemoveTargets", "events:ListTargetsByRule"},
		"arn:<AWS::Partition>:events"+acct+"rule/wharf-api_schedule-*")
	wantStatement(t, tpl, mgmt, "TargetOwnCluster", []string{"events:PutTargets"}, "arn:<AWS::Partition>:events"+acct+"rule/wharf-api_schedule-*")
	wantStatement(t, tpl, mgmt, "ListRules", []string{"events:ListRules"}, "*")
	wantStatement(t, tpl, mgmt, "ReadOwnSettings", []string{"ssm:GetParameter"}, "arn:<AWS::Partition>:ssm"+acct+"parameter/wharf/apps/api/settings")
	wantStatement(t, tpl, mgmt, "ListConfigNames", []string{"ssm:DescribeParameters"}, "*")
	wantStatement(t, tpl, mgmt, "PublishStatus", []string{"ssm:GetParameter", "ssm:PutParameter"}, "arn:<AWS::Partition>:ssm"+acct+"parameter/wharf/apps/api/status")
	wantStatement(t, tpl, mgmt, "AppendActivity", []string{"logs:CreateLogStream", "logs:PutLogEvents"},
		"arn:<AWS::Partition>:logs"+acct+"log-group:/wharf/apps/api/activity", "arn:<AWS::Partition>:logs"+acct+"log-group:/wharf/apps/api/activity:*")
	// Runtime requests and Application Auto Scaling (issue 11).
	wantStatement(t, tpl, mgmt, "ReadOwnRequests", []string{"ssm:GetParameter"}, "arn:<AWS::Partition>:ssm"+acct+"parameter/wharf/apps/api/scale",
		"arn:<AWS::Partition>:ssm"+acct+"parameter/wharf/apps/api/restart", "arn:<AWS::Partition>:ssm"+acct+"parameter/wharf/apps/api/rollback")
	st = wantStatement(t, tpl, mgmt, "AutoscaleServices", []string{"application-autoscaling:RegisterScalableTarget",
		"application-autoscaling:DeregisterScalableTarget", "application-autoscaling:PutScalingPolicy"},
		"arn:<AWS::Partition>:application-autoscaling"+acct+"scalable-target/*")
	if c := apptest.JSON(st.Condition); !strings.Contains(c, `"application-autoscaling:service-namespace":"ecs"`) ||
		!strings.Contains(c, `"application-autoscaling:scalable-dimension":"ecs:service:DesiredCount"`) {
		t.Errorf("AutoscaleServices not pinned to ECS service desired counts: %s", c)
	}
	wantStatement(t, tpl, mgmt, "DescribeAutoscaling", []string{"application-autoscaling:DescribeScalableTargets",
		"application-autoscaling:DescribeScalingPolicies"}, "*")
	st = wantStatement(t, tpl, mgmt, "AutoscalingServiceLinkedRole", []string{"iam:CreateServiceLinkedRole"},
		"arn:<AWS::Partition>:iam::<AWS::AccountId>:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService")
	if c := apptest.JSON(st.Condition); c != `{"StringEquals":{"iam:AWSServiceName":"ecs.application-autoscaling.amazonaws.com"}}` {
		t.Errorf("AutoscalingServiceLinkedRole condition %s", c)
	}
	for _, st := range apptest.FindStatement(tpl, mgmt, "") {
		t.Errorf("statement without Sid: %+v", st)
	}
	all := apptest.JSON(p["Policies"])
	if strings.Contains(all, "kms:") {
		t.Error("management role must not have any KMS permission (no decryption of config)")
	}
	if n := len(apptest.Statements(map[string]interface{}{"Resources": map[string]interface{}{mgmt: resource(t, tpl, mgmt)}})); n != 23 {
		t.Errorf("management role has %d statements, want exactly the 23 asserted", n)
	}
}

func TestExecutionTaskEventsAndBuildRoles(t *testing.T) {
	f := getFixture(t)
	tpl := f.apiJSON
	wantStatement(t, tpl, execRole, "PullOwnImages", []string{"ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"}, "<AppRepository2CEDC083.Arn>")
	wantStatement(t, tpl, execRole, "RegistryLogin", []string{"ecr:GetAuthorizationToken"}, "*")
	wantStatement(t, tpl, execRole, "WriteOwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, "arn:<AWS::Partition>:logs"+acct+"log-group:/wharf/apps/api:log-stream:*")
	wantStatement(t, tpl, execRole, "ReadOwnConfig", []string{"ssm:GetParameters"}, configParams)

	wantStatement(t, tpl, task, "EcsExecChannels", []string{"ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"}, "*")
	wantStatement(t, tpl, taskPolicy, "ConnectToOwnDatabase", []string{"rds-db:connect"}, "arn:<AWS::Partition>:rds-db"+acct+"dbuser:<import>/api")
	if mp := apptest.JSON(props(t, tpl, task)["ManagedPolicyArns"]); mp != `["arn:aws:iam::111122223333:policy/api-extra"]` {
		t.Errorf("task role managed policies %s", mp)
	}

	st := wantStatement(t, tpl, events, "RunOwnTasks", []string{"ecs:RunTask"}, taskDefs)
	if !strings.Contains(apptest.JSON(st.Condition), `"ecs:cluster"`) {
		t.Error("events role RunTask not limited to the cluster")
	}
	wantStatement(t, tpl, events, "TagOwnTasks", []string{"ecs:TagResource"}, tasks)
	wantStatement(t, tpl, events, "PassOwnTaskRoles", []string{"iam:PassRole"}, "<"+execRole+".Arn>", "<"+task+".Arn>")

	wantStatement(t, tpl, build, "WriteBuildLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, "arn:<AWS::Partition>:logs"+acct+"log-group:/wharf/apps/api/deploys:log-stream:*")
	wantStatement(t, tpl, build, "PushOwnImages", []string{"ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage",
		"ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"}, "<AppRepository2CEDC083.Arn>")
	wantStatement(t, tpl, build, "UploadBuildMetadata", []string{"s3:PutObject"}, "<AppArtifacts84A44C7D.Arn>/builds/*")
	wantStatement(t, tpl, build, "ReadDockerHubCredentials", []string{"ssm:GetParameter"}, "arn:<AWS::Partition>:ssm"+acct+"parameter/wharf/account/dockerhub")
	wantStatement(t, tpl, build, "LocateArtifactBucket", []string{"s3:GetBucketAcl", "s3:GetBucketLocation"}, "<AppArtifacts84A44C7D.Arn>")
	wantStatement(t, tpl, build, "UseSourceConnection", []string{"codeconnections:UseConnection", "codeconnections:GetConnectionToken", "codeconnections:GetConnection",
		"codestar-connections:UseConnection", "codestar-connections:GetConnectionToken", "codestar-connections:GetConnection"}, connectionArn)
	if got := apptest.FindStatement(f.workerJSON, build, "UseSourceConnection"); len(got) != 0 {
		t.Error("worker has no connection but its build role can use one")
	}
	// The tests' report group, and no other.
	wantStatement(t, tpl, build, "WriteTestReports", []string{"codebuild:CreateReport", "codebuild:UpdateReport", "codebuild:BatchPutTestCases"},
		"<AppTestReports752EA0A2.Arn>")
	if rg := props(t, tpl, "AppTestReports752EA0A2"); rg["Name"] != "wharf-api-tests" || rg["Type"] != "TEST" {
		t.Errorf("report group %s", apptest.JSON(rg))
	}
	// CDK's own CodeBuild grants (wildcard S3 actions, /aws/codebuild
	// groups, report groups) must not reach the role.
	for _, st := range apptest.Statements(tpl) {
		if st.Sid == "WriteTestReports" {
			continue
		}
		for _, r := range apptest.ResourcesOf(st) {
			if strings.Contains(r, "/aws/codebuild/") || strings.Contains(r, "report-group") {
				t.Errorf("%s grants %v on %s", st.Where, st.Actions, r)
			}
		}
	}
}

func TestUserRole(t *testing.T) {
	f := getFixture(t)
	tpl := f.apiJSON
	p := props(t, tpl, user)
	if p["RoleName"] != "wharf-app-api-user" {
		t.Errorf("RoleName = %v", p["RoleName"])
	}
	trust := apptest.JSON(p["AssumeRolePolicyDocument"])
	for _, want := range []string{
		`"Action":"sts:AssumeRoleWithWebIdentity"`,
		`"login.example.com:aud":["wharf-cli"]`,
		`"login.example.com:email":["alice@example.com","bob@example.com"]`,
		`oidc-provider/login.example.com`,
	} {
		if !strings.Contains(trust, want) {
			t.Errorf("user trust policy %s lacks %s", trust, want)
		}
	}
	wantStatement(t, tpl, user, "BuildOwnProject", []string{"codebuild:StopBuild", "codebuild:BatchGetBuilds", "codebuild:ListBuildsForProject"}, "<AppBuildC4D5B8FE.Arn>")
	wantStatement(t, tpl, user, "StartOwnBuildAsConfigured", []string{"codebuild:StartBuild"}, "<AppBuildC4D5B8FE.Arn>")
	wantStatement(t, tpl, user, "ManageOwnConfig", []string{"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory",
		"ssm:PutParameter", "ssm:DeleteParameter", "ssm:DeleteParameters", "ssm:AddTagsToResource", "ssm:ListTagsForResource"},
		"arn:<AWS::Partition>:ssm"+acct+"parameter/wharf/apps/api/config", configParams)
	wantStatement(t, tpl, user, "ExecInCluster", []string{"ecs:ExecuteCommand"}, "<import>")
	st := wantStatement(t, tpl, user, "ExecIntoOwnTasks", []string{"ecs:ExecuteCommand"}, tasks)
	if c := apptest.JSON(st.Condition); c != `{"StringEquals":{"aws:ResourceTag/wharf:app":"api"}}` {
		t.Errorf("ExecIntoOwnTasks condition %s", c)
	}
	// One-off tasks (wharf run, exec --new, shell, db shell).
	st = wantStatement(t, tpl, user, "RunOwnOneOffTasks", []string{"ecs:RunTask"}, taskDefs)
	if c := apptest.JSON(st.Condition); !strings.Contains(c, `"ArnEquals":{"ecs:cluster":`) {
		t.Errorf("RunOwnOneOffTasks not limited to the cluster: %s", c)
	}
	st = wantStatement(t, tpl, user, "PassOwnTaskRolesToOneOffTasks", []string{"iam:PassRole"}, "<"+execRole+".Arn>", "<"+task+".Arn>")
	if c := apptest.JSON(st.Condition); c != `{"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}` {
		t.Errorf("PassOwnTaskRolesToOneOffTasks condition %s", c)
	}
	st = wantStatement(t, tpl, user, "TagOwnOneOffTasks", []string{"ecs:TagResource"}, tasks)
	if c := apptest.JSON(st.Condition); c != `{"ForAllValues:StringEquals":{"aws:TagKeys":["wharf:app"]},"StringEquals":{"aws:RequestTag/wharf:app":"api","ecs:CreateAction":"RunTask"}}` {
		t.Errorf("TagOwnOneOffTasks condition %s", c)
	}
	st = wantStatement(t, tpl, user, "StopOwnTasks", []string{"ecs:StopTask"}, tasks)
	if c := apptest.JSON(st.Condition); !strings.Contains(c, `"StringEquals":{"aws:ResourceTag/wharf:app":"api"}`) || !strings.Contains(c, `"ecs:cluster"`) {
		t.Errorf("user StopOwnTasks condition %s", c)
	}
	wantStatement(t, tpl, user, "ReadOwnStatus", []string{"ssm:GetParameter"}, "arn:<AWS::Partition>:ssm"+acct+"parameter/wharf/apps/api/status")
	wantStatement(t, tpl, user, "WriteOwnRuntimeRequests", []string{"ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"},
		"arn:<AWS::Partition>:ssm"+acct+"parameter/wharf/apps/api/scale", "arn:<AWS::Partition>:ssm"+acct+"parameter/wharf/apps/api/restart",
		"arn:<AWS::Partition>:ssm"+acct+"parameter/wharf/apps/api/rollback")
	wantStatement(t, tpl, user, "ReadOwnTrustPolicy", []string{"iam:GetRole"}, "arn:<AWS::Partition>:iam::111122223333:role/wharf-app-api-user")
	logs := statement(t, tpl, user, "ReadOwnLogs")
	if r := strings.Join(apptest.ResourcesOf(logs), " "); !strings.Contains(r, "log-group:/wharf/apps/api:log-stream:*") || !strings.Contains(r, "log-group:/wharf/apps/api/deploys:log-stream:*") ||
		!strings.Contains(r, "log-group:/wharf/apps/api/activity:log-stream:*") || !strings.Contains(r, "log-group:/wharf/apps/api/activity ") {
		t.Errorf("ReadOwnLogs resources %s", r)
	}
	if _, ok := f.workerJSON["Resources"].(map[string]interface{})[user]; ok {
		t.Error("worker has no allowed users but got a user role")
	}
}

func TestSettingsParameter(t *testing.T) {
	f := getFixture(t)
	p := props(t, f.apiJSON, "AppSettingsBAC69173")
	if p["Name"] != "/wharf/apps/api/settings" || p["Type"] != "String" {
		t.Fatalf("settings parameter %v %v", p["Name"], p["Type"])
	}
	var s map[string]interface{}
	if err := json.Unmarshal([]byte(apptest.Render(p["Value"])), &s); err != nil {
		t.Fatalf("settings value is not JSON: %v", err)
	}
	want := map[string]interface{}{
		"version": 1.0, "app": "api", "prefix": "wharf", "clusterArn": clusterArn, "assignPublicIp": true, "launchType": "FARGATE",
		"targetGroupArn": "<AppTargetGroup9D7D4FA1>", "containerPort": 8080.0, "executionRoleArn": "<" + execRole + ".Arn>",
		"taskRoleArn": "<" + task + ".Arn>", "eventsRoleArn": "<" + events + ".Arn>", "logGroup": "<AppLogs2EC8A6C6>",
		"codebuildProject": "<AppBuildC4D5B8FE>", "configPrefix": "/wharf/apps/api/config/", "branch": "main", "repository": "<AppRepository2CEDC083>",
		"requestCountLabel": "<import>/<AppTargetGroup9D7D4FA1.TargetGroupFullName>",
		"subnets":           []interface{}{"<import>", "<import>", "<import>"}, "securityGroups": []interface{}{"<import>", "<AppSecurityGroupC292657D.GroupId>"},
	}
	if apptest.JSON(s) != apptest.JSON(want) {
		t.Errorf("settings\n got %s\nwant %s", apptest.JSON(s), apptest.JSON(want))
	}
	var w map[string]interface{}
	if err := json.Unmarshal([]byte(apptest.Render(props(t, f.workerJSON, "AppSettingsBAC69173")["Value"])), &w); err != nil {
		t.Fatal(err)
	}
	if w["launchType"] != "EC2" || w["assignPublicIp"] != false || w["containerPort"] != 3000.0 || w["app"] != "worker-v2" {
		t.Errorf("worker settings %v", w)
	}
}

func TestBuildProject(t *testing.T) {
	f := getFixture(t)
	p := props(t, f.apiJSON, "AppBuildC4D5B8FE")
	env := apptest.JSON(p["Environment"])
	for _, want := range []string{`"PrivilegedMode":true`, `"Image":"aws/codebuild/standard:7.0"`, `"Name":"WHARF_APP","Type":"PLAINTEXT","Value":"api"`,
		`"Name":"WHARF_PREFIX","Type":"PLAINTEXT","Value":"wharf"`, `"Name":"WHARF_MAX_SCHEDULE_NAME","Type":"PLAINTEXT","Value":"32"`, `"Name":"WHARF_IMAGE_REPO"`, `"Name":"WHARF_PACK_VERSION","Type":"PLAINTEXT","Value":"` + app.PackVersion + `"`,
		`"Name":"WHARF_DOCKERHUB_PARAMETER","Type":"PLAINTEXT","Value":"/wharf/account/dockerhub"`,
		`"Name":"WHARF_BRANCH","Type":"PLAINTEXT","Value":"main"`, `"Name":"WHARF_PACK_SHA256","Type":"PLAINTEXT","Value":"` + app.PackSHA256 + `"`,
		`"Name":"WHARF_TRUSTED_BUILDERS","Type":"PLAINTEXT","Value":"` + app.DefaultTrustedBuilder + `"`} {
		if !strings.Contains(env, want) {
			t.Errorf("environment %s lacks %s", env, want)
		}
	}
	if p["Name"] != "wharf-api" {
		t.Errorf("project name %v", p["Name"])
	}
	if a := apptest.JSON(p["Artifacts"]); a != `{"EncryptionDisabled":true,"Location":{"Ref":"AppArtifacts84A44C7D"},"Name":"wharf","NamespaceType":"BUILD_ID","Packaging":"NONE","Path":"builds","Type":"S3"}` {
		t.Errorf("artifacts %s", a)
	}
	src, _ := p["Source"].(map[string]interface{})
	if src["Type"] != "GITHUB" || src["Location"] != "https://github.com/acme/api.git" || apptest.JSON(src["Auth"]) != `{"Resource":"`+connectionArn+`","Type":"CODECONNECTIONS"}` {
		t.Errorf("source %s", apptest.JSON(src))
	}
	if tr := apptest.JSON(p["Triggers"]); tr != `{"FilterGroups":[[{"Pattern":"PUSH","Type":"EVENT"},{"Pattern":"^refs/heads/main$","Type":"HEAD_REF"}]],"Webhook":true}` {
		t.Errorf("triggers %s", tr)
	}
	if p["SourceVersion"] != "main" {
		t.Errorf("source version %v", p["SourceVersion"])
	}
	if lc := apptest.JSON(p["LogsConfig"]); !strings.Contains(lc, `"GroupName":{"Ref":"AppDeployLogs8F577BA0"}`) || !strings.Contains(lc, `"StreamName":"build"`) {
		t.Errorf("logs config %s", lc)
	}
	w := props(t, f.workerJSON, "AppBuildC4D5B8FE")
	wsrc, _ := w["Source"].(map[string]interface{})
	if wsrc["Type"] != "BITBUCKET" || wsrc["Location"] != "https://bitbucket.org/acme/worker.git" || wsrc["Auth"] != nil {
		t.Errorf("worker source %s", apptest.JSON(wsrc))
	}
	if tr := apptest.JSON(w["Triggers"]); tr != `{"Webhook":false}` {
		t.Errorf("worker triggers %s (webhook must be off)", tr)
	}
	if w["SourceVersion"] != "release/2.x" || w["Name"] != "wharf-worker-v2" {
		t.Errorf("worker source version %v name %v", w["SourceVersion"], w["Name"])
	}
}

func TestStorage(t *testing.T) {
	f := getFixture(t)
	tpl := assertions.Template_FromJSON(&f.apiJSON, nil)
	cdktest.Check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]interface{}{
			"BucketEncryption": map[string]interface{}{"ServerSideEncryptionConfiguration": []interface{}{
				map[string]interface{}{"ServerSideEncryptionByDefault": map[string]interface{}{"SSEAlgorithm": "AES256"}}}},
			"PublicAccessBlockConfiguration": map[string]interface{}{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
			"LifecycleConfiguration": map[string]interface{}{"Rules": []interface{}{map[string]interface{}{
				"ExpirationInDays": 90, "Status": "Enabled", "AbortIncompleteMultipartUpload": map[string]interface{}{"DaysAfterInitiation": 1}}}},
		})
	})
	cdktest.Check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]interface{}{
			"PolicyDocument": map[string]interface{}{"Statement": []interface{}{map[string]interface{}{
				"Effect": "Deny", "Action": "s3:*", "Condition": map[string]interface{}{"Bool": map[string]interface{}{"aws:SecureTransport": "false"}},
			}}},
		})
	})
	repo := props(t, f.apiJSON, "AppRepository2CEDC083")
	if apptest.JSON(repo["ImageScanningConfiguration"]) != `{"ScanOnPush":true}` || repo["EmptyOnDelete"] != true {
		t.Errorf("repository %s", apptest.JSON(repo))
	}
	if lp := apptest.JSON(repo["LifecyclePolicy"]); !strings.Contains(lp, `\"countNumber\":30`) || !strings.Contains(lp, `imageCountMoreThan`) {
		t.Errorf("api lifecycle %s", lp)
	}
	if lp := apptest.JSON(props(t, f.workerJSON, "AppRepository2CEDC083")["LifecyclePolicy"]); !strings.Contains(lp, `\"countNumber\":5`) {
		t.Errorf("worker lifecycle %s", lp)
	}
	if r := apptest.JSON(props(t, f.workerJSON, "AppArtifacts84A44C7D")["LifecycleConfiguration"]); !strings.Contains(r, `"ExpirationInDays":14`) {
		t.Errorf("worker artifact lifecycle %s", r)
	}
	if dp := resource(t, f.apiJSON, "AppArtifacts84A44C7D")["DeletionPolicy"]; dp != "Retain" {
		t.Errorf("bucket deletion policy %v", dp)
	}
}

func TestLoadBalancing(t *testing.T) {
	f := getFixture(t)
	rule := props(t, f.apiJSON, "AppListenerRuleA5868D6E")
	if rule["Priority"] != float64(app.RulePriority("api")) || f.api.Priority != app.RulePriority("api") {
		t.Errorf("priority %v, want %d", rule["Priority"], app.RulePriority("api"))
	}
	if c := apptest.JSON(rule["Conditions"]); c != `[{"Field":"host-header","HostHeaderConfig":{"Values":["api.apps.example.com","api.acme.com","www.acme.com"]}}]` {
		t.Errorf("conditions %s", c)
	}
	if a := apptest.JSON(rule["Actions"]); !strings.Contains(a, `"TargetGroupArn":{"Ref":"AppTargetGroup9D7D4FA1"}`) || !strings.Contains(a, `"Type":"forward"`) {
		t.Errorf("actions %s", a)
	}
	tg := props(t, f.apiJSON, "AppTargetGroup9D7D4FA1")
	for k, v := range map[string]interface{}{"TargetType": "ip", "Port": 8080.0, "Protocol": "HTTP", "HealthCheckPath": "/", "HealthCheckIntervalSeconds": 5.0,
		"HealthCheckTimeoutSeconds": 4.0, "HealthyThresholdCount": 2.0, "UnhealthyThresholdCount": 3.0} {
		if tg[k] != v {
			t.Errorf("api target group %s = %v, want %v", k, tg[k], v)
		}
	}
	if a := apptest.JSON(tg["TargetGroupAttributes"]); !strings.Contains(a, `{"Key":"deregistration_delay.timeout_seconds","Value":"15"}`) {
		t.Errorf("attributes %s", a)
	}
	wtg := props(t, f.workerJSON, "AppTargetGroup9D7D4FA1")
	for k, v := range map[string]interface{}{"Port": 3000.0, "HealthCheckPath": "/healthz", "HealthCheckIntervalSeconds": 10.0, "HealthCheckTimeoutSeconds": 6.0,
		"HealthyThresholdCount": 3.0, "UnhealthyThresholdCount": 4.0} {
		if wtg[k] != v {
			t.Errorf("worker target group %s = %v, want %v", k, wtg[k], v)
		}
	}
	if a := apptest.JSON(wtg["TargetGroupAttributes"]); !strings.Contains(a, `"Value":"0"`) {
		t.Errorf("worker attributes %s", a)
	}
	if p := props(t, f.workerJSON, "AppListenerRuleA5868D6E")["Priority"]; p != 42.0 {
		t.Errorf("worker priority override %v", p)
	}
}

func TestRulePriorityIsStableAndInRange(t *testing.T) {
	seen := map[int]string{}
	for _, name := range []string{"api", "web", "worker-v2", "billing", "admin", "a1", "shop", "search"} {
		p := app.RulePriority(name)
		if p != app.RulePriority(name) || p < app.MinPriority || p > app.MaxPriority {
			t.Errorf("RulePriority(%q) = %d", name, p)
		}
		if other, dup := seen[p]; dup {
			t.Errorf("%q and %q collide on %d", name, other, p)
		}
		seen[p] = name
	}
	// FNV-1a("api") is fixed: a change here would move every app's rule.
	if got := app.RulePriority("api"); got != 1000+int(fnv1a("api")%49001) {
		t.Errorf("RulePriority(api) = %d", got)
	}
}

func fnv1a(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func TestLogGroups(t *testing.T) {
	f := getFixture(t)
	for id, want := range map[string]string{"AppLogs2EC8A6C6": "/wharf/apps/api", "AppDeployLogs8F577BA0": "/wharf/apps/api/deploys"} {
		p := props(t, f.apiJSON, id)
		if p["LogGroupName"] != want || p["RetentionInDays"] != 30.0 {
			t.Errorf("%s: %v %v", id, p["LogGroupName"], p["RetentionInDays"])
		}
		if r := props(t, f.workerJSON, id)["RetentionInDays"]; r != 7.0 {
			t.Errorf("worker %s retention %v", id, r)
		}
	}
}

func TestEventRules(t *testing.T) {
	f := getFixture(t)
	check := func(id, want string) {
		t.Helper()
		p := props(t, f.apiJSON, id)
		if got := apptest.JSON(p["EventPattern"]); got != want {
			t.Errorf("%s pattern\n got %s\nwant %s", id, got, want)
		}
		if tg := apptest.JSON(p["Targets"]); !strings.Contains(tg, busArn) || !strings.Contains(tg, `"RoleArn":{"Fn::GetAtt":["AppEventBusRole716A6CFB","Arn"]}`) {
			t.Errorf("%s targets %s", id, tg)
		}
	}
	check("AppBuildEvents8708E27C", `{"detail":{"project-name":["wharf-api"]},"detail-type":["CodeBuild Build State Change","CodeBuild Build Phase Change"],"source":["aws.codebuild"]}`)
	check("AppTaskEvents113EC25A", `{"detail":{"clusterArn":[{"Fn::ImportValue":"wharf-cluster-main:ExportsOutputFnGetAttClusterEcs153FAA9AArn1D83347F"}],"taskDefinitionArn":[{"prefix":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ecs:eu-west-1:111122223333:task-definition/wharf-api_"]]}}]},"detail-type":["ECS Task State Change"],"source":["aws.ecs"]}`)
	check("AppServiceEvents5D19F698", `{"detail-type":["ECS Deployment State Change","ECS Service Action"],"resources":[{"prefix":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ecs:eu-west-1:111122223333:service/",{"Fn::ImportValue":"wharf-cluster-main:ExportsOutputRefClusterEcs153FAA9ADDE0E098"},"/wharf-api_"]]}}],"source":["aws.ecs"]}`)
	// One shared role for all three rules (findings #6).
	roles := 0
	for _, r := range f.apiJSON["Resources"].(map[string]interface{}) {
		rm := r.(map[string]interface{})
		p, _ := rm["Properties"].(map[string]interface{})
		if rm["Type"] == "AWS::IAM::Role" && strings.Contains(apptest.JSON(p["AssumeRolePolicyDocument"]), "events.amazonaws.com") {
			roles++
		}
	}
	if roles != 2 { // the event-bus role and the scheduled-task role
		t.Errorf("%d roles trust events.amazonaws.com, want 2", roles)
	}
	wantStatement(t, f.apiJSON, "AppEventBusRoleDefaultPolicyC5D416F6", "", []string{"events:PutEvents"}, busArn)
}

func TestDatabaseAttachment(t *testing.T) {
	f := getFixture(t)
	r := resource(t, f.apiJSON, "AppDatabaseResourceDDF69D46")
	if r["DeletionPolicy"] != "Retain" || apptest.JSON(r["Properties"]) != `{"Action":"create-database","App":"api","ServiceToken":{"Fn::ImportValue":"wharf-database-main:ExportsOutputFnGetAttDatabaseManagerEA6CDC18Arn2D99612E"}}` {
		t.Errorf("api database resource %s", apptest.JSON(r))
	}
	url := props(t, f.apiJSON, "AppDatabaseUrl7CFFCEB1")
	if url["Name"] != "/wharf/apps/api/config/DATABASE_URL" || url["Type"] != "String" || apptest.Render(url["Value"]) != "postgres://api@<import>:5432/api?sslmode=require" {
		t.Errorf("DATABASE_URL %s", apptest.JSON(url))
	}
	if d := apptest.JSON(resource(t, f.apiJSON, "AppDatabaseUrl7CFFCEB1")["DependsOn"]); !strings.Contains(d, "AppDatabaseResourceDDF69D46") {
		t.Errorf("DATABASE_URL does not wait for the database: %s", d)
	}
	w := resource(t, f.workerJSON, "AppDatabaseResourceDDF69D46")
	if w["DeletionPolicy"] == "Retain" || apptest.JSON(w["Properties"]) != `{"Action":"create-database","App":"worker-v2","DropOnDelete":"true","ServiceToken":{"Ref":"SsmParameterValuewharfdatabasesmainmanagerfunctionarnC96584B6F00A464EAD1953AFF4B05118Parameter"}}` {
		t.Errorf("worker database resource %s", apptest.JSON(w))
	}
	if v := apptest.Render(props(t, f.workerJSON, "AppDatabaseUrl7CFFCEB1")["Value"]); v != "postgres://worker_v2@<SsmParameterValuewharfdatabasesmainendpointC96584B6F00A464EAD1953AFF4B05118Parameter>:<SsmParameterValuewharfdatabasesmainportC96584B6F00A464EAD1953AFF4B05118Parameter>/worker_v2?sslmode=require" {
		t.Errorf("worker DATABASE_URL %s", v)
	}
	wantStatement(t, f.workerJSON, taskPolicy, "ConnectToOwnDatabase", []string{"rds-db:connect"},
		"arn:<AWS::Partition>:rds-db"+acct+"dbuser:<SsmParameterValuewharfdatabasesmainclusterresourceidC96584B6F00A464EAD1953AFF4B05118Parameter>/worker_v2")
	params, _ := f.workerJSON["Parameters"].(map[string]interface{})
	for k := range params {
		if strings.Contains(k, "securitygroupid") {
			t.Errorf("worker reads an SSM parameter it does not use: %s", k)
		}
	}
}

// TestPinnedLogicalIDs pins the logical IDs of the stateful resources: a
// change would make CloudFormation replace them (and lose images, logs or
// the database attachment).
func TestPinnedLogicalIDs(t *testing.T) {
	f := getFixture(t)
	for id, typ := range map[string]string{
		"AppArtifacts84A44C7D":        "AWS::S3::Bucket",
		"AppRepository2CEDC083":       "AWS::ECR::Repository",
		"AppLogs2EC8A6C6":             "AWS::Logs::LogGroup",
		"AppDeployLogs8F577BA0":       "AWS::Logs::LogGroup",
		"AppActivityLogs47CDD95A":     "AWS::Logs::LogGroup",
		"AppDatabaseResourceDDF69D46": "Custom::WharfAppDatabase",
		"AppTargetGroup9D7D4FA1":      "AWS::ElasticLoadBalancingV2::TargetGroup",
		"AppBuildC4D5B8FE":            "AWS::CodeBuild::Project",
	} {
		if got := resource(t, f.apiJSON, id)["Type"]; got != typ {
			t.Errorf("%s: type %v, want %s", id, got, typ)
		}
	}
}
