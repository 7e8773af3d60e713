package contract

import "testing"

func TestRedisRules(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		rule string
	}{
		{"valkey", ValidateRedisEngine("valkey"), ""},
		{"redis", ValidateRedisEngine("redis"), ""},
		{"memcached", ValidateRedisEngine("memcached"), RuleEnum},
		{"valkey 7.2", ValidateRedisEngineVersion("valkey", "7.2"), ""},
		{"valkey 8.1", ValidateRedisEngineVersion("valkey", "8.1"), ""},
		{"valkey 10.0", ValidateRedisEngineVersion("valkey", "10.0"), ""},
		{"valkey 7.1", ValidateRedisEngineVersion("valkey", "7.1"), RuleRange},
		{"redis 7.0", ValidateRedisEngineVersion("redis", "7.0"), ""},
		{"redis 6.2", ValidateRedisEngineVersion("redis", "6.2"), RuleRange},
		{"version shape", ValidateRedisEngineVersion("valkey", "8"), RulePattern},
		{"version patch", ValidateRedisEngineVersion("redis", "7.1.0"), RulePattern},
		{"node type", ValidateRedisNodeType("cache.r7g.large"), ""},
		{"node type prefix", ValidateRedisNodeType("t4g.micro"), RulePattern},
	} {
		fe := AsFieldError(c.err)
		switch {
		case c.rule == "" && c.err != nil:
			t.Errorf("%s: %v", c.name, c.err)
		case c.rule != "" && (fe == nil || fe.Rule != c.rule):
			t.Errorf("%s: %v, want rule %s", c.name, c.err, c.rule)
		}
	}
}
