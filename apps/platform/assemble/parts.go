package assemble

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/wharf-paas/wharf/apps/config"
	"github.com/wharf-paas/wharf/constructs/app"
	"github.com/wharf-paas/wharf/constructs/cluster"
	"github.com/wharf-paas/wharf/constructs/database"
	"github.com/wharf-paas/wharf/constructs/redis"
)

// parts holds the props of the databases and apps. Their Cluster is set
// when their stack exists (cluster.FromName needs a scope); until then a
// placeholder stands in, so the rest of the props can be validated first.
type parts struct {
	databases []*database.DatabaseProps
	redis     []*redis.RedisProps
	apps      []*app.AppProps
}

// placeholderCluster stands in for the cluster while props are validated
// before any construct exists. The props' Validate only checks that a
// cluster is set; calling a method on it would panic, which safeValidate
// reports as an error.
type placeholderCluster struct{ cluster.ICluster }

// safeValidate runs validate and turns a panic into an error.
func safeValidate(validate func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("validation failed: %v", r)
		}
	}()
	return validate()
}

func clusterRefProps(cfg *config.Platform, name string) *cluster.FromNameProps {
	props := &cluster.FromNameProps{
		Prefix:            jsii.String(cfg.Prefix),
		Name:              jsii.String(name),
		AvailabilityZones: cfg.AvailabilityZones,
	}
	for _, c := range cfg.Clusters {
		if c.Name == name {
			// Known at synth: apps see which custom domains the
			// cluster's wildcard certificate covers.
			props.Domain = jsii.String(c.Domain)
		}
	}
	return props
}

// appDomains are the app's custom domains without their hosted zones,
// which need the app's stack as scope (withZones).
func appDomains(ds []config.Domain) []*app.Domain {
	out := make([]*app.Domain, len(ds))
	for i, d := range ds {
		out[i] = &app.Domain{Name: jsii.String(d.Name), RedirectWww: jsii.Bool(d.RedirectWww), RedirectPriority: d.RedirectPriority}
	}
	return out
}

// withZones returns domains with the hosted zones of cfg imported into
// scope by ID and name (no lookup), one import per zone.
func withZones(scope constructs.Construct, domains []*app.Domain, cfg []config.Domain) []*app.Domain {
	zones := map[string]awsroute53.IHostedZone{}
	out := make([]*app.Domain, len(domains))
	for i, d := range domains {
		dd := *d
		if z := cfg[i].HostedZone; z != nil {
			if zones[z.ID] == nil {
				zones[z.ID] = awsroute53.HostedZone_FromHostedZoneAttributes(scope, jsii.String("Zone"+z.ID), &awsroute53.HostedZoneAttributes{
					HostedZoneId: jsii.String(z.ID), ZoneName: jsii.String(strings.TrimSuffix(z.Name, ".")),
				})
			}
			dd.HostedZone = zones[z.ID]
		}
		out[i] = &dd
	}
	return out
}

// planParts builds and validates the database and app props, adding each
// problem to errs with its config path.
func (pl *plan) planParts(cfg *config.Platform, check func(path string, err error)) {
	for i, d := range cfg.Databases {
		path := fmt.Sprintf("databases[%d]", i)
		props := &database.DatabaseProps{
			Prefix:              jsii.String(cfg.Prefix),
			Name:                jsii.String(d.Name),
			Cluster:             placeholderCluster{},
			EngineVersion:       jsii.String(d.EngineVersion),
			InstanceClass:       jsii.String(d.InstanceClass),
			MultiAZ:             jsii.Bool(d.MultiAZ),
			BackupRetentionDays: intp(d.BackupRetentionDays),
			LogRetentionDays:    intp(d.LogRetentionDays),
			DeletionProtection:  d.DeletionProtection,
		}
		if d.S3PrefixListID != "" {
			props.S3PrefixListId = jsii.String(d.S3PrefixListID)
		}
		pl.databases = append(pl.databases, props)
		check(path, safeValidate(props.Validate))
		check(path+".cluster", safeValidate(clusterRefProps(cfg, d.Cluster).Validate))
	}
	for i, r := range cfg.Redis {
		path := fmt.Sprintf("redis[%d]", i)
		// Every app that names the redis gets its user there.
		var apps []string
		for _, a := range cfg.Apps {
			if a.Redis == r.Name {
				apps = append(apps, a.Name)
			}
		}
		props := &redis.RedisProps{
			Prefix:                jsii.String(cfg.Prefix),
			Name:                  jsii.String(r.Name),
			Cluster:               placeholderCluster{},
			Engine:                jsii.String(r.Engine),
			EngineVersion:         jsii.String(r.EngineVersion),
			NodeType:              jsii.String(r.NodeType),
			MultiAZ:               jsii.Bool(r.MultiAZ),
			SnapshotRetentionDays: r.SnapshotRetentionDays,
			Apps:                  apps,
		}
		pl.redis = append(pl.redis, props)
		check(path, safeValidate(props.Validate))
		check(path+".cluster", safeValidate(clusterRefProps(cfg, r.Cluster).Validate))
	}
	for i, a := range cfg.Apps {
		path := fmt.Sprintf("apps[%d]", i)
		props := &app.AppProps{
			Prefix:                     jsii.String(cfg.Prefix),
			Name:                       jsii.String(a.Name),
			Cluster:                    placeholderCluster{},
			RepositoryURL:              jsii.String(a.Repository.URL),
			RepositoryType:             jsii.String(strings.ToUpper(a.Repository.Type)),
			ConnectionArn:              optString(a.Repository.ConnectionArn),
			Branch:                     jsii.String(a.Branch),
			BuildWebhook:               a.Webhook,
			Domains:                    appDomains(a.Domains),
			HealthCheckPath:            jsii.String(a.HealthCheck.Path),
			HealthyThreshold:           intp(a.HealthCheck.HealthyThreshold),
			UnhealthyThreshold:         intp(a.HealthCheck.UnhealthyThreshold),
			HealthCheckIntervalSeconds: intp(a.HealthCheck.IntervalSeconds),
			HealthCheckTimeoutSeconds:  intp(a.HealthCheck.TimeoutSeconds),
			DeregistrationDelaySeconds: a.DeregistrationDelaySeconds,
			ContainerPort:              intp(a.ContainerPort),
			Priority:                   a.Priority,
			LogRetentionDays:           intp(a.LogRetentionDays),
			ImagesToKeep:               intp(a.ImagesToKeep),
			ArtifactRetentionDays:      intp(a.ArtifactRetentionDays),
			LaunchType:                 jsii.String(strings.ToUpper(a.LaunchType)),
			AllowedUsers:               a.AllowedUsers,
			AllowedSubjects:            a.AllowedSubjects,
			AllowedEmailDomains:        a.AllowedEmailDomains,
			DatabaseName:               optString(a.Database),
			KeepDatabaseOnDelete:       a.KeepDatabaseOnDelete,
			RedisName:                  optString(a.Redis),
			TaskPolicyArn:              optString(a.TaskPolicyArn),
			BuildConfig:                a.BuildConfig,
			TrustedBuilders:            a.TrustedBuilders,
			ControlPlaneAccountID:      jsii.String(cfg.ControlPlane.AccountID),
			ControlPlaneEventBusArn:    jsii.String(cfg.ControlPlane.EventBusArn),
			ManagementExternalID:       jsii.String(a.ManagementExternalID),
		}
		if len(a.AllowedUsers) > 0 || len(a.AllowedSubjects) > 0 || len(a.AllowedEmailDomains) > 0 {
			// The user role trusts the account's OIDC provider, referenced
			// by ARN (no reference to the account stack).
			props.OIDCIssuerURL = jsii.String(cfg.Account.OIDCIssuerURL)
			props.OIDCClientIDs = cfg.Account.OIDCClientIDs
		}
		pl.apps = append(pl.apps, props)
		check(path, safeValidate(props.Validate))
	}
}

// buildParts creates one stack per database, per redis and per app. Each refers to its
// cluster by name (cluster.FromName: SSM parameters read at deploy time)
// and an app to its database by name, never to the live constructs in the
// other stacks: a live reference across stacks would become a
// CloudFormation export and lock the stacks together. The stack
// dependencies only order `cdk deploy --all`.
func (p *Platform) buildParts(scope constructs.Construct, pl *plan) {
	cfg := p.Config
	for i, d := range cfg.Databases {
		st := p.newStack(scope, DatabaseStackName(cfg.Prefix, d.Name), "database", "Wharf database "+d.Name+": Aurora PostgreSQL and its manager Lambda")
		p.DatabaseStacks[d.Name] = st
		props := *pl.databases[i]
		props.Cluster = p.clusterRef(st, d.Cluster)
		p.Databases[d.Name] = database.NewDatabase(st, "Database", &props)
	}
	for i, r := range cfg.Redis {
		st := p.newStack(scope, RedisStackName(cfg.Prefix, r.Name), "redis", "Wharf redis "+r.Name+": ElastiCache "+r.Engine+" shared by its apps, one user per app")
		p.RedisStacks[r.Name] = st
		props := *pl.redis[i]
		props.Cluster = p.clusterRef(st, r.Cluster)
		p.Redis[r.Name] = redis.NewRedis(st, "Redis", &props)
	}
	for i, a := range cfg.Apps {
		st := p.newStack(scope, AppStackName(cfg.Prefix, a.Name), "app", "Wharf app "+a.Name+": build, load balancing, roles, event forwarding")
		p.AppStacks[a.Name] = st
		// The user role trusts the account's OIDC provider.
		st.AddStackDependency(p.AccountStack, jsii.String("the app's user role trusts the account's OIDC provider"))
		props := *pl.apps[i]
		props.Cluster = p.clusterRef(st, a.Cluster)
		props.Domains = withZones(st, props.Domains, a.Domains)
		if a.Database != "" {
			st.AddStackDependency(p.DatabaseStacks[a.Database], jsii.String("the app reads the database's SSM parameters and invokes its manager"))
		}
		if a.Redis != "" {
			st.AddStackDependency(p.RedisStacks[a.Redis], jsii.String("the app reads the redis's SSM parameters; its user is in the redis stack"))
		}
		p.Apps[a.Name] = app.NewApp(st, "App", &props)
	}
}

// clusterRef returns the named cluster as seen from stack: read from its SSM
// parameters, with stack ordered after the cluster stack.
func (p *Platform) clusterRef(stack awscdk.Stack, name string) cluster.ICluster {
	stack.AddStackDependency(p.ClusterStacks[name], jsii.String("reads the cluster's SSM parameters"))
	// cluster.FromName acknowledges CloudFormation's unused-parameter rule
	// (W2001) for the stack: the imported cluster may declare parameters
	// a dependant does not reference.
	return cluster.FromName(stack, "Cluster", clusterRefProps(p.Config, name))
}

func intp(v int) *int { return &v }

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
