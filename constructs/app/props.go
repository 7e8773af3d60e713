package app

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/wharf-paas/wharf/constructs/cluster"
	"github.com/wharf-paas/wharf/constructs/database"
	"github.com/wharf-paas/wharf/constructs/redis"
	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/internal/logretention"
)

// Defaults used when an AppProps field is nil. The health-check and
// deregistration defaults are tuned for fast rolling deploys
// (docs/constructs.md, "Deploy speed").
const (
	DefaultBranch                     = "main"
	DefaultHealthCheckPath            = "/"
	DefaultHealthyThreshold           = 2
	DefaultUnhealthyThreshold         = 3
	DefaultHealthCheckIntervalSeconds = 5
	DefaultHealthCheckTimeoutSeconds  = 4
	DefaultDeregistrationDelaySeconds = 15
	DefaultContainerPort              = 8080
	DefaultLogRetentionDays           = 30
	DefaultImagesToKeep               = 30
	DefaultArtifactRetentionDays      = 90
	DefaultLaunchType                 = LaunchTypeFargate
	// MaxDomains is the number of custom domains an app may have: an ALB
	// rule takes at most 5 condition values (contract.
	// ALBConditionValuesPerRule, not adjustable), one of which is
	// <app>.<cluster domain>.
	MaxDomains = contract.ALBConditionValuesPerRule - 1
	// MaxBuildConfig is the number of config vars a build may read
	// (AppProps.BuildConfig).
	MaxBuildConfig = 20
	// MinPriority and MaxPriority bound the listener-rule priorities Wharf
	// derives from app names; 1-999 are left for rules added by hand.
	MinPriority = contract.MinRulePriority
	MaxPriority = contract.MaxRulePriority
)

// Launch types.
const (
	LaunchTypeFargate = "FARGATE"
	LaunchTypeEC2     = "EC2"
)

// Repository types.
const (
	RepositoryGitHub    = "GITHUB"
	RepositoryBitbucket = "BITBUCKET"
)

// AppProps configures an App. Every field maps to an app entry of the
// platform config file.
type AppProps struct {
	// Prefix is the Wharf resource prefix.
	// Default: "wharf".
	Prefix *string
	// Name is the app name (docs/conventions.md): 2-30 characters of
	// lowercase letters, digits and single hyphens, starting with a letter
	// and ending with a letter or digit. Required.
	Name *string
	// Cluster is the Wharf cluster the app runs on: a live cluster.Cluster
	// or cluster.FromName. Required.
	Cluster cluster.ICluster

	// RepositoryURL is the https clone URL of the source repository, like
	// https://github.com/owner/repo. Required.
	RepositoryURL *string
	// RepositoryType is GITHUB or BITBUCKET.
	// Default: from the URL's host (github.com, bitbucket.org).
	RepositoryType *string
	// ConnectionArn is an AWS CodeConnections (or CodeStar Connections)
	// connection CodeBuild clones through.
	// Default: none; CodeBuild uses the account's source credentials for
	// the provider (aws codebuild import-source-credentials).
	ConnectionArn *string
	// Branch is the branch that is built and deployed.
	// Default: "main".
	Branch *string
	// BuildWebhook starts a build on every push to Branch.
	// Default: true.
	BuildWebhook *bool
	// TrustedBuilders are the Cloud Native Buildpacks builders pack may
	// trust (--trust-builder), each pinned by digest
	// (<name>[:<tag>]@sha256:<64 hex>). A repository naming one of them (by
	// the name or the exact reference) builds with it by its digest; any
	// other builder runs untrusted. An empty, non-nil list trusts none.
	// Default: [DefaultTrustedBuilder].
	TrustedBuilders []string
	// BuildConfig names the app's config vars (parameters under
	// /<prefix>/apps/<app>/config/) its build may read, for a private
	// package registry token for example. The build role may read exactly
	// these; the image build gets them as BuildKit secrets (Dockerfile:
	// RUN --mount=type=secret,id=<NAME>) or pack --env, never as build
	// arguments and never in the log. At most 20 names.
	// Default: none.
	BuildConfig []string

	// Domains are custom host names routed to the app besides
	// <name>.<cluster domain>; at most 4 (an ALB rule takes 5 host names).
	// Each becomes a working HTTPS name: the app's ACM certificate (DNS
	// validation) holds every name the cluster's wildcard certificate does
	// not cover and is added to the cluster's HTTPS listener by SNI; with a
	// hosted zone the validation and alias records are created too
	// (Domain; docs/constructs.md, "Custom domains").
	// Default: none.
	Domains []*Domain
	// HealthCheckPath is the path the load balancer checks.
	// Default: "/".
	HealthCheckPath *string
	// HealthyThreshold is the consecutive successes before a target is
	// healthy (2-10).
	// Default: 2.
	HealthyThreshold *int
	// UnhealthyThreshold is the consecutive failures before a target is
	// unhealthy (2-10).
	// Default: 3.
	UnhealthyThreshold *int
	// HealthCheckIntervalSeconds is the time between checks (5-300).
	// Default: 5.
	HealthCheckIntervalSeconds *int
	// HealthCheckTimeoutSeconds is how long a check may take (2-120, and
	// shorter than the interval or the load balancer rejects it).
	// Default: 4.
	HealthCheckTimeoutSeconds *int
	// DeregistrationDelaySeconds is how long the load balancer lets a
	// stopping task finish its requests (0-3600).
	// Default: 15.
	DeregistrationDelaySeconds *int
	// ContainerPort is the port the web process listens on ($PORT).
	// Default: 8080.
	ContainerPort *int
	// Priority is the listener-rule priority (1-50000), unique on the
	// cluster's HTTPS listener.
	// Default: derived from the app name (RulePriority).
	Priority *int

	// LogRetentionDays is the retention of the app's log groups; one of the
	// values CloudWatch Logs accepts.
	// Default: 30.
	LogRetentionDays *int
	// ImagesToKeep is how many images the ECR repository keeps (1-1000).
	// Default: 30.
	ImagesToKeep *int
	// ArtifactRetentionDays is how long build artifacts (wharf-build.json)
	// are kept (1-3650).
	// Default: 90.
	ArtifactRetentionDays *int
	// LaunchType is FARGATE or EC2 (the cluster needs EC2 capacity).
	// Default: FARGATE.
	LaunchType *string

	// AllowedUsers are the emails (the OIDC `email` claim) of the users who
	// may assume the app's user role. When set, OIDCIssuerURL and
	// OIDCClientIDs are required.
	// Default: none; no user role is created.
	AllowedUsers []string
	// AllowedSubjects are issuer user IDs (the OIDC `sub` claim, stable
	// per issuer) of further users who may assume the user role. When set,
	// OIDCIssuerURL and OIDCClientIDs are required.
	// Default: none.
	AllowedSubjects []string
	// AllowedEmailDomains admits every user whose email claim is an
	// address at one of these domains (lowercase, like acme.com): the user
	// role's trust policy gets a StringLike condition "*@<domain>" on the
	// issuer's email claim, and a deny for claims with two @. Use it only
	// with an issuer that issues nothing but verified addresses of the
	// domain (a company directory): IAM does not check email_verified, so
	// anyone the issuer lets sign in with such an address gets the role.
	// Public email services (gmail.com, ...) are refused. When set,
	// OIDCIssuerURL and OIDCClientIDs are required.
	// Default: none.
	AllowedEmailDomains []string
	// OIDCIssuerURL is the login issuer, exactly as the Account construct
	// got it (AccountProps.OIDCIssuerURL).
	// Default: none (required with AllowedUsers).
	OIDCIssuerURL *string
	// OIDCClientIDs are the accepted audiences (AccountProps.OIDCClientIDs).
	// Default: none (required with AllowedUsers).
	OIDCClientIDs []string
	// OIDCProvider is the account's OIDC provider (Account.OIDCProvider).
	// Default: the provider for OIDCIssuerURL in this stack's account,
	// referenced by its ARN (arn:aws:iam::<account>:oidc-provider/<issuer>),
	// so the app stack needs no reference to the account stack.
	OIDCProvider awsiam.IOidcProvider

	// Database is a Wharf database the app gets its own PostgreSQL
	// database and role in (a live database.Database or
	// database.FromName). Mutually exclusive with DatabaseName.
	// Default: none.
	Database database.IDatabase
	// DatabaseName names a Wharf database by name; its published SSM
	// parameters are read at deploy time (database.FromName).
	// Default: none.
	DatabaseName *string
	// KeepDatabaseOnDelete keeps the app's PostgreSQL database and role when
	// the app (or its database attachment) is deleted.
	// Default: true. Set false to drop them with the app.
	KeepDatabaseOnDelete *bool

	// Redis is a Wharf Redis the app shares (a live redis.Redis, which
	// must list the app in its Apps, or redis.FromName). The app gets its
	// own ElastiCache user, limited to keys and channels starting
	// "<app>:", and the config vars REDIS_URL, REDIS_PREFIX and
	// REDIS_CACHE_NAME. Mutually exclusive with RedisName.
	// Default: none.
	Redis redis.IRedis
	// RedisName names a Wharf Redis by name; its published SSM parameters
	// are read at deploy time (redis.FromName). The Redis must list the
	// app in its Apps.
	// Default: none.
	RedisName *string

	// TaskPolicyArn is a customer managed policy attached to the task role.
	// Default: none.
	TaskPolicyArn *string

	// ControlPlaneAccountID is the account of the Wharf control plane; the
	// management role trusts it. Required.
	ControlPlaneAccountID *string
	// ControlPlaneEventBusArn is the control plane's event bus; this app's
	// build and ECS events are forwarded to it. Required.
	ControlPlaneEventBusArn *string
	// ManagementExternalID is the external ID the control plane presents to
	// assume the management role (2-1224 characters of
	// [A-Za-z0-9+=,.@:/_-]). Required.
	ManagementExternalID *string
}

var (
	busArnRe        = regexp.MustCompile(`^arn:aws[a-z-]*:events:[a-z0-9-]+:([0-9]{12}):event-bus/[A-Za-z0-9._-]{1,256}$`)
	connectionRe    = regexp.MustCompile(`^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:[0-9]{12}:connection/[A-Za-z0-9-]+$`)
	policyArnRe     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/[A-Za-z0-9+=,.@_/-]+$`)
	emailRe         = regexp.MustCompile(`^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$`)
	labelRe         = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	envNameRe       = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	pinnedBuilderRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}$`)
	branchRe        = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,200}$`)
	repoPathRe      = regexp.MustCompile(`^/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(\.git)?/?$`)
	healthPathRe    = regexp.MustCompile(`^/[A-Za-z0-9/._~%!$&'()*+,;=:@-]*$`)
	reservedNames   = map[string]string{
		"postgres": "the PostgreSQL maintenance database", "template0": "a PostgreSQL template", "template1": "a PostgreSQL template",
		"rdsadmin": "the RDS admin database", database.AdminUser: "the Wharf admin user",
	}
)

// Validate checks every field and returns all problems at once, each naming
// the field and the rule it breaks. NewApp panics with the same error.
func (p *AppProps) Validate() error {
	if p == nil {
		return errors.New("app props: must not be nil")
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	prefixErr := contract.ValidatePrefix(p.prefix())
	if prefixErr != nil {
		errs = append(errs, prefixErr)
	}
	if p.Name == nil {
		add("name: required")
	} else if prefixErr == nil {
		// The app-name rule of the contract, including the room it must
		// leave for schedule names under this prefix.
		if err := (contract.Names{Prefix: p.prefix()}).ValidateApp(*p.Name); err != nil {
			errs = append(errs, err)
		}
	} else if err := contract.ValidateAppName(*p.Name); err != nil {
		errs = append(errs, err)
	}
	if p.Cluster == nil {
		add("cluster: required (a live cluster.Cluster or cluster.FromName)")
	}
	if _, _, err := p.repository(); err != nil {
		errs = append(errs, err)
	}
	if p.ConnectionArn != nil && !connectionRe.MatchString(*p.ConnectionArn) {
		add("connectionArn %q: must be a CodeConnections or CodeStar Connections connection ARN (arn:aws:codeconnections:<region>:<account>:connection/<id>)", *p.ConnectionArn)
	}
	if b := p.branch(); !branchRe.MatchString(b) || strings.Contains(b, "..") || strings.HasPrefix(b, "/") || strings.HasSuffix(b, "/") {
		add("branch %q: must be a git branch name (letters, digits, '.', '_', '-', '/', at most 200 characters)", b)
	}
	if len(p.BuildConfig) > MaxBuildConfig {
		add("buildConfig: %d names given, at most %d allowed", len(p.BuildConfig), MaxBuildConfig)
	}
	seenConfig := map[string]bool{}
	for i, n := range p.BuildConfig {
		switch {
		case !envNameRe.MatchString(n):
			add("buildConfig[%d] %q: must be a config var name (letters, digits and _, not starting with a digit)", i, n)
		case reservedBuildVar(n):
			add("buildConfig[%d] %q: the build sets this variable itself (names starting WHARF_, CODEBUILD_ or AWS_, and PATH, HOME, CI are reserved)", i, n)
		case seenConfig[n]:
			add("buildConfig[%d] %q: listed twice", i, n)
		}
		seenConfig[n] = true
	}
	for i, b := range p.TrustedBuilders {
		if !pinnedBuilderRe.MatchString(b) {
			add("trustedBuilders[%d] %q: must be an image reference pinned by digest (<name>[:<tag>]@sha256:<64 hex>)", i, b)
		}
	}
	errs = append(errs, p.validateDomains()...)
	if path := p.healthCheckPath(); !healthPathRe.MatchString(path) || len(path) > 1024 {
		add("healthCheckPath %q: must start with / and be at most 1024 URL characters", path)
	}
	checkRange := func(field string, v, lo, hi int) {
		if v < lo || v > hi {
			add("%s %d: must be between %d and %d", field, v, lo, hi)
		}
	}
	checkRange("healthyThreshold", intOr(p.HealthyThreshold, DefaultHealthyThreshold), 2, 10)
	checkRange("unhealthyThreshold", intOr(p.UnhealthyThreshold, DefaultUnhealthyThreshold), 2, 10)
	interval := intOr(p.HealthCheckIntervalSeconds, DefaultHealthCheckIntervalSeconds)
	timeout := intOr(p.HealthCheckTimeoutSeconds, DefaultHealthCheckTimeoutSeconds)
	checkRange("healthCheckIntervalSeconds", interval, 5, 300)
	checkRange("healthCheckTimeoutSeconds", timeout, 2, 120)
	if timeout >= interval {
		add("healthCheckTimeoutSeconds %d: must be shorter than healthCheckIntervalSeconds (%d); the load balancer rejects a timeout equal to the interval", timeout, interval)
	}
	checkRange("deregistrationDelaySeconds", intOr(p.DeregistrationDelaySeconds, DefaultDeregistrationDelaySeconds), 0, 3600)
	checkRange("containerPort", intOr(p.ContainerPort, DefaultContainerPort), 1, 65535)
	if p.Priority != nil {
		checkRange("priority", *p.Priority, 1, MaxPriority)
	}
	if err := logretention.Check("logRetentionDays", intOr(p.LogRetentionDays, DefaultLogRetentionDays)); err != nil {
		add("%s", err)
	}
	checkRange("imagesToKeep", intOr(p.ImagesToKeep, DefaultImagesToKeep), 1, 1000)
	checkRange("artifactRetentionDays", intOr(p.ArtifactRetentionDays, DefaultArtifactRetentionDays), 1, 3650)
	if lt := p.launchType(); lt != LaunchTypeFargate && lt != LaunchTypeEC2 {
		add("launchType %q: must be FARGATE or EC2", lt)
	}
	errs = append(errs, p.validateUsers()...)
	if p.Database != nil && p.DatabaseName != nil {
		add("databaseName: set either database or databaseName, not both")
	}
	if p.DatabaseName != nil {
		if err := contract.ValidateDatabaseName(*p.DatabaseName); err != nil {
			add("databaseName: %w", err)
		}
	}
	if p.Name != nil && (p.Database != nil || p.DatabaseName != nil) {
		db := contract.AppDatabase(*p.Name)
		if why, ok := reservedNames[db]; ok {
			add("name %q: its PostgreSQL name %q is %s; choose another app name", *p.Name, db, why)
		} else if strings.HasPrefix(db, "pg_") || strings.HasPrefix(db, "rds_") {
			add("name %q: its PostgreSQL name %q starts with a prefix PostgreSQL or RDS reserves (pg_, rds_); choose another app name", *p.Name, db)
		}
	}
	if p.Redis != nil && p.RedisName != nil {
		add("redisName: set either redis or redisName, not both")
	}
	if p.RedisName != nil {
		if err := contract.ValidateRedisName(*p.RedisName); err != nil {
			add("redisName: %w", err)
		}
	}
	if r, ok := p.Redis.(interface{ HasApp(string) bool }); ok && p.Name != nil && !r.HasApp(*p.Name) {
		add("redis: redis %q has no user for app %q; list the app in its RedisProps.Apps", *p.Redis.RedisName(), *p.Name)
	}
	if p.TaskPolicyArn != nil && !policyArnRe.MatchString(*p.TaskPolicyArn) {
		add("taskPolicyArn %q: must be an IAM managed policy ARN (arn:aws:iam::<account>:policy/<name>)", *p.TaskPolicyArn)
	}
	cpAccount := deref(p.ControlPlaneAccountID)
	if contract.ValidateAccountID(cpAccount) != nil {
		add("controlPlaneAccountId %q: must be a 12-digit AWS account ID", cpAccount)
	}
	if m := busArnRe.FindStringSubmatch(deref(p.ControlPlaneEventBusArn)); m == nil {
		add("controlPlaneEventBusArn %q: must be an event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)", deref(p.ControlPlaneEventBusArn))
	} else if contract.ValidateAccountID(cpAccount) == nil && m[1] != cpAccount {
		add("controlPlaneEventBusArn %q: must be in the control plane account %s", deref(p.ControlPlaneEventBusArn), cpAccount)
	}
	if ext := deref(p.ManagementExternalID); contract.ValidateExternalID(ext) != nil {
		add("managementExternalId: must be 2-1224 characters of letters, digits and +=,.@:/_-")
	}
	return errors.Join(errs...)
}

func (p *AppProps) validateUsers() []error {
	var errs []error
	seen := map[string]bool{}
	for _, e := range p.AllowedUsers {
		if len(e) > 254 || !emailRe.MatchString(e) {
			errs = append(errs, fmt.Errorf("allowedUsers: %q is not an email address (name@domain.tld)", e))
			continue
		}
		if seen[strings.ToLower(e)] {
			errs = append(errs, fmt.Errorf("allowedUsers: %q is listed twice (emails compare case-insensitively)", e))
		}
		seen[strings.ToLower(e)] = true
	}
	seenSub := map[string]bool{}
	for _, s := range p.AllowedSubjects {
		// OpenID Connect Core 1.0 section 2: sub "MUST NOT exceed 255
		// ASCII characters in length".
		if s == "" || len(s) > 255 || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) {
			errs = append(errs, fmt.Errorf("allowedSubjects: %q is not an OIDC subject (1-255 printable ASCII characters, no spaces)", s))
			continue
		}
		if seenSub[s] {
			errs = append(errs, fmt.Errorf("allowedSubjects: %q is listed twice", s))
		}
		seenSub[s] = true
	}
	seenDomain := map[string]bool{}
	for _, d := range p.AllowedEmailDomains {
		if err := contract.ValidateEmailDomain(d); err != nil {
			errs = append(errs, err)
			continue
		}
		if seenDomain[d] {
			errs = append(errs, fmt.Errorf("allowedEmailDomains: %q is listed twice", d))
		}
		seenDomain[d] = true
	}
	if !p.hasUsers() {
		return errs
	}
	if _, err := p.issuerKey(); err != nil {
		errs = append(errs, err)
	}
	if len(p.OIDCClientIDs) == 0 {
		errs = append(errs, errors.New("oidcClientIds: at least one client ID is required when allowedUsers, allowedSubjects or allowedEmailDomains is set"))
	}
	if key, err := p.issuerKey(); err == nil {
		// The user role's trust policy holds one statement for the emails,
		// one for the subjects and one for the domain patterns with its
		// deny (newUserRole).
		if n := contract.UserTrustPolicySize(key, p.OIDCClientIDs, p.AllowedUsers, p.AllowedSubjects, p.AllowedEmailDomains); n > contract.TrustPolicyDefaultLimit {
			all := append(append(append([]string(nil), p.AllowedUsers...), p.AllowedSubjects...), contract.EmailDomainPatterns(p.AllowedEmailDomains)...)
			errs = append(errs, errors.New(contract.TrustPolicyError("allowedUsers, allowedSubjects and allowedEmailDomains", n, all)))
		}
	}
	return errs
}

// hasUsers reports whether any form of allowed user is configured (and so
// the user role is created).
func (p *AppProps) hasUsers() bool {
	return len(p.AllowedUsers)+len(p.AllowedSubjects)+len(p.AllowedEmailDomains) > 0
}

// issuerKey returns the issuer without its https:// scheme, as IAM names it
// in condition keys and provider ARNs.
func (p *AppProps) issuerKey() (string, error) {
	issuer := deref(p.OIDCIssuerURL)
	u, err := url.Parse(issuer)
	if issuer == "" || err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Port() != "" {
		return "", fmt.Errorf("oidcIssuerUrl %q: required when allowedUsers is set; must be an https:// URL with a host and no port, query or fragment", issuer)
	}
	return strings.TrimPrefix(issuer, "https://"), nil
}

// repository returns the repository type and the owner/repo path.
func (p *AppProps) repository() (string, [2]string, error) {
	raw := deref(p.RepositoryURL)
	u, err := url.Parse(raw)
	if raw == "" {
		return "", [2]string{}, errors.New("repositoryUrl: required; an https clone URL like https://github.com/owner/repo")
	}
	if err != nil || u.Scheme != "https" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", [2]string{}, fmt.Errorf("repositoryUrl %q: must be an https clone URL like https://github.com/owner/repo", raw)
	}
	m := repoPathRe.FindStringSubmatch(u.Path)
	if m == nil {
		return "", [2]string{}, fmt.Errorf("repositoryUrl %q: path must be /<owner>/<repo>", raw)
	}
	typ := ""
	if p.RepositoryType != nil {
		typ = *p.RepositoryType
		if typ != RepositoryGitHub && typ != RepositoryBitbucket {
			return "", [2]string{}, fmt.Errorf("repositoryType %q: must be GITHUB or BITBUCKET", typ)
		}
	} else {
		switch strings.ToLower(u.Host) {
		case "github.com":
			typ = RepositoryGitHub
		case "bitbucket.org":
			typ = RepositoryBitbucket
		default:
			return "", [2]string{}, fmt.Errorf("repositoryType: required for host %q (GITHUB or BITBUCKET; only github.com and bitbucket.org are recognised)", u.Host)
		}
	}
	return typ, [2]string{m[1], m[2]}, nil
}

func validateDomain(d string) error {
	if d != strings.ToLower(d) {
		return fmt.Errorf("%q must be lowercase", d)
	}
	labels := strings.Split(d, ".")
	if len(d) > 253 || len(labels) < 2 {
		return fmt.Errorf("%q must be a DNS name with at least two labels", d)
	}
	for i, l := range labels {
		if i == 0 && l == "*" {
			continue
		}
		if !labelRe.MatchString(l) {
			return fmt.Errorf("%q: label %q must be 1-63 lowercase letters, digits and hyphens", d, l)
		}
	}
	return nil
}

func (p *AppProps) prefix() string {
	if p.Prefix == nil {
		return contract.DefaultPrefix
	}
	return *p.Prefix
}

func (p *AppProps) branch() string {
	if p.Branch == nil {
		return DefaultBranch
	}
	return *p.Branch
}

// reservedBuildVar reports names the build environment sets itself.
func reservedBuildVar(n string) bool {
	u := strings.ToUpper(n)
	for _, p := range []string{"WHARF_", "CODEBUILD_", "AWS_"} {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return u == "PATH" || u == "HOME" || u == "CI"
}

func (p *AppProps) trustedBuilders() []string {
	if p.TrustedBuilders == nil {
		return []string{DefaultTrustedBuilder}
	}
	return p.TrustedBuilders
}

func (p *AppProps) healthCheckPath() string {
	if p.HealthCheckPath == nil {
		return DefaultHealthCheckPath
	}
	return *p.HealthCheckPath
}

func (p *AppProps) launchType() string {
	if p.LaunchType == nil {
		return DefaultLaunchType
	}
	return *p.LaunchType
}

func (p *AppProps) webhook() bool { return p.BuildWebhook == nil || *p.BuildWebhook }

func (p *AppProps) keepDatabase() bool {
	return p.KeepDatabaseOnDelete == nil || *p.KeepDatabaseOnDelete
}

func intOr(v *int, def int) int {
	if v == nil {
		return def
	}
	return *v
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
