package controlplane

import "github.com/wharf-paas/wharf/contract"

// DefaultPrefix is contract.DefaultPrefix.
const DefaultPrefix = contract.DefaultPrefix

// ParseRegistry is contract.ParseRegistry.
func ParseRegistry(data []byte) (Registry, error) { return contract.ParseRegistry(data) }
