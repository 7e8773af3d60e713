package contract

import (
	"regexp"
	"strconv"
)

// Redis (ElastiCache) engines and the defaults of a Wharf Redis.
const (
	RedisEngineValkey = "valkey"
	RedisEngineRedis  = "redis"
	// DefaultRedisEngine is Valkey: the same protocol as Redis OSS, and
	// ElastiCache prices Valkey nodes below Redis OSS nodes.
	DefaultRedisEngine = RedisEngineValkey
	// DefaultValkeyVersion and DefaultRedisOSSVersion are the default
	// engine versions (major.minor).
	DefaultValkeyVersion   = "8.0"
	DefaultRedisOSSVersion = "7.1"
	// DefaultRedisNodeType is the smallest Graviton burstable node.
	DefaultRedisNodeType = "cache.t4g.micro"
)

// redisMinVersion: IAM authentication "is available when using ElastiCache
// with Valkey 7.2 and above or Redis OSS version 7.0 and above"
// (ElastiCache guide, Authenticating with IAM, Limitations).
var redisMinVersion = map[string][2]int{RedisEngineValkey: {7, 2}, RedisEngineRedis: {7, 0}}

var (
	redisVersionRE  = regexp.MustCompile(`^([0-9]+)\.([0-9]+)$`)
	redisNodeTypeRE = regexp.MustCompile(`^cache\.[a-z][a-z0-9-]*\.[a-z0-9]+$`)
)

// DefaultRedisVersion is the default version of a Redis engine.
func DefaultRedisVersion(engine string) string {
	if engine == RedisEngineRedis {
		return DefaultRedisOSSVersion
	}
	return DefaultValkeyVersion
}

// ValidateRedisEngine checks a Redis engine: "valkey" or "redis". The
// error is a *FieldError for field "engine".
func ValidateRedisEngine(engine string) error {
	if engine != RedisEngineValkey && engine != RedisEngineRedis {
		return Errorf("engine", RuleEnum, "%q must be %q or %q (Redis OSS)", engine, RedisEngineValkey, RedisEngineRedis)
	}
	return nil
}

// ValidateRedisEngineVersion checks the version of a valid engine:
// major.minor, and at least the version IAM authentication needs (Valkey
// 7.2, Redis OSS 7.0). The error is a *FieldError for field
// "engineVersion".
func ValidateRedisEngineVersion(engine, version string) error {
	m := redisVersionRE.FindStringSubmatch(version)
	if m == nil {
		return Errorf("engineVersion", RulePattern, "%q must be a version major.minor, like %s", version, DefaultRedisVersion(engine))
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if min, ok := redisMinVersion[engine]; ok && (major < min[0] || major == min[0] && minor < min[1]) {
		return Errorf("engineVersion", RuleRange, "%q: %s %d.%d or later is required (IAM authentication needs it)", version, engine, min[0], min[1])
	}
	return nil
}

// ValidateRedisNodeType checks a cache node type like cache.t4g.micro.
// The error is a *FieldError for field "nodeType".
func ValidateRedisNodeType(nodeType string) error {
	if !redisNodeTypeRE.MatchString(nodeType) {
		return Errorf("nodeType", RulePattern, "%q must be a cache node type like %s", nodeType, DefaultRedisNodeType)
	}
	return nil
}
