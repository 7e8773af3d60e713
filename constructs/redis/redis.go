// Package redis provides the Wharf Redis construct: an ElastiCache
// replication group (Valkey or Redis OSS, cluster mode disabled) in a Wharf
// cluster's private subnets, shared by several apps.
//
// Apps share one Redis the way AppPack's do: each app gets its own
// ElastiCache user, whose access string (AccessString) allows only keys and
// pub/sub channels starting "<app>:" and no command that reaches the whole
// server (FLUSHALL, KEYS, SCAN, CONFIG, ...). Users authenticate with IAM
// (short-lived SigV4 tokens, no password anywhere): an app's task role may
// elasticache:Connect as its own user only, so a compromised app can
// neither log in as another app nor read another app's keys. The user
// named "default", which unauthenticated connections use, is disabled.
// Traffic is TLS only (transit encryption required) and data is encrypted
// at rest. docs/constructs.md ("Redis") and docs/security.md have the
// details, including what the sharing does not isolate (memory, CPU).
//
// A Redis publishes its attributes as SSM String parameters under
// /<prefix>/redis/<name>/ so apps in other stacks can use it by name
// (FromName) without CloudFormation exports.
package redis

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/wharf-paas/wharf/contract"
)

// Port is the port of every Wharf Redis.
const Port = 6379

// UserEngine is the engine of the users and the user group. "When using
// RBAC with Valkey clusters, both user groups with engine VALKEY and REDIS
// can be used"; with Redis OSS clusters "only user groups with engine
// REDIS" (ElastiCache guide, Role-Based Access Control), so "redis" serves
// both engines.
const UserEngine = "redis"

// DefaultUserAccessString disables the user named "default", the identity
// of every connection that has not authenticated: such connections can
// run no command (NOAUTH).
const DefaultUserAccessString = "off -@all"

// Keys of the SSM String parameters a Redis publishes under
// ParameterPrefix(prefix, name).
const (
	ParamEndpoint        = "endpoint"
	ParamReaderEndpoint  = "reader-endpoint"
	ParamPort            = "port"
	ParamSecurityGroupID = "security-group-id"
)

// ParameterPrefix is the SSM path under which a Redis publishes its
// attributes: /<prefix>/redis/<name>/.
func ParameterPrefix(prefix, name string) string {
	return contract.Names{Prefix: prefix}.RedisParameterPath(name)
}

// ParameterName is the full name of one published parameter.
func ParameterName(prefix, name, key string) string { return ParameterPrefix(prefix, name) + key }

// AccessString is the ElastiCache access string of an app's user in a
// shared Redis:
//
//   - on: the user may authenticate;
//   - ~<app>:* and &<app>:*: keys and pub/sub channels starting "<app>:"
//     only (every command that names a key or channel is checked,
//     including those a Lua script calls);
//   - +@all -@dangerous: every command except those that reach the whole
//     server or other connections (FLUSHALL, FLUSHDB, SWAPDB, KEYS, SORT,
//     CONFIG, DEBUG, MONITOR, CLIENT LIST/KILL, ACL, MIGRATE, RESTORE,
//     SLOWLOG, ...);
//   - +info: server statistics, which clients such as Sidekiq read;
//   - -scan -randomkey: they return key names of every app (KEYS is in
//     @dangerous already);
//   - -pubsub: PUBSUB CHANNELS lists every app's channels;
//   - -function: functions are server-wide; FUNCTION FLUSH or DELETE would
//     remove another app's libraries.
//
// The string names no subcommand (ElastiCache rejects access strings it
// cannot apply), and only commands ElastiCache neither forbids nor renames.
func AccessString(app string) string {
	p := contract.RedisKeyPrefix(app)
	return "on ~" + p + "* &" + p + "* +@all -@dangerous +info -scan -randomkey -pubsub -function"
}

// ReplicationGroupID is the replication group ID <prefix>-<name>.
func ReplicationGroupID(prefix, name string) string {
	return contract.Names{Prefix: prefix}.RedisReplicationGroup(name)
}

// AppUserID is an app's ElastiCache user ID and user name: <prefix>-app-<app>.
func AppUserID(prefix, app string) string { return contract.Names{Prefix: prefix}.RedisAppUser(app) }

// ReplicationGroupArn is arn:<partition>:elasticache:<region>:<account>:replicationgroup:<id>.
func ReplicationGroupArn(stack awscdk.Stack, id string) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("elasticache"), Resource: jsii.String("replicationgroup"),
		ResourceName: jsii.String(id), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}

// UserArn is arn:<partition>:elasticache:<region>:<account>:user:<user id>.
func UserArn(stack awscdk.Stack, userID string) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("elasticache"), Resource: jsii.String("user"),
		ResourceName: jsii.String(userID), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}

// IRedis is what an app needs from a Wharf Redis. A live *Redis implements
// it, and so does the value FromName returns.
type IRedis interface {
	constructs.IConstruct
	// RedisName is the Wharf name of the Redis.
	RedisName() *string
	// ReplicationGroupID is the replication group ID (<prefix>-<name>),
	// the cache name IAM auth tokens are signed for.
	ReplicationGroupID() *string
	// Endpoint is the primary endpoint host name.
	Endpoint() *string
	// Port is the port as a string.
	Port() *string
	// SecurityGroupID is the Redis's security group.
	SecurityGroupID() *string
}

// Redis is the Wharf Redis construct. It implements IRedis.
type Redis struct {
	constructs.Construct
	name, prefix string
	apps         map[string]bool

	// ReplicationGroup is the ElastiCache replication group.
	ReplicationGroup awselasticache.CfnReplicationGroup
	// SubnetGroup places the nodes in the cluster's private subnets.
	SubnetGroup awselasticache.CfnSubnetGroup
	// SecurityGroup admits the port from the cluster's app security group
	// only, and sends nothing.
	SecurityGroup awsec2.SecurityGroup
	// UserGroup holds DefaultUser and every app's user.
	UserGroup awselasticache.CfnUserGroup
	// DefaultUser is the disabled user named "default".
	DefaultUser awselasticache.CfnUser
	// DefaultUserSecret holds DefaultUser's generated password, which no
	// one uses (the user is off); CloudFormation passes it to ElastiCache
	// by dynamic reference, so no template or event shows it.
	DefaultUserSecret awssecretsmanager.Secret
	// AppUsers are the apps' users (IAM authentication) by app name.
	AppUsers map[string]awselasticache.CfnUser
	// Parameters holds the published SSM parameters by key.
	Parameters map[string]awsssm.StringParameter
}

var _ IRedis = (*Redis)(nil)

// NewRedis creates a Redis. It panics with the error of props.Validate()
// when the props are invalid.
func NewRedis(scope constructs.Construct, id string, props *RedisProps) *Redis {
	if err := props.Validate(); err != nil {
		panic(err)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	names := contract.Names{Prefix: props.prefix()}
	r := &Redis{Construct: c, name: *props.Name, prefix: props.prefix(), apps: map[string]bool{},
		AppUsers: map[string]awselasticache.CfnUser{}, Parameters: map[string]awsssm.StringParameter{}}
	vpc := props.Cluster.Vpc()

	r.SecurityGroup = awsec2.NewSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("Wharf redis " + r.name + ": " + strconv.Itoa(Port) + " from the cluster apps only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	r.SecurityGroup.AddIngressRule(props.Cluster.AppSecurityGroup(), awsec2.Port_Tcp(jsii.Number(Port)), jsii.String("Redis from the cluster's app tasks"), nil)

	var subnets []interface{}
	for _, s := range *vpc.IsolatedSubnets() {
		subnets = append(subnets, s.SubnetId())
	}
	r.SubnetGroup = awselasticache.NewCfnSubnetGroup(c, jsii.String("SubnetGroup"), &awselasticache.CfnSubnetGroupProps{
		Description: jsii.String("Wharf redis " + r.name + ": the cluster's private subnets"),
		SubnetIds:   &subnets,
	})

	// Every user group of engine redis contains a user named "default";
	// this one is off. ElastiCache still wants a password for it (a user
	// group may hold only users with a password or IAM authentication).
	r.DefaultUserSecret = awssecretsmanager.NewSecret(c, jsii.String("DefaultUserSecret"), &awssecretsmanager.SecretProps{
		SecretName:  jsii.String(names.RedisDefaultUserSecret(r.name)),
		Description: jsii.String("Wharf redis " + r.name + ": password of the disabled default user (never used)"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(32),
			ExcludePunctuation: jsii.Bool(true),
		},
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	r.DefaultUser = awselasticache.NewCfnUser(c, jsii.String("DefaultUser"), &awselasticache.CfnUserProps{
		Engine:       jsii.String(UserEngine),
		UserId:       jsii.String(names.RedisDefaultUser(r.name)),
		UserName:     jsii.String("default"),
		AccessString: jsii.String(DefaultUserAccessString),
		AuthenticationMode: map[string]interface{}{
			"Type": "password",
			// {{resolve:secretsmanager:...}}: resolved by CloudFormation
			// at deploy time, never written into the template.
			"Passwords": []*string{r.DefaultUserSecret.SecretValue().UnsafeUnwrap()},
		},
	})

	users := []*string{jsii.String(names.RedisDefaultUser(r.name))}
	appUsers := constructs.NewConstruct(c, jsii.String("AppUsers"))
	for _, a := range props.Apps {
		r.apps[a] = true
		u := awselasticache.NewCfnUser(appUsers, jsii.String(a), &awselasticache.CfnUserProps{
			Engine: jsii.String(UserEngine),
			// IAM authentication: "the user name and user id properties
			// must be identical" (Authenticating with IAM, Limitations).
			UserId:             jsii.String(AppUserID(r.prefix, a)),
			UserName:           jsii.String(AppUserID(r.prefix, a)),
			AccessString:       jsii.String(AccessString(a)),
			AuthenticationMode: map[string]interface{}{"Type": "iam"},
		})
		r.AppUsers[a] = u
		users = append(users, jsii.String(AppUserID(r.prefix, a)))
	}
	r.UserGroup = awselasticache.NewCfnUserGroup(c, jsii.String("UserGroup"), &awselasticache.CfnUserGroupProps{
		Engine:      jsii.String(UserEngine),
		UserGroupId: jsii.String(names.RedisUserGroup(r.name)),
		UserIds:     &users,
	})
	r.UserGroup.AddResourceDependency(r.DefaultUser, nil)
	for _, a := range props.Apps {
		r.UserGroup.AddResourceDependency(r.AppUsers[a], nil)
	}

	multiAZ := props.multiAZ()
	nodes := 1.0
	if multiAZ {
		nodes = 2
	}
	r.ReplicationGroup = awselasticache.NewCfnReplicationGroup(c, jsii.String("ReplicationGroup"), &awselasticache.CfnReplicationGroupProps{
		ReplicationGroupId:          jsii.String(ReplicationGroupID(r.prefix, r.name)),
		ReplicationGroupDescription: jsii.String("Wharf redis " + r.name),
		Engine:                      jsii.String(props.engine()),
		EngineVersion:               jsii.String(props.engineVersion()),
		CacheNodeType:               jsii.String(props.nodeType()),
		ClusterMode:                 jsii.String("disabled"),
		NumCacheClusters:            jsii.Number(nodes),
		AutomaticFailoverEnabled:    jsii.Bool(multiAZ),
		MultiAzEnabled:              jsii.Bool(multiAZ),
		CacheSubnetGroupName:        r.SubnetGroup.Ref(),
		SecurityGroupIds:            &[]*string{r.SecurityGroup.SecurityGroupId()},
		Port:                        jsii.Number(Port),
		AtRestEncryptionEnabled:     jsii.Bool(true),
		TransitEncryptionEnabled:    jsii.Bool(true),
		TransitEncryptionMode:       jsii.String("required"),
		UserGroupIds:                &[]*string{jsii.String(names.RedisUserGroup(r.name))},
		AutoMinorVersionUpgrade:     jsii.Bool(true),
		SnapshotRetentionLimit:      jsii.Number(float64(props.snapshotRetentionDays())),
	})
	r.ReplicationGroup.AddResourceDependency(r.UserGroup, nil)
	// The data outlives the stack: a final snapshot on delete or
	// replacement.
	r.ReplicationGroup.ApplyRemovalPolicy(awscdk.RemovalPolicy_SNAPSHOT, nil)

	r.publish()
	r.suppress(props)
	return r
}

func (r *Redis) publish() {
	values := []struct {
		key, desc string
		value     *string
	}{
		{ParamEndpoint, "primary endpoint host name", r.ReplicationGroup.AttrPrimaryEndPointAddress()},
		{ParamReaderEndpoint, "reader endpoint host name", r.ReplicationGroup.AttrReaderEndPointAddress()},
		{ParamPort, "port", jsii.String(strconv.Itoa(Port))},
		{ParamSecurityGroupID, "security group", r.SecurityGroup.SecurityGroupId()},
	}
	params := constructs.NewConstruct(r.Construct, jsii.String("Parameters"))
	for _, v := range values {
		r.Parameters[v.key] = awsssm.NewStringParameter(params, jsii.String(v.key), &awsssm.StringParameterProps{
			ParameterName: jsii.String(ParameterName(r.prefix, r.name, v.key)),
			Description:   jsii.String("Wharf redis " + r.name + ": " + v.desc),
			StringValue:   v.value,
		})
	}
}

func (r *Redis) suppress(props *RedisProps) {
	s := []*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-AEC6"),
		Reason: jsii.String("authentication is RBAC, not the single AUTH token (which ElastiCache does not allow together with a user group): " +
			"each app has its own IAM-authenticated user limited to its key prefix, and the default user is off"),
	}, {
		Id:     jsii.String("AwsSolutions-AEC5"),
		Reason: jsii.String("the standard port 6379 is part of Wharf's contract (REDIS_URL, security groups); the nodes are in private subnets and admit 6379 only from the cluster's app security group"),
	}}
	if !props.multiAZ() {
		s = append(s, &cdknag.NagPackSuppression{
			Id:     jsii.String("AwsSolutions-AEC4"),
			Reason: jsii.String("single node by choice (RedisProps.MultiAZ=false, the default for a cache): multiAz adds a replica in another zone with automatic failover"),
		})
	}
	cdknag.NagSuppressions_AddResourceSuppressions(r.ReplicationGroup, &s, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(r.DefaultUserSecret, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String("the password belongs to the disabled default user (access string \"off -@all\"): no one can log in with it, so rotating it adds a rotation Lambda for nothing"),
	}}, jsii.Bool(true))
}

// HasApp reports whether app has a user in this Redis (RedisProps.Apps).
func (r *Redis) HasApp(app string) bool { return r.apps[app] }

// RedisName implements IRedis.
func (r *Redis) RedisName() *string { return jsii.String(r.name) }

// ReplicationGroupID implements IRedis.
func (r *Redis) ReplicationGroupID() *string {
	return jsii.String(ReplicationGroupID(r.prefix, r.name))
}

// Endpoint implements IRedis.
func (r *Redis) Endpoint() *string { return r.ReplicationGroup.AttrPrimaryEndPointAddress() }

// Port implements IRedis.
func (r *Redis) Port() *string { return jsii.String(strconv.Itoa(Port)) }

// SecurityGroupID implements IRedis.
func (r *Redis) SecurityGroupID() *string { return r.SecurityGroup.SecurityGroupId() }

// URL is an app's REDIS_URL: rediss://<user>@<host>:<port>, with no
// password (the app sends an IAM auth token as the password).
func URL(prefix, app string, r IRedis) *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("rediss://" + AppUserID(prefix, app) + "@"), r.Endpoint(), jsii.String(":"), r.Port(),
	})
}
