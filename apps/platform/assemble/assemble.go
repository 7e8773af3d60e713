// Package assemble builds the stacks of a Wharf platform from a validated
// platform config (package apps/config): one stack per part, named by the
// contract in docs/conventions.md.
//
//	<prefix>-account             the Account construct
//	<prefix>-cluster-<name>      one Cluster per config cluster
//	<prefix>-database-<name>     one Database per config database
//	<prefix>-redis-<name>        one Redis per config redis
//	<prefix>-app-<name>          one App per config app
//	<prefix>-controlplane        the control plane (when controlPlane.deploy)
//	<prefix>-dashboard           the web dashboard (when the config has a dashboard section)
//
// Every stack carries the config's account and region, and the config's
// availability zones are set as context on each stack, so synthesis makes
// no AWS lookup and leaves no missing context. Stacks never share values
// through CloudFormation exports: dependants find a cluster through the SSM
// parameters it publishes (cluster.FromName), and the stack dependencies the
// assembler adds only order deployment. Each stack can therefore be deployed
// and updated on its own.
//
// Build checks the whole config, and the props of every construct, before it
// creates the first stack: a bad config creates nothing.
package assemble

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/wharf-paas/wharf/apps/config"
	"github.com/wharf-paas/wharf/constructs/account"
	"github.com/wharf-paas/wharf/constructs/app"
	"github.com/wharf-paas/wharf/constructs/cluster"
	controlplanestack "github.com/wharf-paas/wharf/constructs/controlplane"
	"github.com/wharf-paas/wharf/constructs/dashboard"
	"github.com/wharf-paas/wharf/constructs/database"
	"github.com/wharf-paas/wharf/constructs/redis"
	"github.com/wharf-paas/wharf/contract"
)

// Platform is the assembled platform: its stacks and the constructs in them.
type Platform struct {
	// Config is the config the platform was built from.
	Config *config.Platform
	// Stacks are every stack, in creation order (account, clusters,
	// databases, redis, apps, control plane).
	Stacks []awscdk.Stack
	// AccountStack holds the Account construct.
	AccountStack awscdk.Stack
	// Account is the Account construct.
	Account *account.Account
	// ClusterStacks and Clusters are keyed by cluster name.
	ClusterStacks map[string]awscdk.Stack
	// Clusters are the Cluster constructs by name.
	Clusters map[string]*cluster.Cluster
	// DatabaseStacks are keyed by database name.
	DatabaseStacks map[string]awscdk.Stack
	// Databases are the Database constructs by name.
	Databases map[string]*database.Database
	// RedisStacks are keyed by redis name.
	RedisStacks map[string]awscdk.Stack
	// Redis are the Redis constructs by name.
	Redis map[string]*redis.Redis
	// AppStacks are keyed by app name.
	AppStacks map[string]awscdk.Stack
	// Apps are the App constructs by name.
	Apps map[string]*app.App
	// ControlPlaneStack is nil unless controlPlane.deploy is true.
	ControlPlaneStack awscdk.Stack
	// ControlPlane is the control plane construct, or nil.
	ControlPlane *controlplanestack.ControlPlane
	// DashboardStack is nil unless the config has a dashboard section.
	DashboardStack awscdk.Stack
	// Dashboard is the web dashboard construct, or nil.
	Dashboard *dashboard.Dashboard
}

// Stack names (docs/conventions.md).

// AccountStackName is <prefix>-account.
func AccountStackName(prefix string) string { return contract.Names{Prefix: prefix}.AccountStack() }

// ClusterStackName is <prefix>-cluster-<name>.
func ClusterStackName(prefix, name string) string {
	return contract.Names{Prefix: prefix}.ClusterStack(name)
}

// AppStackName is <prefix>-app-<name>.
func AppStackName(prefix, name string) string { return contract.Names{Prefix: prefix}.AppStack(name) }

// DatabaseStackName is <prefix>-database-<name>.
func DatabaseStackName(prefix, name string) string {
	return contract.Names{Prefix: prefix}.DatabaseStack(name)
}

// RedisStackName is <prefix>-redis-<name>.
func RedisStackName(prefix, name string) string {
	return contract.Names{Prefix: prefix}.RedisStack(name)
}

// ControlPlaneStackName is <prefix>-controlplane.
func ControlPlaneStackName(prefix string) string {
	return contract.Names{Prefix: prefix}.ControlPlaneStack()
}

// StackNames lists the names of the stacks Build creates for cfg, in
// creation order.
func StackNames(cfg *config.Platform) []string {
	names := []string{AccountStackName(cfg.Prefix)}
	for _, c := range cfg.Clusters {
		names = append(names, ClusterStackName(cfg.Prefix, c.Name))
	}
	for _, d := range cfg.Databases {
		names = append(names, DatabaseStackName(cfg.Prefix, d.Name))
	}
	for _, r := range cfg.Redis {
		names = append(names, RedisStackName(cfg.Prefix, r.Name))
	}
	for _, a := range cfg.Apps {
		names = append(names, AppStackName(cfg.Prefix, a.Name))
	}
	if deployControlPlane(cfg) {
		names = append(names, ControlPlaneStackName(cfg.Prefix))
	}
	if cfg.Dashboard != nil {
		names = append(names, DashboardStackName(cfg.Prefix))
	}
	return names
}

func deployControlPlane(cfg *config.Platform) bool {
	return cfg.ControlPlane.Deploy != nil && *cfg.ControlPlane.Deploy
}

// plan holds every construct's props, built and validated before any stack
// exists.
type plan struct {
	account      *account.AccountProps
	clusters     []*cluster.ClusterProps
	controlPlane *controlplanestack.ControlPlaneProps
	dashboard    *dashboard.DashboardProps
	parts
}

// Build validates cfg and the props of every construct it implies, and only
// then creates the platform's stacks under scope (normally the App). The
// error lists every problem, each with its config field path.
func Build(scope constructs.Construct, cfg *config.Platform) (*Platform, error) {
	if cfg == nil {
		return nil, errors.New("assemble: config must not be nil")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pl, err := newPlan(cfg)
	if err != nil {
		return nil, err
	}
	p := &Platform{
		Config:         cfg,
		ClusterStacks:  map[string]awscdk.Stack{},
		Clusters:       map[string]*cluster.Cluster{},
		DatabaseStacks: map[string]awscdk.Stack{},
		Databases:      map[string]*database.Database{},
		RedisStacks:    map[string]awscdk.Stack{},
		Redis:          map[string]*redis.Redis{},
		AppStacks:      map[string]awscdk.Stack{},
		Apps:           map[string]*app.App{},
	}
	p.AccountStack = p.newStack(scope, AccountStackName(cfg.Prefix), "account", "Wharf account: login, admin and observer roles, Parameter Store forwarding")
	p.Account = account.NewAccount(p.AccountStack, "Account", pl.account)
	for i, c := range cfg.Clusters {
		st := p.newStack(scope, ClusterStackName(cfg.Prefix, c.Name), "cluster", "Wharf cluster "+c.Name+": VPC, ECS cluster, load balancer")
		p.ClusterStacks[c.Name] = st
		p.Clusters[c.Name] = cluster.NewCluster(st, "Cluster", pl.clusters[i])
	}
	p.buildParts(scope, pl)
	if deployControlPlane(cfg) {
		st := p.newStack(scope, ControlPlaneStackName(cfg.Prefix), "controlplane", "Wharf control plane: event bus, deploy Lambda, state table")
		p.ControlPlaneStack = st
		props := *pl.controlPlane
		if cfg.ControlPlane.AlarmEmail != "" {
			props.AlarmTopic = alarmTopic(st, cfg.ControlPlane.AlarmEmail)
		}
		p.ControlPlane = controlplanestack.NewControlPlane(st, "ControlPlane", &props)
	}
	if pl.dashboard != nil {
		p.buildDashboard(scope, pl.dashboard)
	}
	return p, nil
}

// newStack creates a stack with the config's env, the availability-zone
// context (findings #3: a VPC over explicit zones still consults it) and the
// Wharf tags.
func (p *Platform) newStack(scope constructs.Construct, name, component, description string) awscdk.Stack {
	cfg := p.Config
	st := awscdk.NewStack(scope, jsii.String(name), &awscdk.StackProps{
		StackName:   jsii.String(name),
		Description: jsii.String(description),
		Env: &awscdk.Environment{
			Account: jsii.String(cfg.AccountID),
			Region:  jsii.String(cfg.Region),
		},
	})
	// The stack is new and has no children, and the zones were validated.
	if err := cluster.SetAvailabilityZonesContext(st, cfg.AccountID, cfg.Region, cfg.AvailabilityZones); err != nil {
		panic(err)
	}
	tags := awscdk.Tags_Of(st)
	tags.Add(jsii.String("wharf:prefix"), jsii.String(cfg.Prefix), nil)
	tags.Add(jsii.String("wharf:component"), jsii.String(component), nil)
	p.Stacks = append(p.Stacks, st)
	return st
}

// newPlan builds every construct's props from cfg and validates them all,
// so that a problem only a construct knows about also stops the build
// before the first stack. Each error is prefixed with the config path of
// the entry it comes from.
func newPlan(cfg *config.Platform) (*plan, error) {
	var errs []error
	check := func(path string, err error) {
		if err == nil {
			return
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			errs = append(errs, fmt.Errorf("%s: %s", path, line))
		}
	}
	pl := &plan{}
	pl.account = accountProps(cfg)
	check("account", pl.account.Validate())
	for i, c := range cfg.Clusters {
		props := clusterProps(cfg, c)
		pl.clusters = append(pl.clusters, props)
		check(fmt.Sprintf("clusters[%d]", i), props.Validate())
	}
	pl.planParts(cfg, check)
	if deployControlPlane(cfg) {
		pl.controlPlane = &controlplanestack.ControlPlaneProps{
			Prefix:   jsii.String(cfg.Prefix),
			Registry: Registry(cfg),
		}
		check("controlPlane", pl.controlPlane.Validate())
	}
	var err error
	pl.dashboard, err = dashboardProps(cfg)
	check("dashboard", err)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return pl, nil
}

func accountProps(cfg *config.Platform) *account.AccountProps {
	a := cfg.Account
	return &account.AccountProps{
		Prefix:                  jsii.String(cfg.Prefix),
		OIDCIssuerURL:           jsii.String(a.OIDCIssuerURL),
		OIDCClientIDs:           a.OIDCClientIDs,
		OIDCThumbprints:         a.OIDCThumbprints,
		Administrators:          a.Administrators,
		ControlPlaneAccountID:   jsii.String(cfg.ControlPlane.AccountID),
		ControlPlaneEventBusArn: jsii.String(cfg.ControlPlane.EventBusArn),
		ObserverExternalID:      jsii.String(a.ObserverExternalID),
		CdkBootstrapQualifier:   jsii.String(a.CdkBootstrapQualifier),
	}
}

func clusterProps(cfg *config.Platform, c config.Cluster) *cluster.ClusterProps {
	props := &cluster.ClusterProps{
		Prefix:                 jsii.String(cfg.Prefix),
		Name:                   jsii.String(c.Name),
		Cidr:                   jsii.String(c.CIDR),
		AvailabilityZones:      cfg.AvailabilityZones,
		Domain:                 jsii.String(c.Domain),
		HostedZoneID:           jsii.String(c.HostedZone.ID),
		HostedZoneName:         jsii.String(c.HostedZone.Name),
		FlowLogRetentionDays:   intp(c.FlowLogRetentionDays),
		AccessLogRetentionDays: intp(c.AccessLogRetentionDays),
	}
	if c.EC2 != nil {
		props.Ec2Capacity = &cluster.Ec2CapacityProps{
			InstanceType: jsii.String(c.EC2.InstanceType),
			MinCapacity:  c.EC2.MinCapacity,
			MaxCapacity:  c.EC2.MaxCapacity,
		}
	}
	return props
}

// Registry is the control plane registration of the platform described by
// cfg: its account (with the observer role and external ID) and each app
// (with its management role and external ID). A control plane in another
// account (apps/controlplane) needs the same entries.
func Registry(cfg *config.Platform) *controlplanestack.Registry {
	partition := config.Partition(cfg.Region)
	names := contract.Names{Prefix: cfg.Prefix}
	r := &controlplanestack.Registry{
		Prefix: cfg.Prefix,
		Accounts: []controlplanestack.AccountRegistration{{
			AccountID:       cfg.AccountID,
			ObserverRoleARN: names.ObserverRoleARN(partition, cfg.AccountID),
			ExternalID:      cfg.Account.ObserverExternalID,
		}},
	}
	for _, a := range cfg.Apps {
		r.Apps = append(r.Apps, controlplanestack.AppRegistration{
			Name:              a.Name,
			AccountID:         cfg.AccountID,
			Region:            cfg.Region,
			ManagementRoleARN: names.ManagementRoleARN(partition, cfg.AccountID, a.Name),
			ExternalID:        a.ManagementExternalID,
		})
	}
	return r
}

// alarmTopic is the SNS topic the control plane's alarms notify, with the
// configured email subscribed. CloudWatch alarms can publish to an
// encrypted topic only if the key policy lets cloudwatch.amazonaws.com use
// the key, which the AWS-managed aws/sns key does not; hence a customer
// managed key with rotation.
func alarmTopic(scope constructs.Construct, email string) awssns.ITopic {
	key := awskms.NewKey(scope, jsii.String("AlarmTopicKey"), &awskms.KeyProps{
		Description:       jsii.String("Wharf control plane alarm notifications"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
	})
	key.GrantEncryptDecrypt(awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil))
	topic := awssns.NewTopic(scope, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("Wharf control plane alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	return topic
}
