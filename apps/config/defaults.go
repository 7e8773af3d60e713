package config

import (
	"strings"

	"github.com/wharf-paas/wharf/contract"
)

// ApplyDefaults fills every field left out with its documented default.
// Defaults derived from other fields (availability zones, the control plane
// event bus, the repository type) are computed from the values given, so
// call it once, after decoding and before Validate.
func (p *Platform) ApplyDefaults() {
	if p.Prefix == "" {
		p.Prefix = DefaultPrefix
	}
	p.derived = map[string]bool{}
	if len(p.AvailabilityZones) == 0 && p.Region != "" {
		p.AvailabilityZones = []string{p.Region + "a", p.Region + "b", p.Region + "c"}
		p.derived["availabilityZones"] = true
	}
	cp := &p.ControlPlane
	if cp.AccountID == "" {
		cp.AccountID = p.AccountID
		p.derived["controlPlane.accountId"] = true
	}
	if cp.Region == "" {
		cp.Region = p.Region
		p.derived["controlPlane.region"] = true
	}
	if cp.EventBusArn == "" {
		p.derived["controlPlane.eventBusArn"] = true
		if cp.AccountID != "" && cp.Region != "" {
			cp.EventBusArn = DefaultEventBusArn(cp.Region, cp.AccountID, p.Prefix)
		}
	}
	if cp.Deploy == nil {
		deploy := cp.AccountID == p.AccountID && cp.Region == p.Region
		cp.Deploy = &deploy
	}
	if p.Account.CdkBootstrapQualifier == "" {
		p.Account.CdkBootstrapQualifier = DefaultCdkBootstrapQualifier
	}
	for i := range p.Clusters {
		c := &p.Clusters[i]
		if c.CIDR == "" {
			c.CIDR = DefaultCIDR
		}
		if c.FlowLogRetentionDays == 0 {
			c.FlowLogRetentionDays = DefaultFlowLogRetentionDays
		}
		if c.AccessLogRetentionDays == 0 {
			c.AccessLogRetentionDays = DefaultAccessLogRetentionDays
		}
		if c.LoadBalancerQuotas.Certificates == 0 {
			c.LoadBalancerQuotas.Certificates = DefaultLoadBalancerCertificates
		}
		if c.LoadBalancerQuotas.Rules == 0 {
			c.LoadBalancerQuotas.Rules = DefaultLoadBalancerRules
		}
		if c.EC2 != nil {
			if c.EC2.InstanceType == "" {
				c.EC2.InstanceType = DefaultInstanceType
			}
			if c.EC2.MinCapacity == nil {
				c.EC2.MinCapacity = intp(DefaultEC2MinCapacity)
			}
			if c.EC2.MaxCapacity == nil {
				c.EC2.MaxCapacity = intp(max(DefaultEC2MaxCapacity, *c.EC2.MinCapacity))
			}
		}
	}
	zoneIDs := map[string]string{} // cluster hosted zone name -> ID
	for _, c := range p.Clusters {
		if c.HostedZone.ID != "" {
			zoneIDs[strings.TrimSuffix(c.HostedZone.Name, ".")] = c.HostedZone.ID
		}
	}
	for i := range p.Apps {
		a := &p.Apps[i]
		for j := range a.Domains {
			// A domain's zone named like a cluster's zone is that zone.
			if z := a.Domains[j].HostedZone; z != nil && z.ID == "" && zoneIDs[strings.TrimSuffix(z.Name, ".")] != "" {
				z.ID = zoneIDs[strings.TrimSuffix(z.Name, ".")]
			}
		}
		if a.Repository.Type == "" {
			a.Repository.Type = repositoryTypeFromURL(a.Repository.URL)
		}
		if a.Branch == "" {
			a.Branch = DefaultBranch
		}
		if a.Webhook == nil {
			t := true
			a.Webhook = &t
		}
		if a.HealthCheck.Path == "" {
			a.HealthCheck.Path = DefaultHealthCheckPath
		}
		if a.HealthCheck.HealthyThreshold == 0 {
			a.HealthCheck.HealthyThreshold = DefaultHealthyThreshold
		}
		if a.HealthCheck.UnhealthyThreshold == 0 {
			a.HealthCheck.UnhealthyThreshold = DefaultUnhealthyThreshold
		}
		if a.HealthCheck.IntervalSeconds == 0 {
			a.HealthCheck.IntervalSeconds = DefaultHealthCheckIntervalSeconds
		}
		if a.HealthCheck.TimeoutSeconds == 0 {
			// The load balancer needs the timeout below the interval
			// (findings #5).
			a.HealthCheck.TimeoutSeconds = min(DefaultHealthCheckTimeoutSeconds, a.HealthCheck.IntervalSeconds-1)
		}
		if a.ContainerPort == 0 {
			a.ContainerPort = DefaultContainerPort
		}
		if a.ImagesToKeep == 0 {
			a.ImagesToKeep = DefaultImagesToKeep
		}
		if a.ArtifactRetentionDays == 0 {
			a.ArtifactRetentionDays = DefaultArtifactRetentionDays
		}
		if a.KeepDatabaseOnDelete == nil {
			t := true
			a.KeepDatabaseOnDelete = &t
		}
		if a.DeregistrationDelaySeconds == nil {
			a.DeregistrationDelaySeconds = intp(DefaultDeregistrationDelaySeconds)
		}
		if a.LogRetentionDays == 0 {
			a.LogRetentionDays = DefaultLogRetentionDays
		}
		if a.LaunchType == "" {
			a.LaunchType = DefaultLaunchType
		}
	}
	for i := range p.Databases {
		d := &p.Databases[i]
		if d.EngineVersion == "" {
			d.EngineVersion = DefaultEngineVersion
		}
		if d.InstanceClass == "" {
			d.InstanceClass = DefaultInstanceClass
		}
		if d.BackupRetentionDays == 0 {
			d.BackupRetentionDays = DefaultBackupRetentionDays
		}
		if d.LogRetentionDays == 0 {
			d.LogRetentionDays = DefaultDatabaseLogRetentionDays
		}
		if d.DeletionProtection == nil {
			t := true
			d.DeletionProtection = &t
		}
	}
	for i := range p.Redis {
		r := &p.Redis[i]
		if r.Engine == "" {
			r.Engine = contract.DefaultRedisEngine
		}
		if r.EngineVersion == "" {
			r.EngineVersion = contract.DefaultRedisVersion(r.Engine)
		}
		if r.NodeType == "" {
			r.NodeType = contract.DefaultRedisNodeType
		}
		if r.SnapshotRetentionDays == nil {
			r.SnapshotRetentionDays = intp(DefaultRedisSnapshotRetentionDays)
		}
	}
}

// DefaultEventBusArn is the control plane event bus ARN used when the config
// gives none: arn:aws:events:<region>:<account>:event-bus/<prefix>-controlplane.
func DefaultEventBusArn(region, account, prefix string) string {
	return contract.Names{Prefix: prefix}.EventBusARN(Partition(region), region, account)
}

// Partition returns the AWS partition of a region name.
func Partition(region string) string {
	switch {
	case len(region) >= 3 && region[:3] == "cn-":
		return "aws-cn"
	case len(region) >= 7 && region[:7] == "us-gov-":
		return "aws-us-gov"
	default:
		return "aws"
	}
}

func repositoryTypeFromURL(url string) string {
	switch host := urlHost(url); host {
	case "github.com":
		return RepositoryGitHub
	case "bitbucket.org":
		return RepositoryBitbucket
	default:
		return ""
	}
}

func intp(v int) *int { return &v }
