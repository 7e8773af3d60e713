package controlplane

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// DefaultPrefix is the resource prefix used when the registry names none.
const DefaultPrefix = "wharf"

// ParseRegistry decodes a registry document (the registry file or WHARF_REGISTRY JSON),
// rejecting unknown fields, and validates it: the prefix, 12-digit account
// IDs, role ARNs and external IDs, app names per docs/conventions.md, each
// app in a registered account, and no duplicates. Errors name the field.
// An empty prefix becomes DefaultPrefix.
func ParseRegistry(data []byte) (Registry, error) {
	var r Registry
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Registry{}, fmt.Errorf("registry: %w", err)
	}
	if r.Prefix == "" {
		r.Prefix = DefaultPrefix
	}
	if err := r.Validate(); err != nil {
		return Registry{}, err
	}
	return r, nil
}

// Validate checks the registry; see ParseRegistry.
func (r *Registry) Validate() error {
	if !prefixRE.MatchString(r.Prefix) || len(r.Prefix) > 20 {
		return fmt.Errorf("registry: prefix must match %s, at most 20 characters, got %q", prefixRE, r.Prefix)
	}
	accounts := map[string]bool{}
	for i, a := range r.Accounts {
		f := fmt.Sprintf("registry: accounts[%d]", i)
		switch {
		case !accountIDRE.MatchString(a.AccountID):
			return fmt.Errorf("%s.accountId must be 12 digits, got %q", f, a.AccountID)
		case accounts[a.AccountID]:
			return fmt.Errorf("%s.accountId %s is registered twice", f, a.AccountID)
		case !roleARNIn(a.ObserverRoleARN, a.AccountID):
			return fmt.Errorf("%s.observerRoleArn must be an IAM role ARN in account %s, got %q", f, a.AccountID, a.ObserverRoleARN)
		case a.ExternalID == "":
			return fmt.Errorf("%s.externalId must not be empty", f)
		}
		accounts[a.AccountID] = true
	}
	apps := map[string]bool{}
	for i, a := range r.Apps {
		f := fmt.Sprintf("registry: apps[%d]", i)
		key := a.AccountID + "/" + a.Name
		switch {
		case !ValidAppName(a.Name):
			return fmt.Errorf("%s.name must match %s, 2-30 characters, no \"--\", got %q", f, appNameRE, a.Name)
		case !accounts[a.AccountID]:
			return fmt.Errorf("%s.accountId %q is not a registered account", f, a.AccountID)
		case apps[key]:
			return fmt.Errorf("%s.name %q is registered twice in account %s", f, a.Name, a.AccountID)
		case a.Region == "" || strings.ContainsAny(a.Region, " /:"):
			return fmt.Errorf("%s.region must be an AWS region name, got %q", f, a.Region)
		case !roleARNIn(a.ManagementRoleARN, a.AccountID):
			return fmt.Errorf("%s.managementRoleArn must be an IAM role ARN in account %s, got %q", f, a.AccountID, a.ManagementRoleARN)
		case a.ExternalID == "":
			return fmt.Errorf("%s.externalId must not be empty", f)
		}
		apps[key] = true
	}
	return nil
}

// roleARNIn reports whether arn is an IAM role ARN in account.
func roleARNIn(arn, account string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[4] == account &&
		strings.HasPrefix(parts[5], "role/") && len(parts[5]) > len("role/")
}
