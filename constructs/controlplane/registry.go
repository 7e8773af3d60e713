package controlplanestack

import (
	"errors"

	"github.com/wharf-paas/wharf/contract"
)

// Registry is the contract's registry document (contract.Registry).
type Registry = contract.Registry

// AccountRegistration is contract.AccountRegistration.
type AccountRegistration = contract.AccountRegistration

// AppRegistration is contract.AppRegistration.
type AppRegistration = contract.AppRegistration

// ValidateRegistry checks a registry for the control plane of prefix and
// returns every problem found, joined; each is a *contract.FieldError that
// names its field (accounts[i].accountId, apps[j].managementRoleArn, ...).
// It checks that prefix is valid (contract.ValidatePrefix), that the
// registry's own prefix is empty or equal to it, that at least one account
// is registered, and everything contract.Registry.Validate checks (which
// is also what the Lambda checks when it reads the registry file).
func ValidateRegistry(prefix string, r Registry) error {
	if err := contract.ValidatePrefix(prefix); err != nil {
		return err
	}
	var es contract.Errors
	if r.Prefix != "" && r.Prefix != prefix {
		es.Add("registry.prefix", contract.RuleMismatch, "%q differs from the control plane prefix %q", r.Prefix, prefix)
	}
	if len(r.Accounts) == 0 {
		es.Add("accounts", contract.RuleRequired, "at least one account must be registered")
	}
	r.Prefix = prefix
	return errors.Join(es.Err(), r.Validate())
}

// RegistryJSON returns the compact JSON the Lambda reads from its registry
// file (RegistryFilePath, shipped in the registry layer), with the prefix
// filled in and accounts and apps in a stable order (by account, then app
// name), so the same registry always gives the same bytes and therefore the
// same layer asset hash.
func RegistryJSON(prefix string, r Registry) (string, error) {
	r.Prefix = prefix
	b, err := r.Canonical().MarshalCompact()
	return string(b), err
}
