// Package config is the Wharf platform config: the one file (YAML or JSON)
// that describes a Wharf installation in an AWS account — its resource
// prefix, the control plane it reports to, the account settings, and its
// clusters, apps and databases.
//
// Parsing is strict: unknown fields, duplicate keys and values of the wrong
// type are errors. Load parses, fills in defaults and validates the whole
// file, returning every problem at once, each naming its field path
// (apps[1].name, clusters[0].cidr, ...). The package is plain Go with no CDK
// dependency; apps/platform/assemble turns a valid Platform into stacks.
//
// docs/config.md documents every field.
package config

import (
	"gopkg.in/yaml.v3"

	"github.com/wharf-paas/wharf/contract"
)

// Platform is the whole platform config file.
type Platform struct {
	// Prefix namespaces every Wharf name in the account: stacks, roles, SSM
	// paths. Default "wharf".
	Prefix string `yaml:"prefix" json:"prefix"`
	// AccountID is the 12-digit AWS account the stacks deploy to. Required.
	AccountID string `yaml:"accountId" json:"accountId"`
	// Region is the AWS region the stacks deploy to. Required.
	Region string `yaml:"region" json:"region"`
	// AvailabilityZones are the three zones the clusters span.
	// Default <region>a, <region>b, <region>c.
	AvailabilityZones []string `yaml:"availabilityZones" json:"availabilityZones"`
	// ControlPlane says where the Wharf control plane runs.
	ControlPlane ControlPlane `yaml:"controlPlane" json:"controlPlane"`
	// Account holds the account-wide settings (login, administrators).
	Account Account `yaml:"account" json:"account"`
	// Clusters are the Wharf clusters (VPC, ECS cluster, load balancer). At
	// least one.
	Clusters []Cluster `yaml:"clusters" json:"clusters"`
	// Apps are the applications deployed on the clusters.
	Apps []App `yaml:"apps" json:"apps"`
	// Databases are the Aurora PostgreSQL clusters apps can use.
	Databases []Database `yaml:"databases" json:"databases"`
	// Redis are the ElastiCache (Valkey or Redis OSS) caches apps can share.
	Redis []Redis `yaml:"redis" json:"redis"`
	// Dashboard, when present, adds the <prefix>-dashboard stack: the web
	// dashboard on CloudFront (docs/dashboard.md). Default: none.
	Dashboard *Dashboard `yaml:"dashboard" json:"dashboard"`

	// derived records the fields ApplyDefaults computed from other fields;
	// Validate reports a problem at the source field only.
	derived map[string]bool
}

// ControlPlane locates the control plane that receives this account's
// events and, when Deploy is true, configures the one this platform
// deploys itself.
type ControlPlane struct {
	// AccountID is the account the control plane runs in. Default: the
	// platform's AccountID.
	AccountID string `yaml:"accountId" json:"accountId"`
	// Region is the control plane's region. Default: the platform's Region.
	Region string `yaml:"region" json:"region"`
	// EventBusArn is the control plane's event bus. Default
	// arn:aws:events:<region>:<accountId>:event-bus/<prefix>-controlplane.
	EventBusArn string `yaml:"eventBusArn" json:"eventBusArn"`
	// Deploy adds the <prefix>-controlplane stack to this platform (only
	// possible when the control plane account and region are the
	// platform's). Default true when they are, false otherwise.
	Deploy *bool `yaml:"deploy" json:"deploy"`
	// AlarmEmail, if set, is subscribed to the control plane's alarms.
	// Default: none (alarms publish to an SNS topic with no subscriber).
	AlarmEmail string `yaml:"alarmEmail" json:"alarmEmail"`
}

// Account is the account-wide settings of the Account construct.
type Account struct {
	// OIDCIssuerURL is the OpenID Connect issuer users log in with, as in
	// the `iss` claim (https://, no port, no query). Required.
	OIDCIssuerURL string `yaml:"oidcIssuerUrl" json:"oidcIssuerUrl"`
	// OIDCClientIDs are the client IDs (`aud`) of the Wharf login client.
	// Required, at least one.
	OIDCClientIDs []string `yaml:"oidcClientIds" json:"oidcClientIds"`
	// OIDCThumbprints are optional SHA-1 thumbprints of the issuer's TLS
	// certificate. Default: none (IAM trusts the issuer's chain).
	OIDCThumbprints []string `yaml:"oidcThumbprints" json:"oidcThumbprints"`
	// Administrators are the emails of the users who may assume the admin
	// role. Required, at least one.
	Administrators []string `yaml:"administrators" json:"administrators"`
	// ObserverExternalID is the external ID the control plane presents to
	// assume the observer role. Required.
	ObserverExternalID string `yaml:"observerExternalId" json:"observerExternalId"`
	// CdkBootstrapQualifier is the CDK bootstrap qualifier of the account.
	// Default "hnb659fds".
	CdkBootstrapQualifier string `yaml:"cdkBootstrapQualifier" json:"cdkBootstrapQualifier"`
}

// Cluster is one Wharf cluster.
type Cluster struct {
	// Name is the cluster's Wharf name. Required.
	Name string `yaml:"name" json:"name"`
	// CIDR is the VPC's IPv4 range: private (RFC 1918), /16 to /24.
	// Default "10.100.0.0/16".
	CIDR string `yaml:"cidr" json:"cidr"`
	// Domain is the cluster domain; apps are served at <app>.<domain>.
	// Required.
	Domain string `yaml:"domain" json:"domain"`
	// HostedZone is the Route53 public hosted zone of Domain. Required.
	HostedZone HostedZone `yaml:"hostedZone" json:"hostedZone"`
	// EC2, when present, adds an Auto Scaling group of EC2 container
	// instances as a capacity provider. Default: Fargate only.
	EC2 *EC2Capacity `yaml:"ec2" json:"ec2"`
	// FlowLogRetentionDays is the retention of the VPC flow logs, one of the
	// values CloudWatch Logs accepts. Default 30.
	FlowLogRetentionDays int `yaml:"flowLogRetentionDays" json:"flowLogRetentionDays"`
	// AccessLogRetentionDays is how long load balancer access logs are kept
	// (1-3650). Default 90.
	AccessLogRetentionDays int `yaml:"accessLogRetentionDays" json:"accessLogRetentionDays"`
	// LoadBalancerQuotas are the account's quotas for the cluster's load
	// balancer that the apps' custom domains are checked against. Default:
	// the AWS defaults (25 certificates, 100 rules); raise them here after
	// Service Quotas raised them for the account.
	LoadBalancerQuotas LoadBalancerQuotas `yaml:"loadBalancerQuotas" json:"loadBalancerQuotas"`
}

// LoadBalancerQuotas are Elastic Load Balancing quotas of the account that
// Validate checks a cluster's apps against.
type LoadBalancerQuotas struct {
	// Certificates is "Certificates per Application Load Balancer
	// (excluding default certificates)". Default 25.
	Certificates int `yaml:"certificates" json:"certificates"`
	// Rules is "Rules per Application Load Balancer (excluding default
	// rules)". Default 100.
	Rules int `yaml:"rules" json:"rules"`
}

// Domain is one custom host name of an app. In the file it is either a
// plain string (the name) or a mapping with these fields.
type Domain struct {
	// Name is the host name: shop.example.com, an apex example.com or a
	// wildcard *.example.com. Required.
	Name string `yaml:"name" json:"name"`
	// HostedZone is the Route53 public hosted zone that holds Name; with it
	// Wharf creates the certificate's validation records and alias records
	// to the load balancer. ID may be left out when Name is the name of a
	// cluster's hosted zone in this config. Default: none (you add the
	// records at your DNS provider; docs/config.md).
	HostedZone *HostedZone `yaml:"hostedZone" json:"hostedZone"`
	// RedirectWww also serves www.<name> and redirects it to https://<name>.
	// Default false.
	RedirectWww bool `yaml:"redirectWww" json:"redirectWww"`
	// RedirectPriority is the listener rule priority of the www redirect
	// (1-50000). Default: derived from the name (set it only to resolve a
	// collision).
	RedirectPriority *int `yaml:"redirectPriority" json:"redirectPriority"`
}

// UnmarshalYAML accepts a plain string as a Domain with only a name.
func (d *Domain) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*d = Domain{Name: n.Value}
		return nil
	}
	type plain Domain
	return n.Decode((*plain)(d))
}

// HostedZone names an existing Route53 hosted zone without a lookup.
type HostedZone struct {
	// ID is the hosted zone ID (Z...). Required.
	ID string `yaml:"id" json:"id"`
	// Name is the zone's domain name. Required.
	Name string `yaml:"name" json:"name"`
}

// EC2Capacity is the optional EC2 capacity of a cluster.
type EC2Capacity struct {
	// InstanceType is the EC2 instance type. Default "t4g.medium".
	InstanceType string `yaml:"instanceType" json:"instanceType"`
	// MinCapacity is the group's minimum size (0-100). Default 1.
	MinCapacity *int `yaml:"minCapacity" json:"minCapacity"`
	// MaxCapacity is the group's maximum size (1-100, at least
	// MinCapacity). Default 3, or MinCapacity if larger.
	MaxCapacity *int `yaml:"maxCapacity" json:"maxCapacity"`
}

// App is one application.
type App struct {
	// Name is the app's Wharf name. Required.
	Name string `yaml:"name" json:"name"`
	// Cluster is the name of the cluster the app runs on. Required.
	Cluster string `yaml:"cluster" json:"cluster"`
	// Repository is the source repository CodeBuild builds. Required.
	Repository Repository `yaml:"repository" json:"repository"`
	// Branch is the branch that is built and deployed. Default "main".
	Branch string `yaml:"branch" json:"branch"`
	// Webhook builds on every push to Branch. Default true.
	Webhook *bool `yaml:"webhook" json:"webhook"`
	// Domains are custom host names (at most 4) routed to the app besides
	// <name>.<cluster domain>, each a plain name or a mapping (Domain);
	// each becomes an HTTPS name with an ACM certificate. Default: none.
	Domains []Domain `yaml:"domains" json:"domains"`
	// ContainerPort is the port the web process listens on ($PORT).
	// Default 8080.
	ContainerPort int `yaml:"containerPort" json:"containerPort"`
	// Priority is the app's listener rule priority (1-50000), unique per
	// cluster. Default: derived from the name (set it only to resolve a
	// collision).
	Priority *int `yaml:"priority" json:"priority"`
	// HealthCheck configures the load balancer's health check.
	HealthCheck HealthCheck `yaml:"healthCheck" json:"healthCheck"`
	// DeregistrationDelaySeconds is how long the load balancer drains a
	// stopping task. Default 15.
	DeregistrationDelaySeconds *int `yaml:"deregistrationDelaySeconds" json:"deregistrationDelaySeconds"`
	// LogRetentionDays is the retention of the app's log groups, one of the
	// values CloudWatch Logs accepts. Default 30.
	LogRetentionDays int `yaml:"logRetentionDays" json:"logRetentionDays"`
	// ImagesToKeep is how many images the app's ECR repository keeps
	// (1-1000). Default 30.
	ImagesToKeep int `yaml:"imagesToKeep" json:"imagesToKeep"`
	// ArtifactRetentionDays is how long build artifacts are kept (1-3650).
	// Default 90.
	ArtifactRetentionDays int `yaml:"artifactRetentionDays" json:"artifactRetentionDays"`
	// LaunchType is "fargate" or "ec2" (the cluster needs ec2 capacity).
	// Default "fargate".
	LaunchType string `yaml:"launchType" json:"launchType"`
	// AllowedUsers are the emails of the users who may assume the app's
	// user role. Default: none.
	AllowedUsers []string `yaml:"allowedUsers" json:"allowedUsers"`
	// AllowedSubjects are issuer user IDs (the OIDC `sub` claim) of further
	// users who may assume the app's user role, for issuers whose emails
	// are not stable or not emitted (docs/security.md). Default: none.
	AllowedSubjects []string `yaml:"allowedSubjects" json:"allowedSubjects"`
	// AllowedEmailDomains admit every user whose email is at one of these
	// domains (StringLike "*@<domain>" on the email claim), for issuers
	// that issue only verified company addresses (docs/config.md, "Large
	// teams"). Default: none.
	AllowedEmailDomains []string `yaml:"allowedEmailDomains" json:"allowedEmailDomains"`
	// Database is the name of a database of this platform the app uses.
	// Default: none.
	Database string `yaml:"database" json:"database"`
	// Redis is the name of a redis of this platform the app shares; the
	// app gets its own user there, limited to keys starting "<app>:".
	// Default: none.
	Redis string `yaml:"redis" json:"redis"`
	// KeepDatabaseOnDelete keeps the app's PostgreSQL database and role when
	// the app is deleted or detached from Database. Default true.
	KeepDatabaseOnDelete *bool `yaml:"keepDatabaseOnDelete" json:"keepDatabaseOnDelete"`
	// BuildConfig names the app's config vars its build may read (a private
	// package registry token, for example); the build role may read
	// exactly those. Default: none.
	BuildConfig []string `yaml:"buildConfig" json:"buildConfig"`
	// TrustedBuilders are the buildpacks builders pack may trust, each
	// pinned by digest (<name>[:<tag>]@sha256:<64 hex>); an empty list
	// trusts none. Default: the construct's pinned heroku/builder:24.
	TrustedBuilders []string `yaml:"trustedBuilders" json:"trustedBuilders"`
	// TaskPolicyArn is a customer managed policy attached to the app's task
	// role. Default: none.
	TaskPolicyArn string `yaml:"taskPolicyArn" json:"taskPolicyArn"`
	// ManagementExternalID is the external ID the control plane presents to
	// assume the app's management role. Required.
	ManagementExternalID string `yaml:"managementExternalId" json:"managementExternalId"`
}

// Repository is an app's source repository.
type Repository struct {
	// URL is the https clone URL. Required.
	URL string `yaml:"url" json:"url"`
	// Type is "github" or "bitbucket". Default: from the URL's host.
	Type string `yaml:"type" json:"type"`
	// ConnectionArn is a CodeConnections (or CodeStar Connections)
	// connection. Default: none; CodeBuild uses the account's source
	// credentials for the provider.
	ConnectionArn string `yaml:"connectionArn" json:"connectionArn"`
}

// HealthCheck is the load balancer health check of an app's web process.
type HealthCheck struct {
	// Path is the HTTP path checked. Default "/".
	Path string `yaml:"path" json:"path"`
	// HealthyThreshold is the consecutive successes before a target is
	// healthy (2-10). Default 2.
	HealthyThreshold int `yaml:"healthyThreshold" json:"healthyThreshold"`
	// UnhealthyThreshold is the consecutive failures before a target is
	// unhealthy (2-10). Default 3.
	UnhealthyThreshold int `yaml:"unhealthyThreshold" json:"unhealthyThreshold"`
	// IntervalSeconds is the time between checks (5-300). Default 5.
	IntervalSeconds int `yaml:"intervalSeconds" json:"intervalSeconds"`
	// TimeoutSeconds is how long one check may take (2-120, shorter than
	// IntervalSeconds). Default 4.
	TimeoutSeconds int `yaml:"timeoutSeconds" json:"timeoutSeconds"`
}

// Database is one Aurora PostgreSQL cluster.
type Database struct {
	// Name is the database's Wharf name. Required.
	Name string `yaml:"name" json:"name"`
	// Cluster is the Wharf cluster whose VPC and app security group the
	// database uses. Required.
	Cluster string `yaml:"cluster" json:"cluster"`
	// EngineVersion is the Aurora PostgreSQL version, major.minor.
	// Default "16.6".
	EngineVersion string `yaml:"engineVersion" json:"engineVersion"`
	// InstanceClass is the DB instance class. Default "db.t4g.medium".
	InstanceClass string `yaml:"instanceClass" json:"instanceClass"`
	// MultiAZ adds a reader instance in another zone. Default false.
	MultiAZ bool `yaml:"multiAz" json:"multiAz"`
	// BackupRetentionDays is how long automated backups are kept (1-35).
	// Default 7.
	BackupRetentionDays int `yaml:"backupRetentionDays" json:"backupRetentionDays"`
	// LogRetentionDays is the retention of the PostgreSQL log export and
	// the manager Lambda's logs, one of the values CloudWatch Logs accepts.
	// Default 30.
	LogRetentionDays int `yaml:"logRetentionDays" json:"logRetentionDays"`
	// DeletionProtection keeps the Aurora cluster from being deleted until
	// it is turned off. Default true.
	DeletionProtection *bool `yaml:"deletionProtection" json:"deletionProtection"`
	// S3PrefixListID is the ID of the region's AWS-managed S3 prefix list
	// (com.amazonaws.<region>.s3), the database manager's only HTTPS
	// destination besides its Secrets Manager endpoint. Default: looked
	// up at synth time (needs AWS credentials the first time; cached in
	// cdk.context.json).
	S3PrefixListID string `yaml:"s3PrefixListId" json:"s3PrefixListId"`
}

// Redis is one ElastiCache replication group (Valkey or Redis OSS) shared
// by the apps that name it.
type Redis struct {
	// Name is the redis's Wharf name (2-23 characters). Required.
	Name string `yaml:"name" json:"name"`
	// Cluster is the Wharf cluster whose VPC and app security group the
	// redis uses. Required.
	Cluster string `yaml:"cluster" json:"cluster"`
	// Engine is "valkey" or "redis" (Redis OSS). Default "valkey".
	Engine string `yaml:"engine" json:"engine"`
	// EngineVersion is the engine version, major.minor: Valkey 7.2 or
	// later, Redis OSS 7.0 or later. Default "8.0" (Valkey), "7.1" (Redis
	// OSS).
	EngineVersion string `yaml:"engineVersion" json:"engineVersion"`
	// NodeType is the cache node type. Default "cache.t4g.micro".
	NodeType string `yaml:"nodeType" json:"nodeType"`
	// MultiAZ adds a replica in another zone with automatic failover.
	// Default false.
	MultiAZ bool `yaml:"multiAz" json:"multiAz"`
	// SnapshotRetentionDays is how long daily snapshots are kept (0-35; 0
	// turns them off). Default 1.
	SnapshotRetentionDays *int `yaml:"snapshotRetentionDays" json:"snapshotRetentionDays"`
}

// Defaults used when a field is left out.
const (
	DefaultPrefix                     = "wharf"
	DefaultCIDR                       = "10.100.0.0/16"
	DefaultInstanceType               = "t4g.medium"
	DefaultEC2MinCapacity             = 1
	DefaultEC2MaxCapacity             = 3
	DefaultBranch                     = "main"
	DefaultHealthCheckPath            = "/"
	DefaultHealthyThreshold           = 2
	DefaultUnhealthyThreshold         = 3
	DefaultHealthCheckIntervalSeconds = 5
	DefaultHealthCheckTimeoutSeconds  = 4
	DefaultContainerPort              = 8080
	DefaultImagesToKeep               = 30
	DefaultArtifactRetentionDays      = 90
	DefaultFlowLogRetentionDays       = 30
	DefaultAccessLogRetentionDays     = 90
	DefaultBackupRetentionDays        = 7
	DefaultDatabaseLogRetentionDays   = 30
	DefaultDeregistrationDelaySeconds = 15
	DefaultLogRetentionDays           = 30
	DefaultLaunchType                 = "fargate"
	DefaultEngineVersion              = "16.6"
	DefaultInstanceClass              = "db.t4g.medium"
	DefaultCdkBootstrapQualifier      = "hnb659fds"
	DefaultRedisSnapshotRetentionDays = 1
	DefaultLoadBalancerCertificates   = contract.ALBCertificatesQuota
	DefaultLoadBalancerRules          = contract.ALBRulesQuota
)
