package assemble_test

import (
	"testing"

	"github.com/wharf-paas/wharf/apps/config"
	"github.com/wharf-paas/wharf/constructs/account"
	"github.com/wharf-paas/wharf/constructs/app"
	"github.com/wharf-paas/wharf/constructs/cluster"
	"github.com/wharf-paas/wharf/constructs/database"
	"github.com/wharf-paas/wharf/constructs/redis"
)

// TestConfigDefaultsMatchConstructs keeps the defaults documented in
// docs/config.md (the config package's) equal to the constructs' own, so a
// config that leaves a field out gets what the construct documents.
func TestConfigDefaultsMatchConstructs(t *testing.T) {
	for _, c := range []struct {
		name      string
		cfg, cons any
	}{
		{"prefix", config.DefaultPrefix, account.DefaultPrefix},
		{"cdkBootstrapQualifier", config.DefaultCdkBootstrapQualifier, account.DefaultCdkQualifier},
		{"cidr", config.DefaultCIDR, cluster.DefaultCidr},
		{"flowLogRetentionDays", config.DefaultFlowLogRetentionDays, cluster.DefaultFlowLogRetentionDays},
		{"accessLogRetentionDays", config.DefaultAccessLogRetentionDays, cluster.DefaultAccessLogRetentionDays},
		{"branch", config.DefaultBranch, app.DefaultBranch},
		{"healthCheck.path", config.DefaultHealthCheckPath, app.DefaultHealthCheckPath},
		{"healthCheck.healthyThreshold", config.DefaultHealthyThreshold, app.DefaultHealthyThreshold},
		{"healthCheck.unhealthyThreshold", config.DefaultUnhealthyThreshold, app.DefaultUnhealthyThreshold},
		{"healthCheck.intervalSeconds", config.DefaultHealthCheckIntervalSeconds, app.DefaultHealthCheckIntervalSeconds},
		{"healthCheck.timeoutSeconds", config.DefaultHealthCheckTimeoutSeconds, app.DefaultHealthCheckTimeoutSeconds},
		{"deregistrationDelaySeconds", config.DefaultDeregistrationDelaySeconds, app.DefaultDeregistrationDelaySeconds},
		{"containerPort", config.DefaultContainerPort, app.DefaultContainerPort},
		{"logRetentionDays", config.DefaultLogRetentionDays, app.DefaultLogRetentionDays},
		{"imagesToKeep", config.DefaultImagesToKeep, app.DefaultImagesToKeep},
		{"artifactRetentionDays", config.DefaultArtifactRetentionDays, app.DefaultArtifactRetentionDays},
		{"engineVersion", config.DefaultEngineVersion, database.DefaultEngineVersion},
		{"instanceClass", config.DefaultInstanceClass, database.DefaultInstanceClass},
		{"backupRetentionDays", config.DefaultBackupRetentionDays, database.DefaultBackupRetentionDays},
		{"databases[].logRetentionDays", config.DefaultDatabaseLogRetentionDays, database.DefaultLogRetentionDays},
		{"redis[].snapshotRetentionDays", config.DefaultRedisSnapshotRetentionDays, redis.DefaultSnapshotRetentionDays},
		{"app name limit", config.MaxAppNameLength, 30},
		{"app domains", config.MaxAppDomains, app.MaxDomains},
	} {
		if c.cfg != c.cons {
			t.Errorf("%s: config default %v, construct default %v", c.name, c.cfg, c.cons)
		}
	}
}
