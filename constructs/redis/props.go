package redis

import (
	"errors"
	"fmt"

	"github.com/wharf-paas/wharf/constructs/cluster"
	"github.com/wharf-paas/wharf/contract"
)

// Engines.
const (
	EngineValkey = contract.RedisEngineValkey
	EngineRedis  = contract.RedisEngineRedis
)

// Defaults used when a RedisProps field is nil.
const (
	// DefaultEngine is Valkey: the same protocol as Redis OSS, and
	// ElastiCache prices Valkey nodes below Redis OSS nodes.
	DefaultEngine = contract.DefaultRedisEngine
	// DefaultValkeyVersion is the Valkey version (major.minor).
	DefaultValkeyVersion = contract.DefaultValkeyVersion
	// DefaultRedisVersion is the Redis OSS version (major.minor) when
	// Engine is "redis".
	DefaultRedisVersion = contract.DefaultRedisOSSVersion
	// DefaultNodeType is the cache node type of every node: the smallest
	// Graviton burstable node.
	DefaultNodeType = contract.DefaultRedisNodeType
	// DefaultSnapshotRetentionDays is how long daily snapshots are kept.
	DefaultSnapshotRetentionDays = 1
)

// RedisProps configures a Redis. Every field maps one-to-one to a redis
// entry of the platform config file.
type RedisProps struct {
	// Prefix is the Wharf resource prefix.
	// Default: "wharf".
	Prefix *string
	// Name is the Wharf name of the Redis: 2-23 characters of lowercase
	// letters, digits and single hyphens, starting with a letter and ending
	// with a letter or digit. It names the replication group
	// (<prefix>-<name>), the stack (<prefix>-redis-<name>) and the SSM path
	// /<prefix>/redis/<name>/. Required.
	Name *string
	// Cluster is the Wharf cluster whose VPC (private subnets) the Redis
	// runs in and whose app security group may connect to it. Required.
	Cluster cluster.ICluster
	// Engine is "valkey" or "redis" (Redis OSS).
	// Default: "valkey".
	Engine *string
	// EngineVersion is the engine version, major.minor: Valkey 7.2 or
	// later, Redis OSS 7.0 or later (IAM authentication needs them).
	// Default: "8.0" for Valkey, "7.1" for Redis OSS.
	EngineVersion *string
	// NodeType is the cache node type of every node, for example
	// cache.r7g.large.
	// Default: "cache.t4g.micro".
	NodeType *string
	// MultiAZ adds a replica in another availability zone and turns on
	// automatic failover to it.
	// Default: false (one node).
	MultiAZ *bool
	// SnapshotRetentionDays is how long daily snapshots are kept (0-35; 0
	// turns them off).
	// Default: 1.
	SnapshotRetentionDays *int
	// Apps are the apps that share this Redis. Each gets its own
	// ElastiCache user (IAM authentication) whose access string limits it
	// to keys and channels starting "<app>:". An app that attaches to the
	// Redis (AppProps.Redis or RedisName) must be listed here; the
	// platform config does this itself.
	// Default: none.
	Apps []string
}

// Validate checks every field and returns all problems at once, each naming
// the field and the rule it breaks. NewRedis panics with the same error.
func (p *RedisProps) Validate() error {
	if p == nil {
		return errors.New("redis props: must not be nil")
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := contract.ValidatePrefix(p.prefix()); err != nil {
		errs = append(errs, err)
	}
	if p.Name == nil {
		add("name: required")
	} else if err := contract.ValidateRedisName(*p.Name); err != nil {
		errs = append(errs, err)
	}
	if p.Cluster == nil {
		add("cluster: required (a live cluster.Cluster or cluster.FromName)")
	}
	if err := contract.ValidateRedisEngine(p.engine()); err != nil {
		errs = append(errs, err)
	} else if err := contract.ValidateRedisEngineVersion(p.engine(), p.engineVersion()); err != nil {
		errs = append(errs, err)
	}
	if err := contract.ValidateRedisNodeType(p.nodeType()); err != nil {
		errs = append(errs, err)
	}
	if d := p.snapshotRetentionDays(); d < 0 || d > 35 {
		add("snapshotRetentionDays %d: must be between 0 and 35", d)
	}
	seen := map[string]int{}
	for i, a := range p.Apps {
		if err := contract.ValidateAppName(a); err != nil {
			add("apps[%d]: %w", i, err)
		}
		if j, dup := seen[a]; dup {
			add("apps[%d] %q: listed twice (also apps[%d])", i, a, j)
		}
		seen[a] = i
	}
	return errors.Join(errs...)
}

func (p *RedisProps) prefix() string {
	if p.Prefix == nil {
		return contract.DefaultPrefix
	}
	return *p.Prefix
}

func (p *RedisProps) engine() string {
	if p.Engine == nil {
		return DefaultEngine
	}
	return *p.Engine
}

func (p *RedisProps) engineVersion() string {
	if p.EngineVersion == nil {
		return contract.DefaultRedisVersion(p.engine())
	}
	return *p.EngineVersion
}

func (p *RedisProps) nodeType() string {
	if p.NodeType == nil {
		return DefaultNodeType
	}
	return *p.NodeType
}

func (p *RedisProps) multiAZ() bool { return p.MultiAZ != nil && *p.MultiAZ }

func (p *RedisProps) snapshotRetentionDays() int {
	if p.SnapshotRetentionDays == nil {
		return DefaultSnapshotRetentionDays
	}
	return *p.SnapshotRetentionDays
}
