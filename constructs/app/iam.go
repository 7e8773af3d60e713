package app

import (
	"sort"
	"strings"

	"github.com/wharf-paas/wharf/contract"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/wharf-paas/wharf/constructs/account"
)

// arns builds the ARNs and ARN patterns of this app's resources
// (docs/conventions.md names).
type arns struct {
	stack   awscdk.Stack
	prefix  string
	app     string
	cluster clusterRefs
}

func (a *App) arns() arns {
	return arns{stack: awscdk.Stack_Of(a.Construct), prefix: a.Prefix, app: a.Name, cluster: a.cluster}
}

func (r arns) format(service, resource string, name *string, sep awscdk.ArnFormat) *string {
	return r.stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String(service), Resource: jsii.String(resource), ResourceName: name, ArnFormat: sep,
	})
}

// services: arn:...:service/<cluster>/<prefix>-<app>_*
func (r arns) services() *string {
	return r.format("ecs", "service", awscdk.Fn_Join(jsii.String(""), &[]*string{r.cluster.name, jsii.String("/" + contract.Names{Prefix: r.prefix}.FamilyPrefix(r.app) + "*")}), awscdk.ArnFormat_SLASH_RESOURCE_NAME)
}

// taskDefinitions: arn:...:task-definition/<prefix>-<app>_* (any revision).
func (r arns) taskDefinitions() *string {
	return r.format("ecs", "task-definition", jsii.String(contract.Names{Prefix: r.prefix}.FamilyPrefix(r.app)+"*"), awscdk.ArnFormat_SLASH_RESOURCE_NAME)
}

// tasks: arn:...:task/<cluster>/* (task ARNs carry no family).
func (r arns) tasks() *string {
	return r.format("ecs", "task", awscdk.Fn_Join(jsii.String(""), &[]*string{r.cluster.name, jsii.String("/*")}), awscdk.ArnFormat_SLASH_RESOURCE_NAME)
}

// scheduleRules: arn:...:rule/<prefix>-<app>_schedule-* on the default bus.
func (r arns) scheduleRules() *string {
	return r.format("events", "rule", jsii.String(contract.Names{Prefix: r.prefix}.ScheduleRulePrefix(r.app)+"*"), awscdk.ArnFormat_SLASH_RESOURCE_NAME)
}

func (r arns) parameter(path string) *string {
	return r.format("ssm", "parameter", jsii.String(strings.TrimPrefix(path, "/")), awscdk.ArnFormat_SLASH_RESOURCE_NAME)
}

func (r arns) configParameters() *string {
	return r.parameter(contract.Names{Prefix: r.prefix}.ConfigPath(r.app) + "*")
}

func (r arns) logStreams(group string) *string {
	return r.format("logs", "log-group", jsii.String(group+":log-stream:*"), awscdk.ArnFormat_COLON_RESOURCE_NAME)
}

func (r arns) logGroup(group string) *string {
	return r.format("logs", "log-group", jsii.String(group), awscdk.ArnFormat_COLON_RESOURCE_NAME)
}

func statement(sid string, actions []string, resources []*string, conditions map[string]interface{}) awsiam.PolicyStatement {
	props := &awsiam.PolicyStatementProps{Sid: jsii.String(sid), Actions: jsii.Strings(actions...), Resources: &resources}
	if conditions != nil {
		props.Conditions = &conditions
	}
	return awsiam.NewPolicyStatement(props)
}

func document(statements ...awsiam.PolicyStatement) awsiam.PolicyDocument {
	return awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements})
}

func passRole(sid string, roles []*string, service string) awsiam.PolicyStatement {
	return statement(sid, []string{"iam:PassRole"}, roles, map[string]interface{}{
		"StringEquals": map[string]interface{}{"iam:PassedToService": service},
	})
}

func inCluster(clusterArn *string) map[string]interface{} {
	return map[string]interface{}{"ArnEquals": map[string]interface{}{"ecs:cluster": clusterArn}}
}

// newRoles creates the execution, task and events roles.
func (a *App) newRoles(props *AppProps) {
	r := a.arns()
	a.ExecutionRole = awsiam.NewRole(a.Construct, jsii.String("ExecutionRole"), &awsiam.RoleProps{
		Description: jsii.String("Wharf app " + a.Name + ": ECS task execution (pull own image, write own logs, read own config)"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"wharf-execution": document(
			statement("PullOwnImages", []string{"ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"},
				[]*string{a.Repository.RepositoryArn()}, nil),
			// ecr:GetAuthorizationToken has no resource type; it only
			// returns a registry token, every pull is checked above.
			statement("RegistryLogin", []string{"ecr:GetAuthorizationToken"}, []*string{jsii.String("*")}, nil),
			statement("WriteOwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"},
				[]*string{r.logStreams(a.names().LogGroup(a.Name))}, nil),
			// ECS resolves `secrets` with ssm:GetParameters. SecureStrings
			// use the account's aws/ssm key, whose key policy lets account
			// principals decrypt through SSM, so no KMS statement.
			statement("ReadOwnConfig", []string{"ssm:GetParameters"}, []*string{r.configParameters()}, nil),
		)},
	})
	a.TaskRole = awsiam.NewRole(a.Construct, jsii.String("TaskRole"), &awsiam.RoleProps{
		Description: jsii.String("Wharf app " + a.Name + ": the app's containers"),
		// Confused-deputy protection: ECS of this account only (the Amazon
		// ECS task IAM role's documented trust conditions).
		AssumedBy: servicePrincipalFrom("ecs-tasks.amazonaws.com", r.stack, r.format("ecs", "*", nil, awscdk.ArnFormat_NO_RESOURCE_NAME)),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"wharf-task": document(
			// ECS Exec: the SSM agent in the task opens its channels with
			// the task role; ssmmessages has no resource types.
			statement("EcsExecChannels", []string{"ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
				"ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"}, []*string{jsii.String("*")}, nil),
		)},
	})
	if props.TaskPolicyArn != nil {
		a.TaskRole.AddManagedPolicy(awsiam.ManagedPolicy_FromManagedPolicyArn(a.Construct, jsii.String("TaskPolicy"), props.TaskPolicyArn))
	}
	roles := []*string{a.ExecutionRole.RoleArn(), a.TaskRole.RoleArn()}
	a.EventsRole = awsiam.NewRole(a.Construct, jsii.String("EventsRole"), &awsiam.RoleProps{
		Description: jsii.String("Wharf app " + a.Name + ": EventBridge runs the app's scheduled tasks"),
		// Only this app's schedule rules, in this account.
		AssumedBy: servicePrincipalFrom("events.amazonaws.com", r.stack, r.scheduleRules()),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"wharf-events": document(
			statement("RunOwnTasks", []string{"ecs:RunTask"}, []*string{r.taskDefinitions()}, inCluster(a.cluster.arn)),
			statement("TagOwnTasks", []string{"ecs:TagResource"}, []*string{r.tasks()}, map[string]interface{}{
				"StringEquals": map[string]interface{}{"ecs:CreateAction": "RunTask"},
			}),
			passRole("PassOwnTaskRoles", roles, "ecs-tasks.amazonaws.com"),
		)},
	})
}

// newBuildRole creates the CodeBuild service role: clone through the
// connection (if any), push to the app's repository, write the deploy log
// group and upload wharf-build.json.
func (a *App) newBuildRole(props *AppProps) {
	r := a.arns()
	statements := []awsiam.PolicyStatement{
		statement("WriteBuildLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			[]*string{r.logStreams(a.names().DeployLogGroup(a.Name))}, nil),
		statement("PushOwnImages", []string{"ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage",
			"ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"},
			[]*string{a.Repository.RepositoryArn()}, nil),
		// ecr:GetAuthorizationToken has no resource type.
		statement("RegistryLogin", []string{"ecr:GetAuthorizationToken"}, []*string{jsii.String("*")}, nil),
		statement("UploadBuildMetadata", []string{"s3:PutObject"}, []*string{a.ArtifactBucket.ArnForObjects(jsii.String("builds/*"))}, nil),
		// The buildspec's reports section: CodeBuild creates a report in
		// the app's own report group and adds the test cases to it.
		statement("WriteTestReports", []string{"codebuild:CreateReport", "codebuild:UpdateReport", "codebuild:BatchPutTestCases"},
			[]*string{a.TestReportGroup.ReportGroupArn()}, nil),
		statement("LocateArtifactBucket", []string{"s3:GetBucketAcl", "s3:GetBucketLocation"}, []*string{a.ArtifactBucket.BucketArn()}, nil),
		// The account's Docker Hub credentials (docs/security.md): the one
		// parameter, read by the build script to log in before pulling base
		// images. It is encrypted with the AWS-managed aws/ssm key, whose
		// key policy lets the account's principals decrypt through SSM, so
		// no KMS statement is needed.
		statement("ReadDockerHubCredentials", []string{"ssm:GetParameter"}, []*string{r.parameter(account.DockerHubParameterName(a.Prefix))}, nil),
	}
	if len(props.BuildConfig) > 0 {
		// Exactly the config vars the platform config lets the build see
		// (AppProps.BuildConfig), one ARN each; SecureStrings use the
		// aws/ssm key, which account principals decrypt through SSM.
		var params []*string
		for _, n := range props.BuildConfig {
			params = append(params, r.parameter(a.names().ConfigPath(a.Name)+n))
		}
		statements = append(statements, statement("ReadBuildConfig", []string{"ssm:GetParameters"}, params, nil))
	}
	if props.ConnectionArn != nil {
		statements = append(statements, statement("UseSourceConnection", []string{
			"codeconnections:UseConnection", "codeconnections:GetConnectionToken", "codeconnections:GetConnection",
			"codestar-connections:UseConnection", "codestar-connections:GetConnectionToken", "codestar-connections:GetConnection",
		}, []*string{props.ConnectionArn}, nil))
	}
	a.BuildRole = awsiam.NewRole(a.Construct, jsii.String("BuildRole"), &awsiam.RoleProps{
		Description: jsii.String("Wharf app " + a.Name + ": CodeBuild (push own images, write own build logs and metadata)"),
		// Only this app's project (its ARN is built from the name: a
		// reference to the project would be circular).
		AssumedBy: servicePrincipalFrom("codebuild.amazonaws.com", r.stack,
			r.format("codebuild", "project", jsii.String(a.names().CodeBuildProject(a.Name)), awscdk.ArnFormat_SLASH_RESOURCE_NAME)),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"wharf-build": document(statements...)},
	})
}

// newManagementRole creates <prefix>-app-<app>-management for the control
// plane.
func (a *App) newManagementRole(props *AppProps) {
	r := a.arns()
	roles := []*string{a.ExecutionRole.RoleArn(), a.TaskRole.RoleArn()}
	doc := document(
		statement("ManageOwnServices", []string{"ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService", "ecs:DescribeServices"},
			[]*string{r.services()}, map[string]interface{}{
				// Services run only this app's task definitions.
				"ArnLikeIfExists": map[string]interface{}{"ecs:task-definition": r.taskDefinitions()},
			}),
		statement("RunOwnTasks", []string{"ecs:RunTask"}, []*string{r.taskDefinitions()}, inCluster(a.cluster.arn)),
		statement("DescribeClusterTasks", []string{"ecs:DescribeTasks"}, []*string{r.tasks()}, nil),
		// The control plane stops its own superseded or timed-out release
		// tasks. ecs:StopTask's resource type is task, whose ARN
		// (task/<cluster>/<id>) does not name the family, so the cluster
		// is pinned by ecs:cluster and the app by the wharf:app tag the
		// task inherits from its task definition (RunTask PropagateTags
		// TASK_DEFINITION); both keys are documented for StopTask in the
		// Service Authorization Reference for Amazon ECS.
		statement("StopOwnTasks", []string{"ecs:StopTask"}, []*string{r.tasks()}, map[string]interface{}{
			"ArnEquals":    map[string]interface{}{"ecs:cluster": a.cluster.arn},
			"StringEquals": map[string]interface{}{"aws:ResourceTag/" + TagApp: a.Name},
		}),
		// ecs:ListServices has no resource type and ecs:ListTasks only
		// container-instance; both accept the ecs:cluster condition.
		statement("ListInCluster", []string{"ecs:ListServices", "ecs:ListTasks"}, []*string{jsii.String("*")}, inCluster(a.cluster.arn)),
		// ecs:RegisterTaskDefinition and ecs:DescribeTaskDefinition have no
		// resource type. A registered definition can only carry this app's
		// roles (iam:PassRole below) and only this app's families can be
		// run or used by its services (statements above).
		// A registration must carry this app's wharf:app tag (the control
		// plane always sends it): a definition tagged for another app
		// would be trusted by that app's tag-based statements.
		statement("RegisterTaskDefinitions", []string{"ecs:RegisterTaskDefinition"}, []*string{jsii.String("*")}, map[string]interface{}{
			"StringEquals": map[string]interface{}{"aws:RequestTag/" + TagApp: a.Name},
		}),
		statement("DescribeTaskDefinitions", []string{"ecs:DescribeTaskDefinition"}, []*string{jsii.String("*")}, nil),
		// Tags on create only, and a wharf:app tag only with this app's
		// name (IfExists: RunTask's tags are propagated from the task
		// definition, not sent in the request).
		statement("TagOnCreate", []string{"ecs:TagResource"}, []*string{r.services(), r.taskDefinitions(), r.tasks()}, map[string]interface{}{
			"StringEquals":         map[string]interface{}{"ecs:CreateAction": []string{"CreateService", "RegisterTaskDefinition", "RunTask"}},
			"StringEqualsIfExists": map[string]interface{}{"aws:RequestTag/" + TagApp: a.Name},
		}),
		passRole("PassOwnTaskRoles", roles, "ecs-tasks.amazonaws.com"),
		passRole("PassOwnEventsRole", []*string{a.EventsRole.RoleArn()}, "events.amazonaws.com"),
		statement("ReadOwnBuildMetadata", []string{"s3:GetObject"}, []*string{a.ArtifactBucket.ArnForObjects(jsii.String("*"))}, nil),
		// ListBuildsForProject lets the sweep find builds whose every event
		// was lost; both act on this app's project only.
		statement("ReadOwnBuilds", []string{"codebuild:BatchGetBuilds", "codebuild:ListBuildsForProject"}, []*string{a.Project.ProjectArn()}, nil),
		// The control plane finds its rules with ListRules and reads
		// their targets with ListTargetsByRule; it never calls
		// DescribeRule (the IAM contract test, test/iam, checks that every
		// action granted here is called).
		statement("ManageOwnSchedules", []string{"events:PutRule", "events:DeleteRule",
			"events:RemoveTargets", "events:ListTargetsByRule"}, []*string{r.scheduleRules()}, nil),
		// Schedule targets only ever run tasks in the app's cluster
		// (events:TargetArn, EventBridge's condition key for the targets
		// of PutTargets; an ECS target's ARN is the cluster's).
		statement("TargetOwnCluster", []string{"events:PutTargets"}, []*string{r.scheduleRules()}, map[string]interface{}{
			"ForAllValues:ArnEquals": map[string]interface{}{"events:TargetArn": a.cluster.arn},
			"Null":                   map[string]interface{}{"events:TargetArn": "false"},
		}),
		// events:ListRules has no resource type; it returns rule names
		// and patterns only.
		statement("ListRules", []string{"events:ListRules"}, []*string{jsii.String("*")}, nil),
		statement("ReadOwnSettings", []string{"ssm:GetParameter"}, []*string{a.settingsArn()}, nil),
		// Status publishing (controlplane/status.go): the status document is
		// read before it is written (no write when unchanged), and the
		// activity events go to the app's activity group only. CreateLogStream
		// is authorized on the log group and PutLogEvents on the stream; both
		// ARN forms of the one group are listed.
		statement("PublishStatus", []string{"ssm:GetParameter", "ssm:PutParameter"}, []*string{a.statusArn()}, nil),
		statement("AppendActivity", []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			[]*string{r.logGroup(a.activityGroup()), r.logGroup(a.activityGroup() + ":*")}, nil),
		// ssm:DescribeParameters has no resource type: it lists names,
		// types and versions, never values. The control plane filters on
		// the app's config path; it can decrypt nothing (no kms:Decrypt,
		// no GetParameter on config).
		statement("ListConfigNames", []string{"ssm:DescribeParameters"}, []*string{jsii.String("*")}, nil),
		// Runtime requests (wharf scale, restart, rollback): read only,
		// the app's users write them.
		statement("ReadOwnRequests", []string{"ssm:GetParameter"}, a.requestArns(), nil),
		// Application Auto Scaling for autoscaled processes
		// (controlplane/autoscaling.go). A scalable target's ARN ends in an
		// ID AWS assigns (scalable-target/<id>), not the service's name,
		// so the resource cannot name this app's services: the statement
		// is pinned to ECS service desired counts in this account and
		// region with application-autoscaling:service-namespace and
		// application-autoscaling:scalable-dimension (the Service
		// Authorization Reference's condition keys for these actions).
		// DeleteScalingPolicy is not granted: DeregisterScalableTarget
		// deletes a target's policies, and nothing else removes one.
		statement("AutoscaleServices", []string{"application-autoscaling:RegisterScalableTarget",
			"application-autoscaling:DeregisterScalableTarget", "application-autoscaling:PutScalingPolicy"},
			[]*string{r.format("application-autoscaling", "scalable-target", jsii.String("*"), awscdk.ArnFormat_SLASH_RESOURCE_NAME)},
			map[string]interface{}{"StringEquals": map[string]interface{}{
				"application-autoscaling:service-namespace":  "ecs",
				"application-autoscaling:scalable-dimension": "ecs:service:DesiredCount",
			}}),
		// DescribeScalableTargets and DescribeScalingPolicies have no
		// resource type; they return ranges and policies, no data.
		statement("DescribeAutoscaling", []string{"application-autoscaling:DescribeScalableTargets",
			"application-autoscaling:DescribeScalingPolicies"}, []*string{jsii.String("*")}, nil),
		// The first RegisterScalableTarget of an ECS service in an
		// account creates Application Auto Scaling's service-linked role
		// for ECS; only that role, for that service.
		statement("AutoscalingServiceLinkedRole", []string{"iam:CreateServiceLinkedRole"},
			[]*string{awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":iam::"),
				awscdk.Aws_ACCOUNT_ID(), jsii.String(":role/aws-service-role/" + autoscalingServiceName + "/AWSServiceRoleForApplicationAutoScaling_ECSService")})},
			map[string]interface{}{"StringEquals": map[string]interface{}{"iam:AWSServiceName": autoscalingServiceName}}),
	)
	a.ManagementRole = awsiam.NewRole(a.Construct, jsii.String("ManagementRole"), &awsiam.RoleProps{
		RoleName:           jsii.String(a.names().ManagementRole(a.Name)),
		Description:        jsii.String("Wharf control plane: deploy app " + a.Name + " (its ECS services, tasks and schedules only)"),
		AssumedBy:          controlPlanePrincipal(a.Prefix, *props.ControlPlaneAccountID),
		ExternalIds:        jsii.Strings(*props.ManagementExternalID),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
		InlinePolicies:     &map[string]awsiam.PolicyDocument{contract.ManagementPolicyName: doc},
	})
}

func (a *App) settingsArn() *string {
	return a.arns().parameter(a.names().SettingsParameter(a.Name))
}

// autoscalingServiceName is Application Auto Scaling's service principal
// for ECS services (its service-linked role's service name).
const autoscalingServiceName = "ecs.application-autoscaling.amazonaws.com"

// requestArns are the app's three runtime request parameters.
func (a *App) requestArns() []*string {
	var out []*string
	for _, p := range (contract.Names{Prefix: a.Prefix}).RuntimeRequestParameters(a.Name) {
		out = append(out, a.arns().parameter(p))
	}
	return out
}

func (a *App) statusArn() *string {
	return a.arns().parameter(a.names().StatusParameter(a.Name))
}

// userRoleArn is the user role's ARN, built from its fixed name.
func (a *App) userRoleArn() *string {
	return awscdk.Stack_Of(a.Construct).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("iam"), Region: jsii.String(""), Resource: jsii.String("role"),
		ResourceName: jsii.String(a.names().UserRole(a.Name)), ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
}

func (a *App) activityGroup() string {
	return a.names().ActivityLogGroup(a.Name)
}

// newUserRole creates <prefix>-app-<app>-user for the allowed users.
func (a *App) newUserRole(props *AppProps) {
	if !props.hasUsers() {
		return
	}
	r := a.arns()
	issuer, _ := props.issuerKey() // validated
	provider := props.OIDCProvider
	if provider == nil {
		arn := awscdk.Stack_Of(a.Construct).FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("iam"), Region: jsii.String(""), Resource: jsii.String("oidc-provider"),
			ResourceName: jsii.String(issuer), ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
		})
		provider = awsiam.OidcProviderNative_FromOidcProviderArn(a.Construct, jsii.String("OidcProvider"), arn)
	}
	users := make([]string, 0, len(props.AllowedUsers))
	for _, u := range props.AllowedUsers {
		users = append(users, strings.ToLower(strings.TrimSpace(u)))
	}
	sort.Strings(users)
	subjects := append([]string(nil), props.AllowedSubjects...)
	sort.Strings(subjects)
	patterns := contract.EmailDomainPatterns(props.AllowedEmailDomains)
	sort.Strings(patterns)
	// Three forms of allowed user, one trust statement each (conditions in
	// one statement are ANDed): the email claim, case-insensitively; the
	// issuer's stable user ID (sub), exactly; and the email claim against
	// *@<domain> patterns (StringLike, case-sensitive). Each requires aud
	// to be a Wharf client ID. docs/security.md cites IAM's condition keys.
	aud := map[string]interface{}{issuer + ":aud": props.OIDCClientIDs}
	var conditions []map[string]interface{}
	if len(users) > 0 {
		conditions = append(conditions, map[string]interface{}{
			"StringEquals":           aud,
			"StringEqualsIgnoreCase": map[string]interface{}{issuer + ":email": users},
		})
	}
	if len(subjects) > 0 {
		conditions = append(conditions, map[string]interface{}{
			"StringEquals": map[string]interface{}{issuer + ":aud": props.OIDCClientIDs, issuer + ":sub": subjects},
		})
	}
	if len(patterns) > 0 {
		conditions = append(conditions, map[string]interface{}{
			"StringEquals": aud,
			"StringLike":   map[string]interface{}{issuer + ":email": patterns},
		})
	}
	principal := awsiam.NewWebIdentityPrincipal(provider.OidcProviderArn(), &conditions[0])
	config := a.names().ConfigPath(a.Name)
	doc := document(
		statement("BuildOwnProject", []string{"codebuild:StopBuild", "codebuild:BatchGetBuilds", "codebuild:ListBuildsForProject"},
			[]*string{a.Project.ProjectArn()}, nil),
		// A user starts a build of the project as configured, never with
		// overrides: see startBuildOverrideKeys.
		statement("StartOwnBuildAsConfigured", []string{"codebuild:StartBuild"}, []*string{a.Project.ProjectArn()},
			map[string]interface{}{"Null": startBuildOverrideKeys()}),
		statement("ReadOwnLogs", []string{"logs:GetLogEvents", "logs:FilterLogEvents", "logs:DescribeLogStreams", "logs:StartLiveTail", "logs:GetLogGroupFields"},
			[]*string{r.logGroup(a.names().LogGroup(a.Name)), r.logGroup(a.names().DeployLogGroup(a.Name)), r.logGroup(a.activityGroup()),
				r.logStreams(a.names().LogGroup(a.Name)), r.logStreams(a.names().DeployLogGroup(a.Name)), r.logStreams(a.activityGroup())}, nil),
		statement("ManageOwnConfig", []string{"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory",
			"ssm:PutParameter", "ssm:DeleteParameter", "ssm:DeleteParameters", "ssm:AddTagsToResource", "ssm:ListTagsForResource"},
			[]*string{r.parameter(strings.TrimSuffix(config, "/")), r.configParameters()}, nil),
		// The status document the control plane publishes (read only).
		statement("ReadOwnStatus", []string{"ssm:GetParameter"}, []*string{a.statusArn()}, nil),
		statement("ReadOwnSettings", []string{"ssm:GetParameter"}, []*string{a.settingsArn()}, nil),
		// wharf scale, restart and rollback (issue 11): the runtime request
		// documents the control plane applies. Exactly the three parameters
		// (contract.Names.RuntimeRequestParameters), one ARN each, no
		// wildcard: not the settings or status parameters beside them.
		statement("WriteOwnRuntimeRequests", []string{"ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"}, a.requestArns(), nil),
		// wharf access lists the allowed users from this role's own trust
		// policy. The ARN is built from the role's fixed name (a reference
		// to the role inside its own policy would be circular). The
		// allowed users can already see each other here, nothing else.
		statement("ReadOwnTrustPolicy", []string{"iam:GetRole"}, []*string{a.userRoleArn()}, nil),
		// No ssm:DescribeParameters: it has no resource type and would list
		// every parameter name of the account; GetParametersByPath on the
		// app's config path (ManageOwnConfig) already returns its names.
		statement("DescribeOwnServices", []string{"ecs:DescribeServices"}, []*string{r.services()}, nil),
		// Task ARNs do not name the family: the app's tasks are those
		// carrying its wharf:app tag (propagated from the task definition
		// by the control plane's services and RunTask), in its cluster.
		statement("DescribeOwnTasks", []string{"ecs:DescribeTasks"}, []*string{r.tasks()}, map[string]interface{}{
			"ArnEquals":    map[string]interface{}{"ecs:cluster": a.cluster.arn},
			"StringEquals": map[string]interface{}{"aws:ResourceTag/" + TagApp: a.Name},
		}),
		statement("ListInCluster", []string{"ecs:ListServices", "ecs:ListTasks"}, []*string{jsii.String("*")}, inCluster(a.cluster.arn)),
		// ECS Exec authorizes the cluster and the task. Task ARNs do not
		// name the family, so tasks are limited by the wharf:app tag the
		// control plane puts on them.
		statement("ExecInCluster", []string{"ecs:ExecuteCommand"}, []*string{a.cluster.arn}, nil),
		statement("ExecIntoOwnTasks", []string{"ecs:ExecuteCommand"}, []*string{r.tasks()}, map[string]interface{}{
			"StringEquals": map[string]interface{}{"aws:ResourceTag/" + TagApp: a.Name},
		}),
		// One-off tasks (wharf run, exec --new, shell, db shell): the app's
		// own task definitions (family <prefix>-<app>_*), in its cluster
		// only (ecs:cluster, a RunTask condition key).
		statement("RunOwnOneOffTasks", []string{"ecs:RunTask"}, []*string{r.taskDefinitions()}, inCluster(a.cluster.arn)),
		// RunTask passes the task definition's execution and task roles to
		// ECS: exactly this app's two, to ECS tasks only. An override
		// naming another app's role is refused here.
		passRole("PassOwnTaskRolesToOneOffTasks", []*string{a.ExecutionRole.RoleArn(), a.TaskRole.RoleArn()}, "ecs-tasks.amazonaws.com"),
		// The CLI tags each one-off task with wharf:app (which the describe,
		// stop and exec statements require): on RunTask only, with this
		// app's name only, and no other tag key.
		statement("TagOwnOneOffTasks", []string{"ecs:TagResource"}, []*string{r.tasks()}, map[string]interface{}{
			"StringEquals":              map[string]interface{}{"ecs:CreateAction": "RunTask", "aws:RequestTag/" + TagApp: a.Name},
			"ForAllValues:StringEquals": map[string]interface{}{"aws:TagKeys": []string{TagApp}},
		}),
		// The CLI stops the one-off tasks it started (Ctrl-C on wharf run,
		// the end of a shell). Task ARNs do not name the family: the
		// cluster is pinned by ecs:cluster and the app by its wharf:app tag.
		statement("StopOwnTasks", []string{"ecs:StopTask"}, []*string{r.tasks()}, map[string]interface{}{
			"ArnEquals":    map[string]interface{}{"ecs:cluster": a.cluster.arn},
			"StringEquals": map[string]interface{}{"aws:ResourceTag/" + TagApp: a.Name},
		}),
	)
	a.UserRole = awsiam.NewRole(a.Construct, jsii.String("UserRole"), &awsiam.RoleProps{
		RoleName:           jsii.String(a.names().UserRole(a.Name)),
		Description:        jsii.String("Wharf app " + a.Name + ": allowed users (web identity, listed emails only)"),
		AssumedBy:          principal,
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
		InlinePolicies:     &map[string]awsiam.PolicyDocument{contract.UserPolicyName: doc},
	})
	federated := &[]awsiam.IPrincipal{awsiam.NewFederatedPrincipal(provider.OidcProviderArn(), nil, jsii.String("sts:AssumeRoleWithWebIdentity"))}
	for i := 1; i < len(conditions); i++ {
		a.UserRole.AssumeRolePolicy().AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:    jsii.Strings("sts:AssumeRoleWithWebIdentity"),
			Principals: federated,
			Conditions: &conditions[i],
		}))
	}
	if len(patterns) > 0 {
		// "x@evil.com@acme.com" and "@acme.com" end in @acme.com without
		// being an address there: refuse claims with two @ or none before.
		a.UserRole.AssumeRolePolicy().AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Effect:     awsiam.Effect_DENY,
			Actions:    jsii.Strings("sts:AssumeRoleWithWebIdentity"),
			Principals: federated,
			Conditions: &map[string]interface{}{"StringLike": map[string]interface{}{issuer + ":email": contract.MalformedEmailPatterns}},
		}))
	}
}

// startBuildOverrideKeys is the Null condition ("key absent") on every
// CodeBuild condition key that a StartBuild override sets. CodeBuild sets
// these keys from the request's override fields (AWS CodeBuild condition
// keys in the Service Authorization Reference; the CodeBuild user guide's
// "Prevent unauthorized modifications to project buildspec" denies
// StartBuild with Null codebuild:source.buildspec false). Without this, an
// allowed user could run their own commands as the build role
// (buildspecOverride), which reads the account's Docker Hub token and
// pushes the app's images, build another repository with the account's
// source credentials (sourceLocationOverride, sourceAuthOverride), or ask
// for another image, service role or privileged mode. Keys in one
// condition are ANDed: the build is allowed only if none is present.
// sourceVersion has no condition key: a user may build any revision, and
// the control plane deploys only builds of the app's branch.
func startBuildOverrideKeys() map[string]interface{} {
	keys := []string{
		"codebuild:source", "codebuild:source.buildspec", "codebuild:source.location",
		"codebuild:source.auth.type", "codebuild:source.auth.resource", "codebuild:source.insecureSsl",
		"codebuild:secondarySources", "codebuild:artifacts", "codebuild:secondaryArtifacts",
		"codebuild:environment", "codebuild:environment.image", "codebuild:environment.type",
		"codebuild:environment.computeType", "codebuild:environment.privilegedMode",
		"codebuild:environment.certificate", "codebuild:environment.environmentVariables",
		"codebuild:environment.imagePullCredentialsType", "codebuild:environment.registryCredential",
		"codebuild:serviceRole", "codebuild:cache", "codebuild:logsConfig", "codebuild:encryptionKey",
	}
	m := make(map[string]interface{}, len(keys))
	for _, k := range keys {
		m[k] = "true"
	}
	return m
}

// controlPlanePrincipal is the control-plane account, limited to the
// control-plane Lambda's role (aws:PrincipalArn, which for an assumed-role
// session is the role's ARN): in a same-account setup anyone who may call
// iam:GetRole reads the external ID, so the external ID alone does not
// single out the control plane.
func controlPlanePrincipal(prefix, account string) awsiam.IPrincipal {
	return awsiam.NewPrincipalWithConditions(awsiam.NewAccountPrincipal(jsii.String(account)), &map[string]interface{}{
		"ArnEquals": map[string]interface{}{
			"aws:PrincipalArn": "arn:" + *awscdk.Aws_PARTITION() + ":iam::" + account + ":role/" + contract.Names{Prefix: prefix}.ControlPlaneRole(),
		},
	})
}

// servicePrincipalFrom trusts service only on behalf of this stack's
// account and the resources matching sourceArn (aws:SourceAccount and
// aws:SourceArn, the global condition keys AWS services set when they
// assume a role for a resource: confused-deputy protection).
func servicePrincipalFrom(service string, stack awscdk.Stack, sourceArn *string) awsiam.IPrincipal {
	return awsiam.NewServicePrincipal(jsii.String(service), &awsiam.ServicePrincipalOpts{Conditions: &map[string]interface{}{
		"StringEquals": map[string]interface{}{"aws:SourceAccount": stack.Account()},
		"ArnLike":      map[string]interface{}{"aws:SourceArn": sourceArn},
	}})
}
