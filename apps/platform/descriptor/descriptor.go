// Package descriptor turns a platform config into the platform descriptor
// (contract.Platform) that the wharf CLI and the dashboard read: issuer,
// client IDs, account, region and, per app, the names of the resources a
// user works with. It copies no emails, secrets or external IDs: allowed
// users, administrators, alarm emails and external IDs stay in the config.
//
// The platform app writes it next to the cloud assembly as
// cdk.out/wharf-platform.json (contract.PlatformDescriptorFile).
package descriptor

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/wharf-paas/wharf/apps/config"
	"github.com/wharf-paas/wharf/contract"
)

// StatusParameterName is /<prefix>/apps/<app>/status, the app's status
// document (docs/conventions.md).
func StatusParameterName(prefix, name string) string {
	return contract.Names{Prefix: prefix}.StatusParameter(name)
}

// ActivityLogGroupName is /<prefix>/apps/<app>/activity, the app's deploy
// activity log (docs/conventions.md).
func ActivityLogGroupName(prefix, name string) string {
	return contract.Names{Prefix: prefix}.ActivityLogGroup(name)
}

// FromConfig builds the descriptor of a validated config (defaults
// applied). The first OIDC client ID is the CLI's (device grant), the
// second, if any, the dashboard's (authorization code with PKCE).
func FromConfig(cfg *config.Platform) *contract.Platform {
	names := contract.Names{Prefix: cfg.Prefix}
	partition := config.Partition(cfg.Region)
	p := &contract.Platform{
		Version:      contract.PlatformDescriptorVersion,
		Prefix:       cfg.Prefix,
		Issuer:       cfg.Account.OIDCIssuerURL,
		Region:       cfg.Region,
		AccountID:    cfg.AccountID,
		AdminRoleArn: names.AdminRoleARN(partition, cfg.AccountID),
		Apps:         []contract.PlatformApp{},
	}
	if ids := cfg.Account.OIDCClientIDs; len(ids) > 0 {
		p.ClientID = ids[0]
		if len(ids) > 1 && ids[1] != ids[0] {
			p.DashboardClientID = ids[1]
		}
	}
	domains := map[string]string{}
	for _, c := range cfg.Clusters {
		domains[c.Name] = c.Domain
	}
	for _, a := range cfg.Apps {
		pa := contract.PlatformApp{
			Name:             a.Name,
			AccountID:        cfg.AccountID,
			Region:           cfg.Region,
			Cluster:          a.Cluster,
			LogGroup:         names.LogGroup(a.Name),
			DeployLogGroup:   names.DeployLogGroup(a.Name),
			ActivityLogGroup: names.ActivityLogGroup(a.Name),
			StatusParameter:  names.StatusParameter(a.Name),
			ConfigPrefix:     names.ConfigPath(a.Name),
			CodeBuildProject: names.CodeBuildProject(a.Name),
			ECSCluster:       names.ECSCluster(a.Cluster),
			Database:         a.Database,
			Redis:            a.Redis,
		}
		if d := domains[a.Cluster]; d != "" {
			pa.URL = "https://" + a.Name + "." + d
		}
		// The App construct creates the user role only for an app with
		// allowed users.
		if len(a.AllowedUsers) > 0 || len(a.AllowedSubjects) > 0 || len(a.AllowedEmailDomains) > 0 {
			pa.UserRoleArn = names.UserRoleARN(partition, cfg.AccountID, a.Name)
		}
		p.Apps = append(p.Apps, pa)
	}
	sort.Slice(p.Apps, func(i, j int) bool { return p.Apps[i].Name < p.Apps[j].Name })
	return p
}

// Marshal encodes the descriptor, refusing one that fails validation or
// contains anything shaped like an email address.
func Marshal(p *contract.Platform) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	if contract.ContainsEmail(data) {
		return nil, fmt.Errorf("platform descriptor would contain an email address; refusing to write it")
	}
	return append(data, '\n'), nil
}

// Write writes the descriptor of cfg to dir/wharf-platform.json (mode
// 0644: it is public by design) and returns the path.
func Write(dir string, cfg *config.Platform) (string, error) {
	data, err := Marshal(FromConfig(cfg))
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, contract.PlatformDescriptorFile)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", fmt.Errorf("write platform descriptor: %w", err)
	}
	return path, nil
}
