package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// AccountRegistration is a customer account the control plane accepts
// events from.
type AccountRegistration struct {
	// AccountID is the 12-digit AWS account ID.
	AccountID string `json:"accountId"`
	// ObserverRoleARN is the account's read-only observer role
	// (<prefix>-account-observer).
	ObserverRoleARN string `json:"observerRoleArn"`
	// ExternalID must be presented when assuming the observer role.
	ExternalID string `json:"externalId"`
}

// AppRegistration is an app the control plane deploys.
type AppRegistration struct {
	// Name is the Wharf app name.
	Name string `json:"name"`
	// AccountID is the account the app lives in; events for the app are
	// accepted only from this account.
	AccountID string `json:"accountId"`
	// Region is the app's region.
	Region string `json:"region"`
	// ManagementRoleARN is the app's management role
	// (<prefix>-app-<name>-management).
	ManagementRoleARN string `json:"managementRoleArn"`
	// ExternalID must be presented when assuming the management role.
	ExternalID string `json:"externalId"`
}

// Registry lists the accounts and apps the control plane serves. The
// Lambda reads it as JSON from the file WHARF_REGISTRY_FILE names (shipped
// in a Lambda layer by the control-plane construct), or from the
// WHARF_REGISTRY variable in tests and local runs.
type Registry struct {
	// Prefix is the Wharf resource prefix (default "wharf").
	Prefix   string                `json:"prefix"`
	Accounts []AccountRegistration `json:"accounts"`
	Apps     []AppRegistration     `json:"apps"`
}

// ParseRegistry decodes a registry document, rejecting unknown fields,
// fills in DefaultPrefix for an empty prefix and validates it (Validate).
func ParseRegistry(data []byte) (Registry, error) {
	var r Registry
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Registry{}, Errorf("registry", RuleSyntax, "%v", err)
	}
	if r.Prefix == "" {
		r.Prefix = DefaultPrefix
	}
	if err := r.Validate(); err != nil {
		return Registry{}, err
	}
	return r, nil
}

// Validate checks the registry and returns every problem found, joined,
// each a *FieldError naming its field (prefix, accounts[i].accountId,
// apps[j].managementRoleArn, ...):
//
//   - the prefix follows ValidatePrefix;
//   - account IDs are 12 digits and unique;
//   - each observer role ARN is exactly
//     arn:<partition>:iam::<account>:role/<prefix>-account-observer;
//   - app names follow Names.ValidateApp and are unique per account;
//   - each app's account is registered and its region looks like a region;
//   - each management role ARN is exactly
//     arn:<partition>:iam::<account>:role/<prefix>-app-<name>-management;
//   - every external ID follows ValidateExternalID.
func (r *Registry) Validate() error {
	var es Errors
	if err := ValidatePrefix(r.Prefix); err != nil {
		es.AddErr("", err)
		return es.Err()
	}
	n := Names{Prefix: r.Prefix}
	accounts := map[string]int{}
	for i, a := range r.Accounts {
		at := fmt.Sprintf("accounts[%d]", i)
		if err := ValidateAccountID(a.AccountID); err != nil {
			es.AddErr(at, err)
		} else if j, dup := accounts[a.AccountID]; dup {
			es.Add(at+".accountId", RuleUnique, "%s is already registered as accounts[%d]", a.AccountID, j)
		} else {
			accounts[a.AccountID] = i
		}
		es.AddErr(at, checkRoleARN("observerRoleArn", a.ObserverRoleARN, a.AccountID, n.ObserverRole()))
		es.AddErr(at, ValidateExternalID(a.ExternalID))
	}
	apps := map[[2]string]int{}
	for i, a := range r.Apps {
		at := fmt.Sprintf("apps[%d]", i)
		es.AddErr(at, n.ValidateApp(a.Name))
		if err := ValidateAccountID(a.AccountID); err != nil {
			es.AddErr(at, err)
		} else if _, ok := accounts[a.AccountID]; !ok {
			es.Add(at+".accountId", RuleMismatch, "%s is not a registered account", a.AccountID)
		}
		key := [2]string{a.AccountID, a.Name}
		if j, dup := apps[key]; dup {
			es.Add(at+".name", RuleUnique, "app %q is already registered in account %s as apps[%d]", a.Name, a.AccountID, j)
		} else {
			apps[key] = i
		}
		es.AddErr(at, ValidateRegion(a.Region))
		es.AddErr(at, checkRoleARN("managementRoleArn", a.ManagementRoleARN, a.AccountID, n.ManagementRole(a.Name)))
		es.AddErr(at, ValidateExternalID(a.ExternalID))
	}
	return es.Err()
}

// Canonical returns r with prefix set (DefaultPrefix when empty) and
// accounts and apps in a stable order (by account, then app name), so the
// same registry always gives the same JSON.
func (r Registry) Canonical() Registry {
	out := Registry{Prefix: r.Prefix}
	if out.Prefix == "" {
		out.Prefix = DefaultPrefix
	}
	out.Accounts = append([]AccountRegistration{}, r.Accounts...)
	out.Apps = append([]AppRegistration{}, r.Apps...)
	sort.SliceStable(out.Accounts, func(i, j int) bool { return out.Accounts[i].AccountID < out.Accounts[j].AccountID })
	sort.SliceStable(out.Apps, func(i, j int) bool {
		if out.Apps[i].AccountID != out.Apps[j].AccountID {
			return out.Apps[i].AccountID < out.Apps[j].AccountID
		}
		return out.Apps[i].Name < out.Apps[j].Name
	})
	return out
}

// MarshalCompact returns the compact JSON of r without HTML escaping.
func (r Registry) MarshalCompact() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("encode registry: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
