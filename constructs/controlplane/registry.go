package controlplanestack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"

	"github.com/wharf-paas/wharf/controlplane"
)

// Registry is the logic package's registry type, re-exported so that a CDK
// app can build a control plane without importing both packages named
// controlplane.
type Registry = controlplane.Registry

// AccountRegistration is the logic package's account registration.
type AccountRegistration = controlplane.AccountRegistration

// AppRegistration is the logic package's app registration.
type AppRegistration = controlplane.AppRegistration

var (
	prefixRE     = regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`)
	accountRE    = regexp.MustCompile(`^[0-9]{12}$`)
	appNameRE    = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)
	regionRE     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	externalIDRE = regexp.MustCompile(`^[A-Za-z0-9+=,.@:/_-]+$`)
	roleARNRE    = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::([0-9]{12}):role/(.+)$`)
)

// MaxPrefixLength is the longest resource prefix allowed: the management role
// name <prefix>-app-<app>-management must fit IAM's 64 characters for an
// app name of the maximum 30 characters.
const MaxPrefixLength = 16

// ObserverRoleARN is the ARN the naming contract gives an account's observer
// role: arn:<partition>:iam::<account>:role/<prefix>-account-observer.
func ObserverRoleARN(partition, account, prefix string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s-account-observer", partition, account, prefix)
}

// ManagementRoleARN is the ARN the naming contract gives an app's management
// role: arn:<partition>:iam::<account>:role/<prefix>-app-<app>-management.
func ManagementRoleARN(partition, account, prefix, app string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s-app-%s-management", partition, account, prefix, app)
}

// ValidatePrefix checks a Wharf resource prefix: 1–16 characters of lowercase
// letters, digits and single hyphens, starting with a letter and not ending
// with a hyphen.
func ValidatePrefix(prefix string) error {
	switch {
	case prefix == "":
		return errors.New("prefix: must not be empty")
	case len(prefix) > MaxPrefixLength:
		return fmt.Errorf("prefix: %q is %d characters, at most %d allowed", prefix, len(prefix), MaxPrefixLength)
	case !prefixRE.MatchString(prefix) || bytes.Contains([]byte(prefix), []byte("--")):
		return fmt.Errorf("prefix: %q must match %s without \"--\"", prefix, prefixRE)
	}
	return nil
}

// ValidateRegistry checks a registry for the control plane of prefix and
// returns every problem found, joined; each message names the field
// (accounts[i].accountId, apps[j].managementRoleArn, ...). It checks:
//
//   - prefix is valid and the registry's prefix is empty or equal to it;
//   - at least one account; account IDs are 12 digits and unique;
//   - each observer role ARN is exactly
//     arn:<partition>:iam::<account>:role/<prefix>-account-observer;
//   - app names follow the naming contract and are unique per account;
//   - each app's account is registered and its region looks like a region;
//   - each management role ARN is exactly
//     arn:<partition>:iam::<account>:role/<prefix>-app-<name>-management;
//   - every external ID is present and valid for sts:AssumeRole (2–1224
//     characters of [A-Za-z0-9+=,.@:/_-]);
//   - the JSON the construct ships in the registry layer (RegistryFilePath)
//     passes controlplane.ParseRegistry, as the Lambda parses it.
func ValidateRegistry(prefix string, r Registry) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := ValidatePrefix(prefix); err != nil {
		return err
	}
	if r.Prefix != "" && r.Prefix != prefix {
		add("registry.prefix: %q differs from the control plane prefix %q", r.Prefix, prefix)
	}
	if len(r.Accounts) == 0 {
		add("accounts: at least one account must be registered")
	}
	accounts := map[string]int{}
	for i, a := range r.Accounts {
		field := fmt.Sprintf("accounts[%d]", i)
		if !accountRE.MatchString(a.AccountID) {
			add("%s.accountId: %q must be 12 digits", field, a.AccountID)
		} else if j, dup := accounts[a.AccountID]; dup {
			add("%s.accountId: %s is already registered as accounts[%d]", field, a.AccountID, j)
		} else {
			accounts[a.AccountID] = i
		}
		if err := checkRoleARN(a.ObserverRoleARN, a.AccountID, prefix+"-account-observer"); err != nil {
			add("%s.observerRoleArn: %w", field, err)
		}
		if err := checkExternalID(a.ExternalID); err != nil {
			add("%s.externalId: %w", field, err)
		}
	}
	apps := map[[2]string]int{}
	for i, a := range r.Apps {
		field := fmt.Sprintf("apps[%d]", i)
		if err := checkAppName(a.Name); err != nil {
			add("%s.name: %w", field, err)
		}
		if !accountRE.MatchString(a.AccountID) {
			add("%s.accountId: %q must be 12 digits", field, a.AccountID)
		} else if _, ok := accounts[a.AccountID]; !ok {
			add("%s.accountId: %s is not a registered account", field, a.AccountID)
		}
		key := [2]string{a.AccountID, a.Name}
		if j, dup := apps[key]; dup {
			add("%s.name: app %q is already registered in account %s as apps[%d]", field, a.Name, a.AccountID, j)
		} else {
			apps[key] = i
		}
		if !regionRE.MatchString(a.Region) {
			add("%s.region: %q is not a region name like eu-west-1", field, a.Region)
		}
		if err := checkRoleARN(a.ManagementRoleARN, a.AccountID, prefix+"-app-"+a.Name+"-management"); err != nil {
			add("%s.managementRoleArn: %w", field, err)
		}
		if err := checkExternalID(a.ExternalID); err != nil {
			add("%s.externalId: %w", field, err)
		}
	}
	if len(errs) == 0 {
		// The Lambda parses the registry file with controlplane.ParseRegistry;
		// check here that it will accept what the construct writes.
		js, err := RegistryJSON(prefix, r)
		if err != nil {
			return err
		}
		if _, err := controlplane.ParseRegistry([]byte(js)); err != nil {
			add("the control plane Lambda would reject this registry: %w", err)
		}
	}
	return errors.Join(errs...)
}

func checkAppName(name string) error {
	if len(name) < 2 || len(name) > 30 || !appNameRE.MatchString(name) || bytes.Contains([]byte(name), []byte("--")) {
		return fmt.Errorf("%q must be 2–30 characters matching %s without \"--\"", name, appNameRE)
	}
	return nil
}

func checkRoleARN(arn, account, wantName string) error {
	m := roleARNRE.FindStringSubmatch(arn)
	if m == nil {
		return fmt.Errorf("%q is not an IAM role ARN (want arn:aws:iam::%s:role/%s)", arn, account, wantName)
	}
	if m[2] != account || m[3] != wantName {
		return fmt.Errorf("%q must be arn:%s:iam::%s:role/%s (the Wharf naming convention)", arn, m[1], account, wantName)
	}
	return nil
}

func checkExternalID(id string) error {
	if id == "" {
		return errors.New("must not be empty: the role trusts the control plane only with an external ID")
	}
	if len(id) < 2 || len(id) > 1224 || !externalIDRE.MatchString(id) {
		return fmt.Errorf("must be 2–1224 characters of letters, digits and +=,.@:/_- (got %d characters)", len(id))
	}
	return nil
}

// RegistryJSON returns the compact JSON the Lambda reads from its registry
// file (RegistryFilePath, shipped in the registry layer), with the prefix
// filled in and accounts and apps in a stable order (by account, then app
// name), so the same registry always gives the same bytes and therefore the
// same layer asset hash.
func RegistryJSON(prefix string, r Registry) (string, error) {
	out := Registry{Prefix: prefix}
	out.Accounts = append([]AccountRegistration{}, r.Accounts...)
	out.Apps = append([]AppRegistration{}, r.Apps...)
	sort.SliceStable(out.Accounts, func(i, j int) bool { return out.Accounts[i].AccountID < out.Accounts[j].AccountID })
	sort.SliceStable(out.Apps, func(i, j int) bool {
		if out.Apps[i].AccountID != out.Apps[j].AccountID {
			return out.Apps[i].AccountID < out.Apps[j].AccountID
		}
		return out.Apps[i].Name < out.Apps[j].Name
	})
	b, err := marshalNoEscape(out)
	if err != nil {
		return "", fmt.Errorf("encode registry: %w", err)
	}
	return string(b), nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
