// Package app provides the Wharf App construct: everything one application
// needs in its account besides the ECS services themselves, which the
// control plane creates from the app's build metadata.
//
// An App has a CodeBuild project that builds the image (Dockerfile or Cloud
// Native Buildpacks), pushes it to the app's ECR repository and writes
// wharf-build.json (docs/build-metadata.md) to the app's artifact bucket; a
// target group and a listener rule on the cluster's HTTPS listener; log
// groups; a security group; the IAM roles of docs/security.md; the settings
// parameter the control plane reads (docs/conventions.md); EventBridge rules
// forwarding the app's build and ECS events to the control plane; and,
// with a database, the app's own PostgreSQL database and DATABASE_URL.
package app

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/constructs/account"
	"github.com/wharf-paas/wharf/constructs/database"
	"github.com/wharf-paas/wharf/constructs/redis"
	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/internal/logretention"
)

// SettingsVersion is the version field of the settings JSON.
const SettingsVersion = contract.SettingsVersion

// TagApp is the tag key the control plane must put on the app's task
// definitions, services and tasks (value: the app name). ECS Exec for the
// user role is limited to tasks carrying it.
const TagApp = contract.TagApp

// App is the Wharf App construct.
type App struct {
	constructs.Construct
	// Name is the app name.
	Name string
	// Prefix is the resource prefix in use.
	Prefix string
	// MaxScheduleNameLength is the longest schedule name the app's
	// wharf.json may use (contract.MaxScheduleNameLength: the rule
	// <prefix>-<app>_schedule-<name> must fit EventBridge's 64 characters).
	// The build script receives it as WHARF_MAX_SCHEDULE_NAME and refuses
	// longer names before it builds anything.
	MaxScheduleNameLength int

	// Project is the CodeBuild project <prefix>-<app>.
	Project awscodebuild.Project
	// TestReportGroup receives the JUnit report of the app's tests:
	// <prefix>-<app>-tests.
	TestReportGroup awscodebuild.ReportGroup
	// BuildRole is the CodeBuild project's service role.
	BuildRole awsiam.Role
	// ArtifactBucket receives wharf-build.json of every build.
	ArtifactBucket awss3.Bucket
	// Repository is the app's ECR repository.
	Repository awsecr.Repository
	// TargetGroup is the web process's target group (IP targets).
	TargetGroup awselasticloadbalancingv2.ApplicationTargetGroup
	// ListenerRule routes the app's host names to TargetGroup.
	ListenerRule awselasticloadbalancingv2.ApplicationListenerRule
	// Priority is the listener rule's priority.
	Priority int
	// Domains are the certificate, listener certificate, www redirects and
	// DNS records of the app's custom domains (AppProps.Domains).
	Domains DomainResources
	// LogGroup receives the app's container logs: /<prefix>/apps/<app>.
	LogGroup awslogs.LogGroup
	// DeployLogGroup receives the build logs: /<prefix>/apps/<app>/deploys.
	DeployLogGroup awslogs.LogGroup
	// ActivityLogGroup receives the control plane's activity events, one
	// stream per build (build-<n>): /<prefix>/apps/<app>/activity.
	ActivityLogGroup awslogs.LogGroup
	// SecurityGroup is the app's own task security group (all egress, no
	// ingress); tasks also join the cluster's app security group, which the
	// load balancer and databases admit.
	SecurityGroup awsec2.SecurityGroup

	// ExecutionRole lets ECS pull the image, write logs and read config.
	ExecutionRole awsiam.Role
	// TaskRole is the role the app's containers run with.
	TaskRole awsiam.Role
	// EventsRole lets EventBridge run the app's scheduled tasks.
	EventsRole awsiam.Role
	// ManagementRole is <prefix>-app-<app>-management, assumed by the
	// control plane.
	ManagementRole awsiam.Role
	// UserRole is <prefix>-app-<app>-user; nil without AllowedUsers.
	UserRole awsiam.Role

	// SettingsParameter is /<prefix>/apps/<app>/settings.
	SettingsParameter awsssm.StringParameter
	// EventBusRole is the one role the forwarding rules put events with.
	EventBusRole awsiam.Role
	// BuildEventsRule forwards CodeBuild state and phase changes.
	BuildEventsRule awsevents.Rule
	// TaskEventsRule forwards ECS task state changes.
	TaskEventsRule awsevents.Rule
	// ServiceEventsRule forwards ECS deployment state changes and service
	// actions.
	ServiceEventsRule awsevents.Rule

	// Database is the attached database, or nil.
	Database database.IDatabase
	// DatabaseResource creates the app's database and role; nil without a
	// database.
	DatabaseResource awscdk.CustomResource
	// DatabaseURLParameter is /<prefix>/apps/<app>/config/DATABASE_URL; nil
	// without a database.
	DatabaseURLParameter awsssm.StringParameter

	// Redis is the attached Redis, or nil.
	Redis redis.IRedis
	// RedisParameters are the config vars REDIS_URL, REDIS_PREFIX and
	// REDIS_CACHE_NAME under /<prefix>/apps/<app>/config/, by name; nil
	// without a Redis.
	RedisParameters map[string]awsssm.StringParameter

	cluster clusterRefs
}

// clusterRefs are the cluster attributes the app's policies and settings
// use (tokens for an imported cluster).
type clusterRefs struct {
	arn, name *string
}

// RulePriority is the listener-rule priority Wharf derives from an app name
// (contract.RulePriority). Two apps on one cluster collide with probability
// about n²/98,000 for n apps; the platform config reports a collision, and
// the fix is to set AppProps.Priority for one of them (docs/constructs.md).
func RulePriority(app string) int { return contract.RulePriority(app) }

// WebhookBranchPattern is the HEAD_REF pattern of the build webhook for a
// branch: ^refs/heads/<branch>$ with the branch's regular-expression
// metacharacters quoted, so it matches exactly that branch.
func WebhookBranchPattern(branch string) string {
	return "^refs/heads/" + regexp.QuoteMeta(branch) + "$"
}

// trustedBuildersValue is WHARF_TRUSTED_BUILDERS: the pinned builders
// separated by spaces, or "-" (which names no image) for none.
func trustedBuildersValue(builders []string) string {
	if len(builders) == 0 {
		return "-"
	}
	return strings.Join(builders, " ")
}

// names derives the app's names from its prefix.
func (a *App) names() contract.Names { return contract.Names{Prefix: a.Prefix} }

// NewApp creates an App. It panics with the error of props.Validate() when
// the props are invalid.
func NewApp(scope constructs.Construct, id string, props *AppProps) *App {
	if err := props.Validate(); err != nil {
		panic(err)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	a := &App{Construct: c, Name: *props.Name, Prefix: props.prefix()}
	a.MaxScheduleNameLength = contract.MaxScheduleNameLength(a.Prefix, a.Name)
	ecs := props.Cluster.EcsCluster()
	a.cluster = clusterRefs{arn: ecs.ClusterArn(), name: ecs.ClusterName()}
	retention, _ := logretention.Lookup(intOr(props.LogRetentionDays, DefaultLogRetentionDays)) // validated

	a.LogGroup = awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(a.names().LogGroup(a.Name)),
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	a.DeployLogGroup = awslogs.NewLogGroup(c, jsii.String("DeployLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(a.names().DeployLogGroup(a.Name)),
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	a.ActivityLogGroup = awslogs.NewLogGroup(c, jsii.String("ActivityLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(a.names().ActivityLogGroup(a.Name)),
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	a.SecurityGroup = awsec2.NewSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Cluster.Vpc(),
		Description:      jsii.String("Wharf app " + a.Name + " tasks (egress only; ingress comes through the cluster app security group)"),
		AllowAllOutbound: jsii.Bool(true),
	})

	a.newStorage(props)
	a.newLoadBalancing(props)
	a.newDomains(props)
	a.newRoles(props)
	a.newBuild(props)
	a.newManagementRole(props)
	a.newUserRole(props)
	a.newDatabase(props)
	a.newRedis(props)
	a.newSettings(props)
	a.newEventRules(props)
	a.suppress(props)
	return a
}

func (a *App) newStorage(props *AppProps) {
	a.ArtifactBucket = awss3.NewBucket(a.Construct, jsii.String("Artifacts"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:         jsii.Bool(false),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-old-builds"),
			Expiration:                          awscdk.Duration_Days(jsii.Number(float64(intOr(props.ArtifactRetentionDays, DefaultArtifactRetentionDays)))),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
		}},
		// Artifacts are small and rebuildable, but a bucket must be empty
		// to be deleted; it is retained (without a name, so a new app of
		// the same name gets a new bucket).
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	a.Repository = awsecr.NewRepository(a.Construct, jsii.String("Repository"), &awsecr.RepositoryProps{
		ImageScanOnPush:    jsii.Bool(true),
		ImageTagMutability: awsecr.TagMutability_MUTABLE,
		// "An image that matches the tagging requirements of a rule cannot
		// be expired by a rule with a lower priority": the cache tags
		// (cache-docker, cache-cnb; two at most, so never more than 10)
		// are kept by rule 1 and out of reach of the image count of the
		// last rule. Buildpack candidates (cnb-<n>, pushed before their
		// tests) and untagged manifests (a moved cache tag's old one) go
		// quickly, so they do not push deployable images out.
		LifecycleRules: &[]*awsecr.LifecycleRule{{
			RulePriority:  jsii.Number(1),
			Description:   jsii.String("keep the build cache tags"),
			TagStatus:     awsecr.TagStatus_TAGGED,
			TagPrefixList: jsii.Strings(CacheTagPrefix),
			MaxImageCount: jsii.Number(10),
		}, {
			RulePriority:  jsii.Number(2),
			Description:   jsii.String("keep the last buildpack candidates"),
			TagStatus:     awsecr.TagStatus_TAGGED,
			TagPrefixList: jsii.Strings("cnb-"),
			MaxImageCount: jsii.Number(3),
		}, {
			RulePriority: jsii.Number(3),
			Description:  jsii.String("expire untagged manifests"),
			TagStatus:    awsecr.TagStatus_UNTAGGED,
			MaxImageAge:  awscdk.Duration_Days(jsii.Number(1)),
		}, {
			Description:   jsii.String("keep the last images"),
			MaxImageCount: jsii.Number(float64(intOr(props.ImagesToKeep, DefaultImagesToKeep))),
			TagStatus:     awsecr.TagStatus_ANY,
		}},
		// Images are rebuilt from source; deleting the app deletes them
		// (CloudFormation's native EmptyOnDelete, no custom resource).
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		EmptyOnDelete: jsii.Bool(true),
	})
}

func (a *App) newLoadBalancing(props *AppProps) {
	a.TargetGroup = awselasticloadbalancingv2.NewApplicationTargetGroup(a.Construct, jsii.String("TargetGroup"), &awselasticloadbalancingv2.ApplicationTargetGroupProps{
		Vpc:                 props.Cluster.Vpc(),
		TargetType:          awselasticloadbalancingv2.TargetType_IP,
		Protocol:            awselasticloadbalancingv2.ApplicationProtocol_HTTP,
		Port:                jsii.Number(float64(intOr(props.ContainerPort, DefaultContainerPort))),
		DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(float64(intOr(props.DeregistrationDelaySeconds, DefaultDeregistrationDelaySeconds)))),
		HealthCheck: &awselasticloadbalancingv2.HealthCheck{
			Path:                    jsii.String(props.healthCheckPath()),
			Interval:                awscdk.Duration_Seconds(jsii.Number(float64(intOr(props.HealthCheckIntervalSeconds, DefaultHealthCheckIntervalSeconds)))),
			Timeout:                 awscdk.Duration_Seconds(jsii.Number(float64(intOr(props.HealthCheckTimeoutSeconds, DefaultHealthCheckTimeoutSeconds)))),
			HealthyThresholdCount:   jsii.Number(float64(intOr(props.HealthyThreshold, DefaultHealthyThreshold))),
			UnhealthyThresholdCount: jsii.Number(float64(intOr(props.UnhealthyThreshold, DefaultUnhealthyThreshold))),
			HealthyHttpCodes:        jsii.String("200-399"),
		},
	})
	a.Priority = intOr(props.Priority, RulePriority(a.Name))
	hosts := []*string{jsii.String(a.Name + "." + *props.Cluster.Domain())}
	for _, d := range props.Domains {
		hosts = append(hosts, d.Name)
	}
	a.ListenerRule = awselasticloadbalancingv2.NewApplicationListenerRule(a.Construct, jsii.String("ListenerRule"), &awselasticloadbalancingv2.ApplicationListenerRuleProps{
		Listener:   props.Cluster.HttpsListener(),
		Priority:   jsii.Number(float64(a.Priority)),
		Conditions: &[]awselasticloadbalancingv2.ListenerCondition{awselasticloadbalancingv2.ListenerCondition_HostHeaders(&hosts)},
		Action:     awselasticloadbalancingv2.ListenerAction_Forward(&[]awselasticloadbalancingv2.IApplicationTargetGroup{a.TargetGroup}, nil),
	})
}

func (a *App) newBuild(props *AppProps) {
	typ, owner, _ := props.repository()
	var filters *[]awscodebuild.FilterGroup
	if props.webhook() {
		filters = &[]awscodebuild.FilterGroup{
			// CodeBuild applies the pattern as a regular expression: it is
			// anchored and the branch quoted, or "main" would also build
			// (and deploy) a pushed "main-x" (issue 9, item 4).
			awscodebuild.FilterGroup_InEventOf(awscodebuild.EventAction_PUSH).AndHeadRefIs(jsii.String(WebhookBranchPattern(props.branch()))),
		}
	}
	var source awscodebuild.ISource
	if typ == RepositoryGitHub {
		source = awscodebuild.Source_GitHub(&awscodebuild.GitHubSourceProps{
			Owner: jsii.String(owner[0]), Repo: jsii.String(owner[1]),
			BranchOrRef:    jsii.String(props.branch()),
			CloneDepth:     jsii.Number(1),
			Webhook:        jsii.Bool(props.webhook()),
			WebhookFilters: filters,
		})
	} else {
		source = awscodebuild.Source_BitBucket(&awscodebuild.BitBucketSourceProps{
			Owner: jsii.String(owner[0]), Repo: jsii.String(owner[1]),
			BranchOrRef:    jsii.String(props.branch()),
			CloneDepth:     jsii.Number(1),
			Webhook:        jsii.Bool(props.webhook()),
			WebhookFilters: filters,
		})
	}
	a.TestReportGroup = awscodebuild.NewReportGroup(a.Construct, jsii.String("TestReports"), &awscodebuild.ReportGroupProps{
		ReportGroupName: jsii.String(a.names().TestReportGroup(a.Name)),
		Type:            awscodebuild.ReportGroupType_TEST,
		// Test reports are build by-products; CodeBuild keeps them 30 days.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	spec, err := buildSpec()
	if err != nil {
		panic(err)
	}
	a.newBuildRole(props)
	env := map[string]*awscodebuild.BuildEnvironmentVariable{
		"WHARF_PREFIX": {Value: jsii.String(a.Prefix)},
		"WHARF_APP":    {Value: jsii.String(a.Name)},
		// The build script refuses longer schedule names, before the build.
		"WHARF_MAX_SCHEDULE_NAME": {Value: jsii.String(strconv.Itoa(a.MaxScheduleNameLength))},
		"WHARF_IMAGE_REPO":        {Value: a.Repository.RepositoryUri()},
		"WHARF_PACK_VERSION":      {Value: jsii.String(PackVersion)},
		"WHARF_PACK_SHA256":       {Value: jsii.String(PackSHA256)},
		// The build refuses any other head ref (docs/build-metadata.md).
		"WHARF_BRANCH": {Value: jsii.String(props.branch())},
		// Builders pack may trust, pinned by digest; "-" trusts none.
		"WHARF_TRUSTED_BUILDERS": {Value: jsii.String(trustedBuildersValue(props.trustedBuilders()))},
		// Read by the build script, which logs in to Docker Hub when
		// the parameter exists; CodeBuild's PARAMETER_STORE variables
		// would fail every build while it does not.
		"WHARF_DOCKERHUB_PARAMETER": {Value: jsii.String(account.DockerHubParameterName(a.Prefix))},
	}
	if len(props.BuildConfig) > 0 {
		// Config var names the build may read; the build role may read
		// exactly these parameters.
		env["WHARF_BUILD_CONFIG"] = &awscodebuild.BuildEnvironmentVariable{Value: jsii.String(strings.Join(props.BuildConfig, " "))}
	}
	a.Project = awscodebuild.NewProject(a.Construct, jsii.String("Build"), &awscodebuild.ProjectProps{
		ProjectName: jsii.String(a.names().CodeBuildProject(a.Name)),
		Description: jsii.String("Wharf app " + a.Name + ": build the image, push it, write wharf-build.json"),
		Source:      source,
		BuildSpec:   awscodebuild.BuildSpec_FromObjectToYaml(&spec),
		Environment: &awscodebuild.BuildEnvironment{
			BuildImage:  awscodebuild.LinuxBuildImage_STANDARD_7_0(),
			ComputeType: awscodebuild.ComputeType_MEDIUM,
			// Docker-in-Docker needs a privileged container.
			Privileged: jsii.Bool(true),
		},
		EnvironmentVariables: &env,
		// wharf-build.json lands at <bucket>/builds/<build id>/wharf/; the
		// control plane reads it from build.artifacts.location.
		Artifacts: awscodebuild.Artifacts_S3(&awscodebuild.S3ArtifactsProps{
			Bucket:         a.ArtifactBucket,
			Path:           jsii.String("builds"),
			Name:           jsii.String("wharf"),
			IncludeBuildId: jsii.Bool(true),
			PackageZip:     jsii.Bool(false),
			// Objects get the bucket's SSE-S3 encryption, so reading them
			// needs no KMS permission.
			Encryption: jsii.Bool(false),
		}),
		Cache:   awscodebuild.Cache_Local(awscodebuild.LocalCacheMode_DOCKER_LAYER, awscodebuild.LocalCacheMode_SOURCE),
		Timeout: awscdk.Duration_Minutes(jsii.Number(30)),
		Logging: &awscodebuild.LoggingOptions{CloudWatch: &awscodebuild.CloudWatchLoggingOptions{
			LogGroup: a.DeployLogGroup,
			Prefix:   jsii.String("build"),
		}},
		// The role's policy is written out in newBuildRole; CDK's generated
		// grants (wildcard S3 actions, /aws/codebuild log groups, report
		// groups) are not needed and are kept off it.
		Role: a.BuildRole.WithoutPolicyUpdates(nil),
	})
	if props.ConnectionArn != nil {
		cfn := a.Project.Node().DefaultChild().(awscodebuild.CfnProject)
		cfn.AddPropertyOverride(jsii.String("Source.Auth"), map[string]interface{}{
			"Type":     "CODECONNECTIONS",
			"Resource": *props.ConnectionArn,
		})
	}
}

func (a *App) newDatabase(props *AppProps) {
	db := props.Database
	if db == nil && props.DatabaseName != nil {
		db = database.FromName(a.Construct, "Database", &database.FromNameProps{Prefix: jsii.String(a.Prefix), Name: props.DatabaseName})
	}
	if db == nil {
		return
	}
	a.Database = db
	pgName := contract.AppDatabase(a.Name)
	properties := map[string]interface{}{"Action": "create-database", "App": a.Name}
	if !props.keepDatabase() {
		// The manager drops the database and role on Delete only when
		// asked to (docs/dbmanager.md).
		properties["DropOnDelete"] = "true"
	}
	a.DatabaseResource = awscdk.NewCustomResource(a.Construct, jsii.String("DatabaseResource"), &awscdk.CustomResourceProps{
		ServiceToken: db.ManagerFunctionArn(),
		ResourceType: jsii.String("Custom::WharfAppDatabase"),
		Properties:   &properties,
	})
	if props.keepDatabase() {
		// CloudFormation sends no Delete to a retained custom resource, so
		// the database and its data outlive the app.
		a.DatabaseResource.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN)
	}
	url := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("postgres://" + pgName + "@"), db.Endpoint(), jsii.String(":"), db.Port(),
		jsii.String("/" + pgName + "?sslmode=require"),
	})
	a.DatabaseURLParameter = awsssm.NewStringParameter(a.Construct, jsii.String("DatabaseUrl"), &awsssm.StringParameterProps{
		ParameterName: jsii.String(a.names().ConfigPath(a.Name) + contract.DatabaseURLConfigVar),
		Description:   jsii.String("Wharf app " + a.Name + ": PostgreSQL URL without password (connect with an IAM auth token as the password)"),
		StringValue:   url,
	})
	a.DatabaseURLParameter.Node().AddDependency(a.DatabaseResource)
	stack := awscdk.Stack_Of(a.Construct)
	a.TaskRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ConnectToOwnDatabase"),
		Actions:   jsii.Strings("rds-db:connect"),
		Resources: jsii.Strings(*database.DBUserArn(stack, db.ClusterResourceID(), pgName)),
	}))
	if a.UserRole != nil {
		// wharf db shell signs an IAM auth token as the app's own database
		// user (the one user the task role may connect as) and hands it to
		// psql in a one-off task: no more than the app's users can already
		// do by running code in the app's tasks (wharf run).
		a.UserRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ConnectToOwnDatabaseFromOneOffTasks"),
			Actions:   jsii.Strings("rds-db:connect"),
			Resources: jsii.Strings(*database.DBUserArn(stack, db.ClusterResourceID(), pgName)),
		}))
	}
}

// newRedis attaches the app to its Redis: the config vars, and
// elasticache:Connect as the app's own user. The user itself is the
// Redis's (RedisProps.Apps), so that one stack owns the user group.
func (a *App) newRedis(props *AppProps) {
	r := props.Redis
	if r == nil && props.RedisName != nil {
		r = redis.FromName(a.Construct, "Redis", &redis.FromNameProps{Prefix: jsii.String(a.Prefix), Name: props.RedisName})
	}
	if r == nil {
		return
	}
	a.Redis = r
	a.RedisParameters = map[string]awsssm.StringParameter{}
	for _, v := range []struct {
		id, name, desc string
		value          *string
	}{
		{"RedisUrl", contract.ConfigRedisURL, "Redis URL without password (authenticate with an IAM auth token as the password)", redis.URL(a.Prefix, a.Name, r)},
		{"RedisPrefix", contract.ConfigRedisPrefix, "the prefix every Redis key and channel of the app must start with", jsii.String(contract.RedisKeyPrefix(a.Name))},
		{"RedisCacheName", contract.ConfigRedisCacheName, "the replication group ID IAM auth tokens are signed for", r.ReplicationGroupID()},
	} {
		a.RedisParameters[v.name] = awsssm.NewStringParameter(a.Construct, jsii.String(v.id), &awsssm.StringParameterProps{
			ParameterName: jsii.String(a.names().ConfigParameter(a.Name, v.name)),
			Description:   jsii.String("Wharf app " + a.Name + ": " + v.desc),
			StringValue:   v.value,
		})
	}
	stack := awscdk.Stack_Of(a.Construct)
	// IAM authentication: "The IAM identity needs an associated policy to
	// grant the elasticache:Connect action to the ElastiCache cache and
	// ElastiCache user" (Authenticating with IAM). Both resources are
	// named, so the task role can log in as its own user only.
	a.TaskRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:     jsii.String("ConnectToRedisAsOwnUser"),
		Actions: jsii.Strings("elasticache:Connect"),
		Resources: &[]*string{
			redis.ReplicationGroupArn(stack, *r.ReplicationGroupID()),
			redis.UserArn(stack, redis.AppUserID(a.Prefix, a.Name)),
		},
	}))
}

func (a *App) newSettings(props *AppProps) {
	stack := awscdk.Stack_Of(a.Construct)
	vpc := props.Cluster.Vpc()
	var subnets []*string
	for _, s := range *vpc.PublicSubnets() {
		subnets = append(subnets, s.SubnetId())
	}
	settings := map[string]interface{}{
		"version":          SettingsVersion,
		"app":              a.Name,
		"prefix":           a.Prefix,
		"clusterArn":       a.cluster.arn,
		"subnets":          subnets,
		"securityGroups":   []*string{props.Cluster.AppSecurityGroup().SecurityGroupId(), a.SecurityGroup.SecurityGroupId()},
		"assignPublicIp":   props.launchType() == LaunchTypeFargate,
		"launchType":       props.launchType(),
		"targetGroupArn":   a.TargetGroup.TargetGroupArn(),
		"containerPort":    intOr(props.ContainerPort, DefaultContainerPort),
		"executionRoleArn": a.ExecutionRole.RoleArn(),
		"taskRoleArn":      a.TaskRole.RoleArn(),
		"eventsRoleArn":    a.EventsRole.RoleArn(),
		"logGroup":         a.LogGroup.LogGroupName(),
		"codebuildProject": a.Project.ProjectName(),
		"configPrefix":     a.names().ConfigPath(a.Name),
		"branch":           props.branch(),
		"repository":       a.Repository.RepositoryName(),
		// app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>: what a
		// requests-per-target autoscaling range of the web process
		// tracks (ALBRequestCountPerTarget's resource label).
		"requestCountLabel": awscdk.Fn_Join(jsii.String("/"), &[]*string{
			props.Cluster.LoadBalancerFullName(), a.TargetGroup.TargetGroupFullName()}),
	}
	a.SettingsParameter = awsssm.NewStringParameter(a.Construct, jsii.String("Settings"), &awsssm.StringParameterProps{
		ParameterName: jsii.String(a.names().SettingsParameter(a.Name)),
		Description:   jsii.String("Wharf app " + a.Name + " settings for the control plane (docs/conventions.md)"),
		StringValue:   stack.ToJsonString(settings, nil),
	})
}

func (a *App) newEventRules(props *AppProps) {
	stack := awscdk.Stack_Of(a.Construct)
	a.EventBusRole = awsiam.NewRole(a.Construct, jsii.String("EventBusRole"), &awsiam.RoleProps{
		Description: jsii.String("EventBridge: put Wharf app " + a.Name + " events on the control plane bus"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
	})
	bus := awsevents.EventBus_FromEventBusArn(a.Construct, jsii.String("ControlPlaneBus"), props.ControlPlaneEventBusArn)
	target := func() *[]awsevents.IRuleTarget {
		return &[]awsevents.IRuleTarget{awseventstargets.NewEventBus(bus, &awseventstargets.EventBusProps{Role: a.EventBusRole})}
	}
	a.BuildEventsRule = awsevents.NewRule(a.Construct, jsii.String("BuildEvents"), &awsevents.RuleProps{
		Description: jsii.String("Forward Wharf app " + a.Name + " CodeBuild state and phase changes to the control plane"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(contract.SourceCodeBuild),
			DetailType: jsii.Strings(contract.DetailBuildState, contract.DetailBuildPhase),
			Detail:     &map[string]interface{}{"project-name": []interface{}{a.names().CodeBuildProject(a.Name)}},
		},
		Targets: target(),
	})
	familyPrefix := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("arn:"), stack.Partition(), jsii.String(":ecs:"), stack.Region(), jsii.String(":"), stack.Account(),
		jsii.String(":task-definition/" + a.names().FamilyPrefix(a.Name)),
	})
	a.TaskEventsRule = awsevents.NewRule(a.Construct, jsii.String("TaskEvents"), &awsevents.RuleProps{
		Description: jsii.String("Forward Wharf app " + a.Name + " ECS task state changes to the control plane"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(contract.SourceECS),
			DetailType: jsii.Strings(contract.DetailTaskState),
			Detail: &map[string]interface{}{
				"clusterArn":        []interface{}{a.cluster.arn},
				"taskDefinitionArn": awsevents.Match_Prefix(familyPrefix),
			},
		},
		Targets: target(),
	})
	// Deployment events carry no detail.clusterArn (findings #2): match the
	// service ARN in resources, arn:...:service/<cluster>/<prefix>-<app>_.
	servicePrefix := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("arn:"), stack.Partition(), jsii.String(":ecs:"), stack.Region(), jsii.String(":"), stack.Account(),
		jsii.String(":service/"), a.cluster.name, jsii.String("/" + a.names().FamilyPrefix(a.Name)),
	})
	a.ServiceEventsRule = awsevents.NewRule(a.Construct, jsii.String("ServiceEvents"), &awsevents.RuleProps{
		Description: jsii.String("Forward Wharf app " + a.Name + " ECS deployment state changes and service actions to the control plane"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(contract.SourceECS),
			DetailType: jsii.Strings(contract.DetailDeploymentState, contract.DetailServiceAction),
			Resources:  awsevents.Match_Prefix(servicePrefix),
		},
		Targets: target(),
	})
}
