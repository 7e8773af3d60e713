package controlplane

import "github.com/wharf-paas/wharf/contract"

// AccountRegistration is contract.AccountRegistration.
type AccountRegistration = contract.AccountRegistration

// AppRegistration is contract.AppRegistration.
type AppRegistration = contract.AppRegistration

// Registry is contract.Registry.
type Registry = contract.Registry
