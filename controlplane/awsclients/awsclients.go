// Package awsclients is the AWS implementation of controlplane.ClientProvider.
// For each app it assumes the app's management role in the app's account
// (with the app's external ID) and builds ECS, CodeBuild, S3, SSM and
// EventBridge clients in the app's region; for each account it assumes the
// read-only observer role. Assumed-role credentials are cached per role ARN
// and external ID and refreshed shortly before they expire.
package awsclients

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/controlplane"
)

// Service names accepted by WithEndpoint.
const (
	ServiceECS         = "ecs"
	ServiceCodeBuild   = "codebuild"
	ServiceS3          = "s3"
	ServiceSSM         = "ssm"
	ServiceEventBridge = "eventbridge"
	ServiceSTS         = "sts"
	ServiceLogs        = "logs"
	// ServiceAutoScaling is Application Auto Scaling.
	ServiceAutoScaling = "application-autoscaling"
)

// Defaults.
const (
	// DefaultSessionDuration is how long assumed-role sessions last; one
	// hour is the default maximum of an IAM role.
	DefaultSessionDuration = time.Hour
	// DefaultExpiryWindow is how long before expiry cached credentials are
	// refreshed, so no call starts with credentials about to lapse.
	DefaultExpiryWindow = 5 * time.Minute
	// DefaultSessionNamePrefix starts every role session name; CloudTrail
	// shows "<prefix>-<app>" as the caller.
	DefaultSessionNamePrefix = "wharf-controlplane"
)

var sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// Option configures a Provider.
type Option func(*options)

type options struct {
	endpoints       map[string]string
	s3PathStyle     *bool
	sessionDuration time.Duration
	expiryWindow    time.Duration
	sessionPrefix   string
	observerRegion  string
	noAutoScaling   bool
}

// WithEndpoint sends one service's calls (ServiceECS, ServiceCodeBuild,
// ServiceS3, ServiceSSM, ServiceEventBridge, ServiceLogs or ServiceSTS) to url instead of
// the AWS endpoint; for tests. An S3 override also turns on path-style
// addressing unless WithS3PathStyle says otherwise.
func WithEndpoint(service, url string) Option {
	return func(o *options) { o.endpoints[service] = url }
}

// WithEndpointURL sends every service's calls to url (like
// AWS_ENDPOINT_URL); per-service WithEndpoint options win.
func WithEndpointURL(url string) Option {
	return func(o *options) { o.endpoints["*"] = url }
}

// WithS3PathStyle forces S3 path-style addressing on or off.
func WithS3PathStyle(on bool) Option { return func(o *options) { o.s3PathStyle = &on } }

// WithSessionDuration sets the assumed-role session duration (15 min to
// 12 h; default DefaultSessionDuration).
func WithSessionDuration(d time.Duration) Option {
	return func(o *options) { o.sessionDuration = d }
}

// WithExpiryWindow sets how long before expiry cached credentials are
// refreshed (default DefaultExpiryWindow).
func WithExpiryWindow(d time.Duration) Option { return func(o *options) { o.expiryWindow = d } }

// WithSessionNamePrefix sets the role session name prefix (default
// DefaultSessionNamePrefix).
func WithSessionNamePrefix(p string) Option { return func(o *options) { o.sessionPrefix = p } }

// WithObserverRegion sets the region of observer clients (default: the
// region of the base configuration).
func WithObserverRegion(region string) Option { return func(o *options) { o.observerRegion = region } }

// WithoutAutoScaling leaves out the Application Auto Scaling client: scale
// ranges are refused (visibly) and adopted apps' counts are checked
// without scalable targets; for test environments that serve no
// Application Auto Scaling.
func WithoutAutoScaling() Option { return func(o *options) { o.noAutoScaling = true } }

// Provider implements controlplane.ClientProvider with assumed roles. It is
// safe for concurrent use; build one per process and reuse it.
type Provider struct {
	base aws.Config
	sts  *sts.Client
	opts options

	mu    sync.Mutex
	creds map[string]*aws.CredentialsCache // by role ARN + external ID
	apps  map[string]*controlplane.AppClients
	obs   map[string]*controlplane.ObserverClients
}

var _ controlplane.ClientProvider = (*Provider)(nil)

// New returns a Provider whose STS calls use cfg's credentials (the control
// plane's own role) and region.
func New(cfg aws.Config, opts ...Option) (*Provider, error) {
	o := options{
		endpoints:       map[string]string{},
		sessionDuration: DefaultSessionDuration,
		expiryWindow:    DefaultExpiryWindow,
		sessionPrefix:   DefaultSessionNamePrefix,
		observerRegion:  cfg.Region,
	}
	for _, fn := range opts {
		fn(&o)
	}
	if o.sessionDuration < 15*time.Minute || o.sessionDuration > 12*time.Hour {
		return nil, fmt.Errorf("awsclients: session duration %s: must be between 15m and 12h", o.sessionDuration)
	}
	if o.expiryWindow < 0 {
		return nil, fmt.Errorf("awsclients: expiry window %s: must not be negative", o.expiryWindow)
	}
	if cfg.Region == "" {
		return nil, errors.New("awsclients: config region is empty: the control plane's region is required for STS")
	}
	p := &Provider{
		base:  cfg,
		opts:  o,
		creds: map[string]*aws.CredentialsCache{},
		apps:  map[string]*controlplane.AppClients{},
		obs:   map[string]*controlplane.ObserverClients{},
	}
	p.sts = sts.NewFromConfig(cfg, func(so *sts.Options) { setEndpoint(&so.BaseEndpoint, p.endpoint(ServiceSTS)) })
	return p, nil
}

// setEndpoint overrides a client's endpoint only when an override is
// configured, so AWS_ENDPOINT_URL_<SERVICE> and shared-config endpoints
// still apply otherwise.
func setEndpoint(dst **string, url *string) {
	if url != nil {
		*dst = url
	}
}

func (p *Provider) endpoint(service string) *string {
	if u, ok := p.opts.endpoints[service]; ok {
		return aws.String(u)
	}
	if u, ok := p.opts.endpoints["*"]; ok {
		return aws.String(u)
	}
	return nil
}

// credentials returns the cached credentials for a role, creating the
// cache on first use. Callers hold p.mu.
func (p *Provider) credentials(roleARN, externalID, sessionName string) *aws.CredentialsCache {
	key := roleARN + "\x00" + externalID
	if c, ok := p.creds[key]; ok {
		return c
	}
	ext := externalID
	assume := stscreds.NewAssumeRoleProvider(p.sts, roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.ExternalID = &ext
		o.RoleSessionName = sessionName
		o.Duration = p.opts.sessionDuration
	})
	c := aws.NewCredentialsCache(assume, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = p.opts.expiryWindow
	})
	p.creds[key] = c
	return c
}

func (p *Provider) sessionName(suffix string) string {
	n := p.opts.sessionPrefix + "-" + suffix
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}

// ForApp returns clients acting with app's management role in app's region.
// The first call for a role assumes it; later calls reuse the cached
// credentials until shortly before they expire. It fails if the role cannot
// be assumed.
func (p *Provider) ForApp(ctx context.Context, app contract.AppRegistration) (*controlplane.AppClients, error) {
	if err := validateRole("app "+app.Name, app.ManagementRoleARN, app.ExternalID); err != nil {
		return nil, err
	}
	if app.Region == "" {
		return nil, fmt.Errorf("awsclients: app %s: region is empty", app.Name)
	}
	name := p.sessionName(app.Name)
	if !sessionNameRE.MatchString(name) {
		return nil, fmt.Errorf("awsclients: app %s: session name %q: must match %s", app.Name, name, sessionNameRE)
	}
	p.mu.Lock()
	creds := p.credentials(app.ManagementRoleARN, app.ExternalID, name)
	key := strings.Join([]string{app.Name, app.Region, app.ManagementRoleARN, app.ExternalID}, "\x00")
	clients, ok := p.apps[key]
	if !ok {
		clients = p.newAppClients(app.Region, creds)
		p.apps[key] = clients
	}
	p.mu.Unlock()
	if _, err := creds.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("awsclients: assume management role %s for app %s: %w", app.ManagementRoleARN, app.Name, err)
	}
	return clients, nil
}

// ForObserver returns an ECS client acting with the account's observer role
// in the observer region (see WithObserverRegion).
func (p *Provider) ForObserver(ctx context.Context, account contract.AccountRegistration) (*controlplane.ObserverClients, error) {
	if err := validateRole("account "+account.AccountID, account.ObserverRoleARN, account.ExternalID); err != nil {
		return nil, err
	}
	p.mu.Lock()
	creds := p.credentials(account.ObserverRoleARN, account.ExternalID, p.sessionName("observer-"+account.AccountID))
	key := account.ObserverRoleARN + "\x00" + account.ExternalID
	clients, ok := p.obs[key]
	if !ok {
		cfg := p.base.Copy()
		cfg.Region = p.opts.observerRegion
		cfg.Credentials = creds
		clients = &controlplane.ObserverClients{
			ECS: ecs.NewFromConfig(cfg, func(o *ecs.Options) { setEndpoint(&o.BaseEndpoint, p.endpoint(ServiceECS)) }),
		}
		p.obs[key] = clients
	}
	p.mu.Unlock()
	if _, err := creds.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("awsclients: assume observer role %s for account %s: %w", account.ObserverRoleARN, account.AccountID, err)
	}
	return clients, nil
}

func (p *Provider) newAppClients(region string, creds aws.CredentialsProvider) *controlplane.AppClients {
	cfg := p.base.Copy()
	cfg.Region = region
	cfg.Credentials = creds
	s3Endpoint := p.endpoint(ServiceS3)
	pathStyle := s3Endpoint != nil
	if p.opts.s3PathStyle != nil {
		pathStyle = *p.opts.s3PathStyle
	}
	cl := &controlplane.AppClients{
		ECS:       ecs.NewFromConfig(cfg, func(o *ecs.Options) { setEndpoint(&o.BaseEndpoint, p.endpoint(ServiceECS)) }),
		CodeBuild: codebuild.NewFromConfig(cfg, func(o *codebuild.Options) { setEndpoint(&o.BaseEndpoint, p.endpoint(ServiceCodeBuild)) }),
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			setEndpoint(&o.BaseEndpoint, s3Endpoint)
			o.UsePathStyle = pathStyle
		}),
		SSM:         ssm.NewFromConfig(cfg, func(o *ssm.Options) { setEndpoint(&o.BaseEndpoint, p.endpoint(ServiceSSM)) }),
		EventBridge: eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { setEndpoint(&o.BaseEndpoint, p.endpoint(ServiceEventBridge)) }),
		Logs:        cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { setEndpoint(&o.BaseEndpoint, p.endpoint(ServiceLogs)) }),
	}
	if !p.opts.noAutoScaling {
		cl.AutoScaling = applicationautoscaling.NewFromConfig(cfg, func(o *applicationautoscaling.Options) {
			setEndpoint(&o.BaseEndpoint, p.endpoint(ServiceAutoScaling))
		})
	}
	return cl
}

var roleARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)

func validateRole(who, roleARN, externalID string) error {
	if !roleARNRE.MatchString(roleARN) {
		return fmt.Errorf("awsclients: %s: role ARN %q: must be arn:aws:iam::<12-digit account>:role/<name>", who, roleARN)
	}
	if externalID == "" {
		return fmt.Errorf("awsclients: %s: external ID is empty: Wharf roles require one", who)
	}
	return nil
}
