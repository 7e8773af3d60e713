package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// PlatformDescriptorVersion is the version of the platform descriptor this
// package reads and writes.
const PlatformDescriptorVersion = 1

// PlatformDescriptorFile is the file the platform CDK app writes into its
// output directory (cdk.out/wharf-platform.json) at synth; the dashboard
// serves the same document at /platform.json.
const PlatformDescriptorFile = "wharf-platform.json"

// Platform is the platform descriptor: the non-secret facts a client (the
// wharf CLI, the dashboard) needs to log a user in and find an app's
// resources. It holds no emails, secrets or external IDs.
type Platform struct {
	// Version is PlatformDescriptorVersion.
	Version int `json:"version"`
	// Prefix is the Wharf resource prefix ("wharf").
	Prefix string `json:"prefix"`
	// Issuer is the OIDC issuer URL, exactly as in the ID token's iss.
	Issuer string `json:"issuer"`
	// ClientID is the public login client (device grant for the CLI).
	ClientID string `json:"clientId"`
	// DashboardClientID is the PKCE client of the dashboard; empty means
	// ClientID.
	DashboardClientID string `json:"dashboardClientId,omitempty"`
	// Region is the account's region (the STS endpoint region).
	Region string `json:"region"`
	// AccountID is the 12-digit account the platform is deployed to.
	AccountID string `json:"accountId"`
	// AdminRoleArn is the account's admin role.
	AdminRoleArn string `json:"adminRoleArn,omitempty"`
	// Apps are the platform's apps, sorted by name.
	Apps []PlatformApp `json:"apps"`
}

// PlatformApp is one app of the platform descriptor.
type PlatformApp struct {
	Name      string `json:"name"`
	AccountID string `json:"accountId"`
	Region    string `json:"region"`
	// Cluster is the Wharf cluster name.
	Cluster string `json:"cluster"`
	// URL is https://<app>.<cluster domain>.
	URL string `json:"url,omitempty"`
	// UserRoleArn is the app's user role; empty when the app has no
	// allowed users (and so no user role).
	UserRoleArn string `json:"userRoleArn,omitempty"`
	// LogGroup holds the containers' logs; streams are <process>/...
	LogGroup string `json:"logGroup"`
	// DeployLogGroup holds the CodeBuild logs.
	DeployLogGroup string `json:"deployLogGroup"`
	// ActivityLogGroup holds the deploy activity (one stream per build).
	ActivityLogGroup string `json:"activityLogGroup"`
	// StatusParameter is the SSM String parameter with the AppStatus.
	StatusParameter string `json:"statusParameter"`
	// ConfigPrefix is the SSM path of the app's config vars, ending in /.
	ConfigPrefix string `json:"configPrefix"`
	// CodeBuildProject is the app's CodeBuild project name.
	CodeBuildProject string `json:"codebuildProject"`
	// ECSCluster is the ECS cluster name.
	ECSCluster string `json:"ecsCluster"`
	// Processes are the app's process names when known at synth.
	Processes []string `json:"processes,omitempty"`
	// Database is the platform database (databases[].name) the app uses,
	// empty without one; its manager is Names.DatabaseManagerFunction.
	Database string `json:"database,omitempty"`
	// Redis is the platform redis (redis[].name) the app shares, empty
	// without one; the app's user there is Names.RedisAppUser.
	Redis string `json:"redis,omitempty"`
}

// DashboardClient returns the dashboard's client ID (ClientID by default).
func (p *Platform) DashboardClient() string {
	if p.DashboardClientID != "" {
		return p.DashboardClientID
	}
	return p.ClientID
}

// App returns the app named name, or nil.
func (p *Platform) App(name string) *PlatformApp {
	for i := range p.Apps {
		if p.Apps[i].Name == name {
			return &p.Apps[i]
		}
	}
	return nil
}

var (
	accountIDRe = regexp.MustCompile(`^[0-9]{12}$`)
	roleArnRe   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
	emailLikeRe = regexp.MustCompile(`[^\s@"]+@[^\s@"]+\.[A-Za-z]{2,}`)
)

// Validate checks what a client relies on; every problem names its field.
func (p *Platform) Validate() error {
	var errs []error
	bad := func(field, rule string, v any) { errs = append(errs, fmt.Errorf("%s %v: %s", field, v, rule)) }
	if p.Version != PlatformDescriptorVersion {
		bad("version", fmt.Sprintf("must be %d", PlatformDescriptorVersion), p.Version)
	}
	if p.Prefix == "" {
		bad("prefix", "required", `""`)
	}
	if !strings.HasPrefix(p.Issuer, "https://") && !strings.HasPrefix(p.Issuer, "http://127.0.0.1") && !strings.HasPrefix(p.Issuer, "http://localhost") {
		bad("issuer", "must be an https:// URL", fmt.Sprintf("%q", p.Issuer))
	}
	if p.ClientID == "" {
		bad("clientId", "required", `""`)
	}
	if p.Region == "" {
		bad("region", "required", `""`)
	}
	if !accountIDRe.MatchString(p.AccountID) {
		bad("accountId", "must be 12 digits", fmt.Sprintf("%q", p.AccountID))
	}
	if p.AdminRoleArn != "" && !roleArnRe.MatchString(p.AdminRoleArn) {
		bad("adminRoleArn", "must be an IAM role ARN", fmt.Sprintf("%q", p.AdminRoleArn))
	}
	seen := map[string]bool{}
	for i, a := range p.Apps {
		f := func(name string) string { return fmt.Sprintf("apps[%d].%s", i, name) }
		if a.Name == "" || seen[a.Name] {
			bad(f("name"), "required and unique", fmt.Sprintf("%q", a.Name))
		}
		seen[a.Name] = true
		if !accountIDRe.MatchString(a.AccountID) {
			bad(f("accountId"), "must be 12 digits", fmt.Sprintf("%q", a.AccountID))
		}
		if a.Region == "" {
			bad(f("region"), "required", `""`)
		}
		if a.UserRoleArn != "" && !roleArnRe.MatchString(a.UserRoleArn) {
			bad(f("userRoleArn"), "must be an IAM role ARN", fmt.Sprintf("%q", a.UserRoleArn))
		}
		for field, v := range map[string]string{"logGroup": a.LogGroup, "deployLogGroup": a.DeployLogGroup, "activityLogGroup": a.ActivityLogGroup,
			"statusParameter": a.StatusParameter, "configPrefix": a.ConfigPrefix, "codebuildProject": a.CodeBuildProject, "ecsCluster": a.ECSCluster} {
			if v == "" {
				bad(f(field), "required", `""`)
			}
		}
		if a.ConfigPrefix != "" && !strings.HasSuffix(a.ConfigPrefix, "/") {
			bad(f("configPrefix"), "must end in /", fmt.Sprintf("%q", a.ConfigPrefix))
		}
	}
	return errors.Join(errs...)
}

// ParsePlatform decodes and validates a descriptor. Unknown fields are
// accepted (fields may be added in the same version); a descriptor that
// looks like it contains an email address is refused, since a descriptor
// is handed out to every user.
func ParsePlatform(data []byte) (*Platform, error) {
	var p Platform
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("platform descriptor: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("platform descriptor: %w", err)
	}
	return &p, nil
}

// ContainsEmail reports whether data contains something shaped like an
// email address; the platform app uses it to refuse to write a descriptor
// that would leak one.
func ContainsEmail(data []byte) bool { return emailLikeRe.Match(data) }
