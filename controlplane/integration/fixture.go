package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/sivchari/kumo"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/controlplane/awsclients"
	"github.com/wharf-paas/wharf/controlplane/awsfake"
)

// Defaults of the fixture account and app.
const (
	Account    = awsfake.DefaultAccount
	Region     = awsfake.DefaultRegion
	Prefix     = "wharf"
	Cluster    = "wharf-main-Cluster1A2B"
	TargetARN  = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/wharf-api/0123456789abcdef"
	ObserverID = "ext-observer"
)

// The documents the fake account holds are the control plane's own types:
// the App construct and the build script are checked against them
// (constructs/app contract tests).
type (
	// Process is one process type in a build's metadata.
	Process = contract.Process
	// Schedule is one scheduled task in a build's metadata.
	Schedule = contract.Schedule
	// BuildMetadata is wharf-build.json as docs/conventions.md defines it.
	BuildMetadata = contract.BuildMetadata
	// Settings is the app settings parameter as docs/conventions.md defines it.
	Settings = contract.Settings
)

// TransientOnlyRetryer retries nothing but a response cut off by a closed
// connection. Net/http can close a loopback connection while the body is
// still being read (aws/aws-sdk-go-v2#1825, #2737); the SDK's standard
// retryer, which the Lambda uses, retries that too. Every error a test
// injects (throttling, 5xx, ECS exceptions) reaches the control plane
// unretried, as the tests expect.
func TransientOnlyRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if errors.Is(err, net.ErrClosed) {
				return aws.TrueTernary
			}
			return aws.FalseTernary
		})}
	})
}

// Env is one control-plane world: kumo serves DynamoDB, STS and SSM;
// awsfake serves ECS, CodeBuild, EventBridge (kumo's drops a target's
// EcsParameters) and S3; admin clients seed them. Close it when done.
type Env struct {
	Kumo *kumo.Server
	Fake *awsfake.Server
	// Config has static test credentials, the fixture region and no
	// retries; its clients reach the servers only through explicit
	// endpoints.
	Config      aws.Config
	DynamoDB    *dynamodb.Client
	SSM         *ssm.Client
	EventBridge *eventbridge.Client
	Logs        *cloudwatchlogs.Client
	Samples     *Samples
	// Log records every request made with Config (admin seeding
	// included; Reset it before measuring).
	Log        *CallLog
	Registry   contract.Registry
	ClusterARN string
}

// NewEnv starts kumo and awsfake and builds admin clients.
func NewEnv() (*Env, error) {
	samples, err := LoadSamples()
	if err != nil {
		return nil, err
	}
	e := &Env{Kumo: kumo.NewServer(), Fake: awsfake.New(), Samples: samples, Log: NewCallLog()}
	e.Config = aws.Config{
		HTTPClient:  e.Log,
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDINTEGRATION", "secret", ""),
		Retryer:     TransientOnlyRetryer,
	}
	e.DynamoDB = dynamodb.NewFromConfig(e.Config, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(e.Kumo.URL)
		o.DisableValidateResponseChecksum = true // kumo's CRC32 header does not match its body
	})
	e.SSM = ssm.NewFromConfig(e.Config, func(o *ssm.Options) { o.BaseEndpoint = aws.String(e.Kumo.URL) })
	e.Logs = cloudwatchlogs.NewFromConfig(e.Config, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(e.Kumo.URL) })
	e.EventBridge = eventbridge.NewFromConfig(e.Config, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(e.Fake.URL) })
	e.ClusterARN = e.Fake.AddCluster(fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", Region, Account, Cluster))
	e.Registry = contract.Registry{
		Prefix: Prefix,
		Accounts: []contract.AccountRegistration{{
			AccountID:       Account,
			ObserverRoleARN: fmt.Sprintf("arn:aws:iam::%s:role/%s-account-observer", Account, Prefix),
			ExternalID:      ObserverID,
		}},
	}
	return e, nil
}

// Close stops the servers.
func (e *Env) Close() {
	e.Kumo.Close()
	e.Fake.Close()
}

// Provider returns the real awsclients provider pointed at the servers.
func (e *Env) Provider(opts ...awsclients.Option) (*awsclients.Provider, error) {
	opts = append(e.ProviderOptions(), opts...)
	return awsclients.New(e.Config, opts...)
}

// ProviderOptions are the endpoint options that point awsclients at the
// servers.
func (e *Env) ProviderOptions() []awsclients.Option {
	return []awsclients.Option{
		awsclients.WithEndpoint(awsclients.ServiceSTS, e.Kumo.URL),
		awsclients.WithEndpoint(awsclients.ServiceSSM, e.Kumo.URL),
		awsclients.WithEndpoint(awsclients.ServiceLogs, e.Kumo.URL),
		awsclients.WithEndpoint(awsclients.ServiceEventBridge, e.Fake.URL),
		awsclients.WithEndpoint(awsclients.ServiceECS, e.Fake.URL),
		awsclients.WithEndpoint(awsclients.ServiceCodeBuild, e.Fake.URL),
		awsclients.WithEndpoint(awsclients.ServiceS3, e.Fake.URL),
		// The wire fake serves no Application Auto Scaling (the strict
		// model is internal/awsmodel, used by the unit tests and the
		// simulator).
		awsclients.WithoutAutoScaling(),
	}
}

// LambdaEnv is the environment that points the control-plane Lambda at the
// servers (standard AWS_ENDPOINT_URL_<SERVICE> variables plus Wharf's).
func (e *Env) LambdaEnv(table string) (map[string]string, error) {
	reg, err := json.Marshal(e.Registry)
	if err != nil {
		return nil, fmt.Errorf("encode registry: %w", err)
	}
	return map[string]string{
		"WHARF_TABLE":                      table,
		"WHARF_REGISTRY":                   string(reg),
		"WHARF_PREFIX":                     Prefix,
		"WHARF_S3_PATH_STYLE":              "true",
		"AWS_REGION":                       Region,
		"AWS_DEFAULT_REGION":               Region,
		"AWS_ACCESS_KEY_ID":                "AKIDLAMBDA",
		"AWS_SECRET_ACCESS_KEY":            "secret",
		"AWS_SESSION_TOKEN":                "token",
		"AWS_ENDPOINT_URL_DYNAMODB":        e.Kumo.URL,
		"AWS_ENDPOINT_URL_STS":             e.Kumo.URL,
		"AWS_ENDPOINT_URL_SSM":             e.Kumo.URL,
		"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": e.Kumo.URL,
		"AWS_ENDPOINT_URL_EVENTBRIDGE":     e.Fake.URL,
		"AWS_ENDPOINT_URL_ECS":             e.Fake.URL,
		"AWS_ENDPOINT_URL_CODEBUILD":       e.Fake.URL,
		"AWS_ENDPOINT_URL_S3":              e.Fake.URL,
		// Never the real endpoint: the fake answers Application Auto
		// Scaling calls with an unknown-operation error.
		"AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING": e.Fake.URL,
	}, nil
}

// App is a registered app in the fixture account.
type App struct {
	Name         string
	Registration contract.AppRegistration
	Settings     Settings
	Bucket       string
}

// AddApp registers an app, writes its settings parameter to SSM, creates
// its CodeBuild project (no builds yet) and returns it.
func (e *Env) AddApp(ctx context.Context, name string) (*App, error) {
	reg := contract.AppRegistration{
		Name:              name,
		AccountID:         Account,
		Region:            Region,
		ManagementRoleARN: fmt.Sprintf("arn:aws:iam::%s:role/%s-app-%s-management", Account, Prefix, name),
		ExternalID:        "ext-" + name,
	}
	e.Registry.Apps = append(e.Registry.Apps, reg)
	s := Settings{
		Version:          1,
		App:              name,
		Prefix:           Prefix,
		ClusterARN:       e.ClusterARN,
		Subnets:          []string{"subnet-1", "subnet-2", "subnet-3"},
		SecurityGroups:   []string{"sg-1"},
		AssignPublicIP:   true,
		LaunchType:       "FARGATE",
		TargetGroupARN:   TargetARN,
		ContainerPort:    8080,
		ExecutionRoleARN: fmt.Sprintf("arn:aws:iam::%s:role/%s-app-%s-execution", Account, Prefix, name),
		TaskRoleARN:      fmt.Sprintf("arn:aws:iam::%s:role/%s-app-%s-task", Account, Prefix, name),
		EventsRoleARN:    fmt.Sprintf("arn:aws:iam::%s:role/%s-app-%s-events", Account, Prefix, name),
		LogGroup:         fmt.Sprintf("/%s/apps/%s", Prefix, name),
		CodeBuildProject: Prefix + "-" + name,
		ConfigPrefix:     fmt.Sprintf("/%s/apps/%s/config/", Prefix, name),
	}
	body, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode settings: %w", err)
	}
	if _, err := e.SSM.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(fmt.Sprintf("/%s/apps/%s/settings", Prefix, name)), Type: ssmtypes.ParameterTypeString,
		Value: aws.String(string(body)), Overwrite: aws.Bool(true),
	}); err != nil {
		return nil, fmt.Errorf("put settings of %s: %w", name, err)
	}
	e.Fake.PutProject(s.CodeBuildProject)
	// The App stack's activity log group (status publishing appends to it).
	if _, err := e.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(s.LogGroup + "/activity")}); err != nil {
		return nil, fmt.Errorf("create activity log group of %s: %w", name, err)
	}
	return &App{Name: name, Registration: reg, Settings: s, Bucket: fmt.Sprintf("%s-%s-artifacts", Prefix, name)}, nil
}

// PutConfig writes a SecureString config parameter of the app.
func (e *Env) PutConfig(ctx context.Context, app *App, key, value string) error {
	_, err := e.SSM.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(app.Settings.ConfigPrefix + key), Type: ssmtypes.ParameterTypeSecureString,
		Value: aws.String(value), Overwrite: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("put config %s of %s: %w", key, app.Name, err)
	}
	return nil
}

// Metadata returns build metadata for build number n of the app with the
// given process types (sorted names; "web" serves HTTP) and release
// command ("" for none).
func (a *App) Metadata(n int, release string, procs ...string) BuildMetadata {
	sort.Strings(procs)
	m := BuildMetadata{
		Version:        1,
		App:            a.Name,
		BuildNumber:    int64(n),
		BuildID:        a.BuildID(n),
		Commit:         fmt.Sprintf("%08x", 0xc0ffee00+n),
		Image:          fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s-%s@sha256:%064x", Account, Region, Prefix, a.Name, n),
		ReleaseCommand: release,
		Processes:      map[string]Process{},
	}
	for _, p := range procs {
		proc := Process{Command: "bin/" + p}
		if p == "web" {
			proc.CPU, proc.Memory, proc.Count = 512, 1024, aws.Int32(2)
		}
		m.Processes[p] = proc
	}
	return m
}

// BuildID is the CodeBuild build ID of build number n.
func (a *App) BuildID(n int) string {
	return fmt.Sprintf("%s-%s:%08d-0000-4000-8000-%012d", Prefix, a.Name, n, n)
}

// ArtifactLocation is the artifact folder of build n.
func (a *App) ArtifactLocation(n int) string {
	return fmt.Sprintf("arn:aws:s3:::%s/builds/%d", a.Bucket, n)
}

// FinishBuild records build m.BuildNumber in CodeBuild with status and,
// when it succeeded, writes its wharf-build.json artifact to S3.
func (e *Env) FinishBuild(a *App, m BuildMetadata, status cbtypes.StatusType) error {
	start := time.Now().Add(-3 * time.Minute)
	b := awsfake.Build{
		ID: m.BuildID, Number: m.BuildNumber, Status: status,
		SourceVersion: "main", ResolvedSourceVersion: m.Commit, Start: start,
	}
	if status != cbtypes.StatusTypeInProgress {
		b.End = start.Add(2 * time.Minute)
	}
	if status == cbtypes.StatusTypeSucceeded {
		b.ArtifactsLocation = a.ArtifactLocation(int(m.BuildNumber))
		body, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode build metadata: %w", err)
		}
		e.Fake.PutObject(a.Bucket, fmt.Sprintf("builds/%d/wharf-build.json", m.BuildNumber), body)
	}
	e.Fake.PutBuild(b)
	return nil
}

// BuildEvent is the Build State Change event of build n of the app.
func (e *Env) BuildEvent(a *App, n int, status string) (Event, error) {
	return e.Samples.BuildStateChange(Account, Region, a.BuildID(n), status, n, a.ArtifactLocation(n))
}
