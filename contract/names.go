package contract

import (
	"strconv"
	"strings"
)

// Names derives every physical name of one Wharf installation from its
// resource prefix (docs/conventions.md). The zero Prefix is not valid; use
// DefaultPrefix. Names does not validate its inputs: validate the prefix
// (ValidatePrefix) and each name (ValidateApp, ValidateClusterName, ...)
// where the user gives them.
type Names struct {
	// Prefix is the resource prefix, e.g. "wharf".
	Prefix string
}

// Fixed names and name parts.
const (
	// ReleaseProcess is the reserved process name of the release task
	// definition family (<prefix>-<app>_release), which also runs the
	// app's scheduled tasks.
	ReleaseProcess = "release"
	// ContainerName is the name of the single container in every task
	// definition the control plane registers.
	ContainerName = "app"
	// ReleaseStartedByPrefix begins the startedBy of every release task
	// (the app is known from the family).
	ReleaseStartedByPrefix = "wharf-release-"
	// ManagementPolicyName and UserPolicyName are the inline policy names
	// of the management and user roles.
	ManagementPolicyName = "wharf-management"
	UserPolicyName       = "wharf-user"
)

// Tag keys Wharf puts on ECS resources.
const (
	// TagApp (value: the app name) is on every task definition, service
	// and task of an app; ECS Exec for the user role is limited to tasks
	// carrying it.
	TagApp = "wharf:app"
	// TagBuild is the build number a task definition was registered for.
	TagBuild = "wharf:build"
	// TagProcess is the process type of a task definition or service.
	TagProcess = "wharf:process"
	// TagSpec is the hash of a service's desired spec.
	TagSpec = "wharf:spec"
)

// Event sources and detail-types forwarded to the control plane.
const (
	SourceCodeBuild = "aws.codebuild"
	SourceECS       = "aws.ecs"
	SourceSSM       = "aws.ssm"

	DetailBuildState      = "CodeBuild Build State Change"
	DetailBuildPhase      = "CodeBuild Build Phase Change"
	DetailTaskState       = "ECS Task State Change"
	DetailDeploymentState = "ECS Deployment State Change"
	DetailServiceAction   = "ECS Service Action"
	DetailParameterChange = "Parameter Store Change"
)

// ForwardedSources are the event sources the control plane's bus accepts.
func ForwardedSources() []string { return []string{SourceCodeBuild, SourceECS, SourceSSM} }

// ForwardedDetailTypes are the detail-types the control plane's bus
// accepts, in the order of docs/conventions.md.
func ForwardedDetailTypes() []string {
	return []string{DetailBuildState, DetailBuildPhase, DetailTaskState, DetailDeploymentState, DetailServiceAction, DetailParameterChange}
}

// Validate checks the prefix (ValidatePrefix).
func (n Names) Validate() error { return ValidatePrefix(n.Prefix) }

// Stacks.

// AccountStack is <prefix>-account.
func (n Names) AccountStack() string { return n.Prefix + "-account" }

// ClusterStack is <prefix>-cluster-<cluster>.
func (n Names) ClusterStack(cluster string) string { return n.Prefix + "-cluster-" + cluster }

// AppStack is <prefix>-app-<app>.
func (n Names) AppStack(app string) string { return n.Prefix + "-app-" + app }

// DatabaseStack is <prefix>-database-<db>.
func (n Names) DatabaseStack(db string) string { return n.Prefix + "-database-" + db }

// ControlPlaneStack is <prefix>-controlplane.
func (n Names) ControlPlaneStack() string { return n.Prefix + "-controlplane" }

// Account.

// AdminRole is <prefix>-account-admin.
func (n Names) AdminRole() string { return n.Prefix + "-account-admin" }

// ObserverRole is <prefix>-account-observer.
func (n Names) ObserverRole() string { return n.Prefix + "-account-observer" }

// ObserverRoleARN is arn:<partition>:iam::<account>:role/<prefix>-account-observer.
func (n Names) ObserverRoleARN(partition, account string) string {
	return RoleARN(partition, account, n.ObserverRole())
}

// AdminRoleARN is arn:<partition>:iam::<account>:role/<prefix>-account-admin.
func (n Names) AdminRoleARN(partition, account string) string {
	return RoleARN(partition, account, n.AdminRole())
}

// ParameterRoot is /<prefix>/, the path under which every Wharf parameter
// lives (and whose changes the account forwards).
func (n Names) ParameterRoot() string { return "/" + n.Prefix + "/" }

// AdministratorsParameter is /<prefix>/account/administrators.
func (n Names) AdministratorsParameter() string { return "/" + n.Prefix + "/account/administrators" }

// DockerHubParameter is /<prefix>/account/dockerhub.
func (n Names) DockerHubParameter() string { return "/" + n.Prefix + "/account/dockerhub" }

// Cluster.

// ECSCluster is the ECS cluster name <prefix>-<cluster>.
func (n Names) ECSCluster(cluster string) string { return n.Prefix + "-" + cluster }

// ClusterParameterPath is /<prefix>/clusters/<cluster>/.
func (n Names) ClusterParameterPath(cluster string) string {
	return "/" + n.Prefix + "/clusters/" + cluster + "/"
}

// ClusterParameter is /<prefix>/clusters/<cluster>/<key>.
func (n Names) ClusterParameter(cluster, key string) string {
	return n.ClusterParameterPath(cluster) + key
}

// Database.

// DatabaseParameterPath is /<prefix>/databases/<db>/.
func (n Names) DatabaseParameterPath(db string) string {
	return "/" + n.Prefix + "/databases/" + db + "/"
}

// DatabaseParameter is /<prefix>/databases/<db>/<key>.
func (n Names) DatabaseParameter(db, key string) string { return n.DatabaseParameterPath(db) + key }

// DatabaseCluster is the Aurora cluster identifier <prefix>-<db>.
func (n Names) DatabaseCluster(db string) string { return n.Prefix + "-" + db }

// DatabaseClusterLogGroup is the log group RDS writes the cluster's
// PostgreSQL log to: /aws/rds/cluster/<prefix>-<db>/postgresql.
func (n Names) DatabaseClusterLogGroup(db string) string {
	return "/aws/rds/cluster/" + n.DatabaseCluster(db) + "/postgresql"
}

// DatabaseManagerFunction is the manager Lambda <prefix>-database-<db>-manager.
func (n Names) DatabaseManagerFunction(db string) string {
	return n.Prefix + "-database-" + db + "-manager"
}

// DatabaseManagerLogGroup is /aws/lambda/<prefix>-database-<db>-manager.
func (n Names) DatabaseManagerLogGroup(db string) string {
	return "/aws/lambda/" + n.DatabaseManagerFunction(db)
}

// AppDatabase is the PostgreSQL database and role of an app: the app name
// with each hyphen replaced by "_". App names contain no "_", so two app
// names never map to one database.
func AppDatabase(app string) string { return strings.ReplaceAll(app, "-", "_") }

// Redis.

// RedisStack is the stack of a Redis (ElastiCache) replication group:
// <prefix>-redis-<redis>.
func (n Names) RedisStack(redis string) string { return n.Prefix + "-redis-" + redis }

// RedisParameterPath is /<prefix>/redis/<redis>/, under which a Redis
// publishes its attributes.
func (n Names) RedisParameterPath(redis string) string {
	return "/" + n.Prefix + "/redis/" + redis + "/"
}

// RedisParameter is /<prefix>/redis/<redis>/<key>.
func (n Names) RedisParameter(redis, key string) string { return n.RedisParameterPath(redis) + key }

// RedisReplicationGroup is the ElastiCache replication group ID
// <prefix>-<redis> (at most ElastiCacheIDLimit characters:
// MaxRedisNameLength).
func (n Names) RedisReplicationGroup(redis string) string { return n.Prefix + "-" + redis }

// RedisUserGroup is the ElastiCache user group ID <prefix>-redis-<redis>.
func (n Names) RedisUserGroup(redis string) string { return n.Prefix + "-redis-" + redis }

// RedisDefaultUser is the ID of the disabled user named "default" that
// every user group of engine redis must contain:
// <prefix>-redis-<redis>-default.
func (n Names) RedisDefaultUser(redis string) string { return n.RedisUserGroup(redis) + "-default" }

// RedisAppUser is an app's ElastiCache user, both its user ID and its user
// name (IAM authentication needs them equal): <prefix>-app-<app>. An app
// attaches to at most one Redis, so the name needs no Redis part; it can
// never equal a RedisDefaultUser (<prefix>-redis-...).
func (n Names) RedisAppUser(app string) string { return n.Prefix + "-app-" + app }

// RedisDefaultUserSecret is the Secrets Manager secret holding the unused
// password of the disabled default user: <prefix>/redis/<redis>/default-user.
func (n Names) RedisDefaultUserSecret(redis string) string {
	return n.Prefix + "/redis/" + redis + "/default-user"
}

// RedisKeyPrefix is the prefix of every key and pub/sub channel an app may
// use in a shared Redis: "<app>:". App names are lowercase letters, digits
// and hyphens, so the prefix has no glob metacharacter and no app's prefix
// begins with another's ("api:" never matches "api-v2:...").
func RedisKeyPrefix(app string) string { return app + ":" }

// Config vars the App construct writes for an app attached to a Redis.
const (
	// ConfigRedisURL is rediss://<user>@<host>:<port>, without a password:
	// the app authenticates with an IAM auth token.
	ConfigRedisURL = "REDIS_URL"
	// ConfigRedisPrefix is RedisKeyPrefix(app).
	ConfigRedisPrefix = "REDIS_PREFIX"
	// ConfigRedisCacheName is the replication group ID, the host part of
	// the request an IAM auth token signs.
	ConfigRedisCacheName = "REDIS_CACHE_NAME"
)

// App.

// CodeBuildProject is <prefix>-<app>.
func (n Names) CodeBuildProject(app string) string { return n.Prefix + "-" + app }

// TestReportName is the report name in the app's buildspec. A report
// named in a buildspec by name, not ARN, goes to the report group
// <project>-<report name>.
const TestReportName = "tests"

// TestReportGroup is the CodeBuild report group of the app's test reports,
// <prefix>-<app>-tests.
func (n Names) TestReportGroup(app string) string {
	return n.CodeBuildProject(app) + "-" + TestReportName
}

// AppOfProject returns the app of a CodeBuild project name
// <prefix>-<app>, when the rest is a valid app name.
func (n Names) AppOfProject(project string) (string, bool) {
	app, ok := strings.CutPrefix(project, n.Prefix+"-")
	return app, ok && ValidateAppName(app) == nil
}

// FamilyPrefix is <prefix>-<app>_, the start of every family, service and
// schedule rule of the app.
func (n Names) FamilyPrefix(app string) string { return n.Prefix + "-" + app + "_" }

// Family is the task-definition family of a process type:
// <prefix>-<app>_<proc>.
func (n Names) Family(app, proc string) string { return n.FamilyPrefix(app) + proc }

// ReleaseFamily is <prefix>-<app>_release.
func (n Names) ReleaseFamily(app string) string { return n.Family(app, ReleaseProcess) }

// Service is the ECS service of a process type: <prefix>-<app>_<proc>.
func (n Names) Service(app, proc string) string { return n.Family(app, proc) }

// ParseFamily splits a family or service name <prefix>-<app>_<proc>; ok
// only when app is a valid app name and proc a valid process type or
// ReleaseProcess.
func (n Names) ParseFamily(name string) (app, proc string, ok bool) {
	rest, ok := strings.CutPrefix(name, n.Prefix+"-")
	if !ok {
		return "", "", false
	}
	app, proc, ok = strings.Cut(rest, "_")
	if !ok || ValidateAppName(app) != nil || (proc != ReleaseProcess && ValidateProcessName(proc) != nil) {
		return "", "", false
	}
	return app, proc, true
}

// ScheduleRulePrefix is <prefix>-<app>_schedule-.
func (n Names) ScheduleRulePrefix(app string) string { return n.FamilyPrefix(app) + "schedule-" }

// ScheduleRule is the EventBridge rule of a scheduled task:
// <prefix>-<app>_schedule-<name>.
func (n Names) ScheduleRule(app, name string) string { return n.ScheduleRulePrefix(app) + name }

// ManagementRole is <prefix>-app-<app>-management.
func (n Names) ManagementRole(app string) string { return n.Prefix + "-app-" + app + "-management" }

// UserRole is <prefix>-app-<app>-user.
func (n Names) UserRole(app string) string { return n.Prefix + "-app-" + app + "-user" }

// ManagementRoleARN is arn:<partition>:iam::<account>:role/<prefix>-app-<app>-management.
func (n Names) ManagementRoleARN(partition, account, app string) string {
	return RoleARN(partition, account, n.ManagementRole(app))
}

// UserRoleARN is arn:<partition>:iam::<account>:role/<prefix>-app-<app>-user.
func (n Names) UserRoleARN(partition, account, app string) string {
	return RoleARN(partition, account, n.UserRole(app))
}

// AppParameterPath is /<prefix>/apps/<app>/.
func (n Names) AppParameterPath(app string) string { return "/" + n.Prefix + "/apps/" + app + "/" }

// SettingsParameter is /<prefix>/apps/<app>/settings.
func (n Names) SettingsParameter(app string) string { return n.AppParameterPath(app) + "settings" }

// ConfigPath is /<prefix>/apps/<app>/config/.
func (n Names) ConfigPath(app string) string { return n.AppParameterPath(app) + "config/" }

// ConfigParameter is /<prefix>/apps/<app>/config/<VAR>.
func (n Names) ConfigParameter(app, name string) string { return n.ConfigPath(app) + name }

// AppOfParameter returns the app and the rest of a parameter name under
// /<prefix>/apps/<app>/ ("settings", "config/VAR"), when app is a valid
// app name.
func (n Names) AppOfParameter(name string) (app, rest string, ok bool) {
	tail, ok := strings.CutPrefix(name, "/"+n.Prefix+"/apps/")
	if !ok {
		return "", "", false
	}
	app, rest, ok = strings.Cut(tail, "/")
	return app, rest, ok && ValidateAppName(app) == nil
}

// StatusParameter is /<prefix>/apps/<app>/status, the app's status
// document written by the control plane.
func (n Names) StatusParameter(app string) string { return n.AppParameterPath(app) + "status" }

// ActivityLogGroup is /<prefix>/apps/<app>/activity, the app's deploy
// activity log.
func (n Names) ActivityLogGroup(app string) string { return n.LogGroup(app) + "/activity" }

// LogGroup is the app's container log group /<prefix>/apps/<app>.
func (n Names) LogGroup(app string) string { return "/" + n.Prefix + "/apps/" + app }

// DeployLogGroup is the app's build log group /<prefix>/apps/<app>/deploys.
func (n Names) DeployLogGroup(app string) string { return n.LogGroup(app) + "/deploys" }

// Control plane.

// EventBus is the control plane's event bus <prefix>-controlplane.
func (n Names) EventBus() string { return n.Prefix + "-controlplane" }

// EventBusARN is arn:<partition>:events:<region>:<account>:event-bus/<prefix>-controlplane.
func (n Names) EventBusARN(partition, region, account string) string {
	return "arn:" + partition + ":events:" + region + ":" + account + ":event-bus/" + n.EventBus()
}

// RoleARN is arn:<partition>:iam::<account>:role/<name>.
func RoleARN(partition, account, name string) string {
	return "arn:" + partition + ":iam::" + account + ":role/" + name
}

// ReleaseStartedBy is the startedBy of a build's release task:
// wharf-release-<build>.
func ReleaseStartedBy(build int64) string {
	return ReleaseStartedByPrefix + strconv.FormatInt(build, 10)
}

// ParseReleaseStartedBy returns the build number of a release task's
// startedBy.
func ParseReleaseStartedBy(startedBy string) (int64, bool) {
	s, ok := strings.CutPrefix(startedBy, ReleaseStartedByPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// Attribute names of the control plane's state table: the store
// (controlplane.DynamoStore) writes items with them and the construct
// creates the table with them.
const (
	// StateTablePartitionKey is the partition key (S).
	StateTablePartitionKey = "pk"
	// StateTableSortKey is the sort key (S).
	StateTableSortKey = "sk"
	// StateTableTTLAttribute is the TTL attribute (a Unix time in seconds).
	StateTableTTLAttribute = "ttl"
)
