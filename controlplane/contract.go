package controlplane

import (
	"github.com/wharf-paas/wharf/contract"
)

// The documents and name rules of docs/conventions.md live in the contract
// package; these aliases keep the control plane's callers compiling while
// they move to it.

// ReleaseFamilySuffix is contract.ReleaseProcess.
const ReleaseFamilySuffix = contract.ReleaseProcess

// ContainerName is contract.ContainerName.
const ContainerName = contract.ContainerName

// Settings is contract.Settings.
type Settings = contract.Settings

// ParseSettings is contract.ParseSettings.
func ParseSettings(data []byte, prefix, app string) (*Settings, error) {
	return contract.ParseSettings(data, prefix, app)
}

// Process is contract.Process.
type Process = contract.Process

// Schedule is contract.Schedule.
type Schedule = contract.Schedule

// BuildMetadata is contract.BuildMetadata.
type BuildMetadata = contract.BuildMetadata

// MetadataFile is contract.MetadataFile.
const MetadataFile = contract.MetadataFile
