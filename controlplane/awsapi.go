package controlplane

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/wharf-paas/wharf/contract"
)

// The interfaces below are the control plane's only view of AWS. Each lists
// just the operations the control plane calls, with the exact aws-sdk-go-v2
// signatures, so the real SDK clients satisfy them, the wire-protocol test
// servers exercise the real serialisation, and the simulator can stand in
// for a whole AWS account.

// ECSAPI is the subset of the ECS client the control plane uses.
type ECSAPI interface {
	RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	RunTask(ctx context.Context, in *ecs.RunTaskInput, optFns ...func(*ecs.Options)) (*ecs.RunTaskOutput, error)
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	ListTasks(ctx context.Context, in *ecs.ListTasksInput, optFns ...func(*ecs.Options)) (*ecs.ListTasksOutput, error)
	CreateService(ctx context.Context, in *ecs.CreateServiceInput, optFns ...func(*ecs.Options)) (*ecs.CreateServiceOutput, error)
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
	DeleteService(ctx context.Context, in *ecs.DeleteServiceInput, optFns ...func(*ecs.Options)) (*ecs.DeleteServiceOutput, error)
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	ListServices(ctx context.Context, in *ecs.ListServicesInput, optFns ...func(*ecs.Options)) (*ecs.ListServicesOutput, error)
}

// CodeBuildAPI is the subset of the CodeBuild client the control plane uses.
// ListBuildsForProject is the sweep's: it lists the newest build IDs of the
// app's project (first page only) to find builds whose every event was lost.
type CodeBuildAPI interface {
	BatchGetBuilds(ctx context.Context, in *codebuild.BatchGetBuildsInput, optFns ...func(*codebuild.Options)) (*codebuild.BatchGetBuildsOutput, error)
	ListBuildsForProject(ctx context.Context, in *codebuild.ListBuildsForProjectInput, optFns ...func(*codebuild.Options)) (*codebuild.ListBuildsForProjectOutput, error)
}

// S3API is the subset of the S3 client the control plane uses (build
// metadata artifacts).
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// SSMAPI is the subset of the SSM client the control plane uses. It reads the
// app's settings parameter (a plain String) and lists config parameter names
// and versions with DescribeParameters; it never calls GetParameter on a
// config parameter and never asks for decryption.
type SSMAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	DescribeParameters(ctx context.Context, in *ssm.DescribeParametersInput, optFns ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error)
}

// EventBridgeAPI is the subset of the EventBridge client the control plane
// uses to keep an app's scheduled-task rules in line with its declared
// schedules.
type EventBridgeAPI interface {
	ListRules(ctx context.Context, in *eventbridge.ListRulesInput, optFns ...func(*eventbridge.Options)) (*eventbridge.ListRulesOutput, error)
	PutRule(ctx context.Context, in *eventbridge.PutRuleInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error)
	PutTargets(ctx context.Context, in *eventbridge.PutTargetsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error)
	ListTargetsByRule(ctx context.Context, in *eventbridge.ListTargetsByRuleInput, optFns ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error)
	RemoveTargets(ctx context.Context, in *eventbridge.RemoveTargetsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.RemoveTargetsOutput, error)
	DeleteRule(ctx context.Context, in *eventbridge.DeleteRuleInput, optFns ...func(*eventbridge.Options)) (*eventbridge.DeleteRuleOutput, error)
}

// AppClients are the clients for one app, acting with that app's management
// role in its own account and region.
type AppClients struct {
	ECS         ECSAPI
	CodeBuild   CodeBuildAPI
	S3          S3API
	SSM         SSMAPI
	EventBridge EventBridgeAPI
	// Logs appends activity events (status.go); nil: no activity log.
	Logs LogsAPI
	// AutoScaling registers autoscaled services (autoscaling.go); nil:
	// a scale setting with a range is refused.
	AutoScaling AutoScalingAPI
}

// ObserverClients act with an account's read-only observer role; they resolve
// ECS events whose names do not identify the app.
type ObserverClients struct {
	ECS ECSAPI
}

// ClientProvider hands out clients for an app or an account. The AWS
// implementation assumes the app's management role (or the account's
// observer role) with its external ID and caches the credentials until
// shortly before they expire; tests and the simulator return in-memory or
// wire-level fakes.
type ClientProvider interface {
	ForApp(ctx context.Context, app contract.AppRegistration) (*AppClients, error)
	ForObserver(ctx context.Context, account contract.AccountRegistration) (*ObserverClients, error)
}
