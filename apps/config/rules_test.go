package config

import (
	"fmt"
	"strings"

	"github.com/wharf-paas/wharf/contract"
	"testing"
)

// TestRules has one case per validation rule: it breaks the rule in the
// minimal config and asserts the error names the field path and the rule.
func TestRules(t *testing.T) {
	cases := []struct {
		name      string
		edit      func(m map[string]any)
		path      string
		fragments []string
	}{
		{"prefix pattern", func(m map[string]any) { m["prefix"] = "Wharf" }, "prefix", []string{`"Wharf" must be a lowercase letter followed by lowercase letters or digits (^[a-z][a-z0-9]*$)`}},
		{"prefix length", func(m map[string]any) { m["prefix"] = "abcdefghijklmnopq" }, "prefix", []string{"is 17 characters; at most 16"}},
		{"account id", func(m map[string]any) { m["accountId"] = "1234" }, "accountId", []string{`"1234" must be a 12-digit AWS account ID`}},
		{"account id required", func(m map[string]any) { delete(m, "accountId") }, "accountId", []string{"is required"}},
		{"region", func(m map[string]any) { m["region"] = "europe" }, "region", []string{`"europe" must be an AWS region name`}},
		{"az count", func(m map[string]any) { m["availabilityZones"] = []any{"eu-west-1a", "eu-west-1b"} }, "availabilityZones", []string{"2 zones given, exactly 3 are required"}},
		{"az region", func(m map[string]any) { m["availabilityZones"] = []any{"eu-west-1a", "eu-west-1b", "us-east-1c"} }, "availabilityZones[2]", []string{`"us-east-1c" must be a zone of region eu-west-1`}},
		{"az duplicate", func(m map[string]any) { m["availabilityZones"] = []any{"eu-west-1a", "eu-west-1b", "eu-west-1a"} }, "availabilityZones[2]", []string{"listed twice"}},
		{"control plane account", func(m map[string]any) { m["controlPlane"] = map[string]any{"accountId": "x"} }, "controlPlane.accountId", []string{`"x" must be a 12-digit`}},
		{"event bus arn", func(m map[string]any) {
			m["controlPlane"] = map[string]any{"eventBusArn": "arn:aws:sns:eu-west-1:111122223333:bus"}
		}, "controlPlane.eventBusArn", []string{"must be an event bus ARN"}},
		{"event bus account", func(m map[string]any) {
			m["controlPlane"] = map[string]any{"eventBusArn": "arn:aws:events:eu-west-1:999988887777:event-bus/cp"}
		}, "controlPlane.eventBusArn", []string{"must be in the control plane account 111122223333"}},
		{"deploy elsewhere", func(m map[string]any) {
			m["controlPlane"] = map[string]any{"accountId": "444455556666", "deploy": true}
		}, "controlPlane.deploy", []string{"needs the control plane in this platform's account"}},
		{"alarm email", func(m map[string]any) { m["controlPlane"] = map[string]any{"alarmEmail": "ops"} }, "controlPlane.alarmEmail", []string{`"ops" is not an email`}},
		{"issuer", func(m map[string]any) { at(m, "account")["oidcIssuerUrl"] = "http://login.example.com" }, "account.oidcIssuerUrl", []string{"must be an https:// URL"}},
		{"issuer port", func(m map[string]any) { at(m, "account")["oidcIssuerUrl"] = "https://login.example.com:8443" }, "account.oidcIssuerUrl", []string{"must not contain a port"}},
		{"client ids", func(m map[string]any) { at(m, "account")["oidcClientIds"] = []any{} }, "account.oidcClientIds", []string{"at least one client ID"}},
		{"thumbprint", func(m map[string]any) { at(m, "account")["oidcThumbprints"] = []any{"abc"} }, "account.oidcThumbprints[0]", []string{"40 hexadecimal digits"}},
		{"administrators", func(m map[string]any) { at(m, "account")["administrators"] = []any{} }, "account.administrators", []string{"at least one administrator"}},
		{"administrator email", func(m map[string]any) { at(m, "account")["administrators"] = []any{"alice"} }, "account.administrators[0]", []string{`"alice" is not an email address`}},
		{"administrator duplicate", func(m map[string]any) {
			at(m, "account")["administrators"] = []any{"alice@example.com", "Alice@Example.com"}
		}, "account.administrators[1]", []string{"listed twice"}},
		{"observer external id", func(m map[string]any) { at(m, "account")["observerExternalId"] = "x y" }, "account.observerExternalId", []string{"2-1224 characters"}},
		{"observer external id missing", func(m map[string]any) { delete(at(m, "account"), "observerExternalId") }, "account.observerExternalId", []string{"is required"}},
		{"qualifier", func(m map[string]any) { at(m, "account")["cdkBootstrapQualifier"] = "Bad_Q" }, "account.cdkBootstrapQualifier", []string{"1-10 lowercase"}},
		{"no clusters", func(m map[string]any) { m["clusters"] = []any{}; m["apps"] = []any{}; m["databases"] = []any{} }, "clusters", []string{"at least one cluster"}},
		{"cluster name", func(m map[string]any) {
			at(m, "clusters", 0)["name"] = "Main"
			m["apps"] = []any{}
			m["databases"] = []any{}
		}, "clusters[0].name", []string{`"Main" must be lowercase letters, digits and single hyphens, a letter first and no hyphen last (^[a-z][a-z0-9-]*[a-z0-9]$`}},
		{"cluster duplicate", func(m map[string]any) {
			m["clusters"] = append(m["clusters"].([]any), at(m, "clusters", 0))
		}, "clusters[1].name", []string{`"main" is already the name of clusters[0]`}},
		{"cidr invalid", func(m map[string]any) { at(m, "clusters", 0)["cidr"] = "10.100.0.0" }, "clusters[0].cidr", []string{`"10.100.0.0" must be an IPv4 CIDR block`}},
		{"cidr size", func(m map[string]any) { at(m, "clusters", 0)["cidr"] = "10.0.0.0/8" }, "clusters[0].cidr", []string{"between /16 and /24"}},
		{"cidr host bits", func(m map[string]any) { at(m, "clusters", 0)["cidr"] = "10.100.1.0/16" }, "clusters[0].cidr", []string{"host bits set; did you mean 10.100.0.0/16"}},
		{"cidr public", func(m map[string]any) { at(m, "clusters", 0)["cidr"] = "11.0.0.0/16" }, "clusters[0].cidr", []string{"must be inside a private range"}},
		{"domain", func(m map[string]any) { at(m, "clusters", 0)["domain"] = "Apps.Example.com" }, "clusters[0].domain", []string{"must be a lowercase DNS name"}},
		{"domain outside zone", func(m map[string]any) { at(m, "clusters", 0)["domain"] = "apps.example.org" }, "clusters[0].domain", []string{"must be example.com or a subdomain"}},
		{"hosted zone missing", func(m map[string]any) { delete(at(m, "clusters", 0), "hostedZone") }, "clusters[0].hostedZone", []string{"is required: the id and name"}},
		{"hosted zone id", func(m map[string]any) { at(m, "clusters", 0, "hostedZone")["id"] = "abc" }, "clusters[0].hostedZone.id", []string{"must be a Route53 hosted zone ID"}},
		{"hosted zone name", func(m map[string]any) { delete(at(m, "clusters", 0, "hostedZone"), "name") }, "clusters[0].hostedZone.name", []string{"is required"}},
		{"instance type", func(m map[string]any) { at(m, "clusters", 0)["ec2"] = map[string]any{"instanceType": "big"} }, "clusters[0].ec2.instanceType", []string{`"big" must be an EC2 instance type`}},
		{"ec2 capacity limit", func(m map[string]any) { at(m, "clusters", 0)["ec2"] = map[string]any{"maxCapacity": 101} }, "clusters[0].ec2.maxCapacity", []string{"101 must be between 1 and 100"}},
		{"ec2 capacity", func(m map[string]any) {
			at(m, "clusters", 0)["ec2"] = map[string]any{"minCapacity": 4, "maxCapacity": 2}
		}, "clusters[0].ec2.maxCapacity", []string{"must not be below minCapacity 4"}},
		{"app name", func(m map[string]any) { at(m, "apps", 0)["name"] = "Api" }, "apps[0].name", []string{`"Api" must be lowercase letters, digits and single hyphens, a letter first and no hyphen last (^[a-z][a-z0-9-]*[a-z0-9]$`}},
		{"app name under a long prefix", func(m map[string]any) {
			m["prefix"] = "abcdefghijklmnop"
			at(m, "apps", 0)["name"] = "a2345678901234567890-2"
		}, "apps[0].name", []string{`under prefix "abcdefghijklmnop" an app name has at most 21`, "leave 16 characters for schedule names"}},
		{"app name double hyphen", func(m map[string]any) { at(m, "apps", 0)["name"] = "my--api" }, "apps[0].name", []string{`no "--"`}},
		{"app name length", func(m map[string]any) { at(m, "apps", 0)["name"] = strings.Repeat("a", 31) }, "apps[0].name", []string{"2-30 characters"}},
		{"app duplicate", func(m map[string]any) {
			second := map[string]any{}
			for k, v := range at(m, "apps", 0) {
				second[k] = v
			}
			m["apps"] = append(m["apps"].([]any), second)
		}, "apps[1].name", []string{`"api" is already the name of apps[0]`}},
		{"app trust policy too large", func(m map[string]any) {
			users := []any{}
			for i := 0; i < 60; i++ {
				users = append(users, fmt.Sprintf("firstname.lastname%03d@engineering.acme.com", i))
			}
			at(m, "apps", 0)["allowedUsers"] = users
		}, "apps[0].allowedUsers", []string{"60 entries make a trust policy of about", "over IAM's default quota of 2048", "entries of this length fit", "4096", "Large teams"}},
		{"app priority collision (derived)", func(m map[string]any) {
			second := map[string]any{}
			for k, v := range at(m, "apps", 0) {
				second[k] = v
			}
			at(m, "apps", 0)["name"] = "app189"
			second["name"] = "app533" // FNV-1a maps both names to 41525
			m["apps"] = append(m["apps"].([]any), second)
		}, "apps[1].priority", []string{`app "app533" and app "app189" (apps[0]) both get listener rule priority 41525 in cluster "main" (derived from its name)`, "set priority on one of them"}},
		{"app priority collision (set)", func(m map[string]any) {
			second := map[string]any{}
			for k, v := range at(m, "apps", 0) {
				second[k] = v
			}
			second["name"] = "web"
			second["priority"] = contract.RulePriority("api")
			m["apps"] = append(m["apps"].([]any), second)
		}, "apps[1].priority", []string{`app "web" and app "api" (apps[0]) both get listener rule priority`, "(set by priority)"}},
		{"app unknown cluster", func(m map[string]any) { at(m, "apps", 0)["cluster"] = "other" }, "apps[0].cluster", []string{`"other" is not a cluster of this config (clusters: main)`}},
		{"app cluster required", func(m map[string]any) { delete(at(m, "apps", 0), "cluster") }, "apps[0].cluster", []string{"is required"}},
		{"repository url", func(m map[string]any) { at(m, "apps", 0, "repository")["url"] = "git@github.com:example/api.git" }, "apps[0].repository.url", []string{"must be an https clone URL"}},
		{"repository type", func(m map[string]any) { at(m, "apps", 0, "repository")["type"] = "gitlab" }, "apps[0].repository.type", []string{`"gitlab" must be "github" or "bitbucket"`}},
		{"repository type unknown host", func(m map[string]any) {
			at(m, "apps", 0, "repository")["url"] = "https://git.example.com/api.git"
		}, "apps[0].repository.type", []string{`cannot be told from host "git.example.com"`}},
		{"connection arn", func(m map[string]any) {
			at(m, "apps", 0, "repository")["connectionArn"] = "arn:aws:iam::111122223333:role/x"
		}, "apps[0].repository.connectionArn", []string{"must be a CodeConnections connection ARN"}},
		{"branch", func(m map[string]any) { at(m, "apps", 0)["branch"] = "feature..x" }, "apps[0].branch", []string{"not a valid git branch name"}},
		{"build config name", func(m map[string]any) { at(m, "apps", 0)["buildConfig"] = []any{"NPM-TOKEN"} }, "apps[0].buildConfig[0]", []string{`"NPM-TOKEN" must be a config var name`}},
		{"build config twice", func(m map[string]any) { at(m, "apps", 0)["buildConfig"] = []any{"A", "A"} }, "apps[0].buildConfig[1]", []string{`"A" is listed twice`}},
		{"trusted builder by tag", func(m map[string]any) { at(m, "apps", 0)["trustedBuilders"] = []any{"heroku/builder:24"} }, "apps[0].trustedBuilders[0]", []string{"must be pinned by digest"}},
		{"too many domains", func(m map[string]any) {
			at(m, "apps", 0)["domains"] = []any{"a.example.com", "b.example.com", "c.example.com", "d.example.com", "e.example.com"}
		}, "apps[0].domains", []string{"5 domains given, at most 4"}},
		{"app domain", func(m map[string]any) { at(m, "apps", 0)["domains"] = []any{"localhost"} }, "apps[0].domains[0].name", []string{`"localhost" must be a lowercase DNS name`}},
		{"app domain taken", func(m map[string]any) { at(m, "apps", 0)["domains"] = []any{"api.apps.example.com"} }, "apps[0].domains[0].name", []string{"already routed to apps[0] (its default host name)"}},
		{"health check path", func(m map[string]any) { at(m, "apps", 0)["healthCheck"] = map[string]any{"path": "healthz"} }, "apps[0].healthCheck.path", []string{"must be an HTTP path starting with /"}},
		{"healthy threshold", func(m map[string]any) { at(m, "apps", 0)["healthCheck"] = map[string]any{"healthyThreshold": 11} }, "apps[0].healthCheck.healthyThreshold", []string{"11 must be between 2 and 10"}},
		{"unhealthy threshold", func(m map[string]any) { at(m, "apps", 0)["healthCheck"] = map[string]any{"unhealthyThreshold": 1} }, "apps[0].healthCheck.unhealthyThreshold", []string{"1 must be between 2 and 10"}},
		{"health interval", func(m map[string]any) { at(m, "apps", 0)["healthCheck"] = map[string]any{"intervalSeconds": 4} }, "apps[0].healthCheck.intervalSeconds", []string{"4 must be between 5 and 300"}},
		{"health timeout range", func(m map[string]any) { at(m, "apps", 0)["healthCheck"] = map[string]any{"timeoutSeconds": 1} }, "apps[0].healthCheck.timeoutSeconds", []string{"1 must be between 2 and 120"}},
		{"health timeout below interval", func(m map[string]any) {
			at(m, "apps", 0)["healthCheck"] = map[string]any{"intervalSeconds": 5, "timeoutSeconds": 5}
		}, "apps[0].healthCheck.timeoutSeconds", []string{"5 must be shorter than intervalSeconds (5)"}},
		{"container port", func(m map[string]any) { at(m, "apps", 0)["containerPort"] = 70000 }, "apps[0].containerPort", []string{"70000 must be between 1 and 65535"}},
		{"priority", func(m map[string]any) { at(m, "apps", 0)["priority"] = 0 }, "apps[0].priority", []string{"0 must be between 1 and 50000"}},
		{"images to keep", func(m map[string]any) { at(m, "apps", 0)["imagesToKeep"] = 1001 }, "apps[0].imagesToKeep", []string{"1001 must be between 1 and 1000"}},
		{"artifact retention", func(m map[string]any) { at(m, "apps", 0)["artifactRetentionDays"] = 4000 }, "apps[0].artifactRetentionDays", []string{"4000 must be between 1 and 3650"}},
		{"flow log retention", func(m map[string]any) { at(m, "clusters", 0)["flowLogRetentionDays"] = 2 }, "clusters[0].flowLogRetentionDays", []string{"2 is not a retention CloudWatch Logs accepts"}},
		{"access log retention", func(m map[string]any) { at(m, "clusters", 0)["accessLogRetentionDays"] = 3651 }, "clusters[0].accessLogRetentionDays", []string{"3651 must be between 1 and 3650"}},
		{"backup retention", func(m map[string]any) { at(m, "databases", 0)["backupRetentionDays"] = 36 }, "databases[0].backupRetentionDays", []string{"36 must be between 1 and 35"}},
		{"database log retention", func(m map[string]any) { at(m, "databases", 0)["logRetentionDays"] = 8 }, "databases[0].logRetentionDays", []string{"8 is not a retention"}},
		{"serverless", func(m map[string]any) { at(m, "databases", 0)["instanceClass"] = "db.serverless.v2" }, "databases[0].instanceClass", []string{"Aurora Serverless is not supported"}},
		{"deregistration delay", func(m map[string]any) { at(m, "apps", 0)["deregistrationDelaySeconds"] = 3601 }, "apps[0].deregistrationDelaySeconds", []string{"3601 must be between 0 and 3600"}},
		{"log retention", func(m map[string]any) { at(m, "apps", 0)["logRetentionDays"] = 10 }, "apps[0].logRetentionDays", []string{"10 is not a retention CloudWatch Logs accepts"}},
		{"launch type", func(m map[string]any) { at(m, "apps", 0)["launchType"] = "lambda" }, "apps[0].launchType", []string{`"lambda" must be "fargate" or "ec2"`}},
		{"ec2 without capacity", func(m map[string]any) { at(m, "apps", 0)["launchType"] = "ec2" }, "apps[0].launchType", []string{`ec2 needs EC2 capacity in cluster "main"`}},
		{"allowed user", func(m map[string]any) { at(m, "apps", 0)["allowedUsers"] = []any{"bob at example.com"} }, "apps[0].allowedUsers[0]", []string{"is not an email address"}},
		{"unknown database", func(m map[string]any) { at(m, "apps", 0)["database"] = "other" }, "apps[0].database", []string{`"other" is not a database of this config (databases: main)`}},
		{"database in another cluster", func(m map[string]any) {
			c2 := map[string]any{"name": "second", "domain": "second.example.com", "hostedZone": map[string]any{"id": "Z0123456789ABC", "name": "example.com"}}
			m["clusters"] = append(m["clusters"].([]any), c2)
			at(m, "databases", 0)["cluster"] = "second"
			at(m, "apps", 0)["database"] = "main"
		}, "apps[0].database", []string{`"main" is in cluster "second" but the app runs in cluster "main"`}},
		{"task policy", func(m map[string]any) { at(m, "apps", 0)["taskPolicyArn"] = "arn:aws:iam::111122223333:role/x" }, "apps[0].taskPolicyArn", []string{"must be an IAM managed policy ARN"}},
		{"management external id", func(m map[string]any) { delete(at(m, "apps", 0), "managementExternalId") }, "apps[0].managementExternalId", []string{"2-1224 characters", "is required"}},
		{"database name", func(m map[string]any) { at(m, "databases", 0)["name"] = "main_db" }, "databases[0].name", []string{`"main_db" must be lowercase letters`}},
		{"database duplicate", func(m map[string]any) {
			m["databases"] = append(m["databases"].([]any), map[string]any{"name": "main", "cluster": "main"})
		}, "databases[1].name", []string{`"main" is already the name of databases[0]`}},
		{"database cluster", func(m map[string]any) { at(m, "databases", 0)["cluster"] = "nope" }, "databases[0].cluster", []string{`"nope" is not a cluster of this config`}},
		{"engine version", func(m map[string]any) { at(m, "databases", 0)["engineVersion"] = "16" }, "databases[0].engineVersion", []string{"must be an Aurora PostgreSQL version major.minor"}},
		{"engine too old", func(m map[string]any) { at(m, "databases", 0)["engineVersion"] = "11.9" }, "databases[0].engineVersion", []string{"15 or later"}},
		{"instance class", func(m map[string]any) { at(m, "databases", 0)["instanceClass"] = "t4g.medium" }, "databases[0].instanceClass", []string{"must be a DB instance class"}},
		{"unknown redis", func(m map[string]any) { at(m, "apps", 0)["redis"] = "cache" }, "apps[0].redis", []string{`"cache" is not a redis of this config (redis: none)`}},
		{"unknown redis among others", func(m map[string]any) {
			m["redis"] = []any{map[string]any{"name": "cache", "cluster": "main"}}
			at(m, "apps", 0)["redis"] = "sessions"
		}, "apps[0].redis", []string{`"sessions" is not a redis of this config (redis: cache)`}},
		{"redis in another cluster", func(m map[string]any) {
			c2 := map[string]any{"name": "second", "domain": "second.example.com", "hostedZone": map[string]any{"id": "Z0123456789ABC", "name": "example.com"}}
			m["clusters"] = append(m["clusters"].([]any), c2)
			m["redis"] = []any{map[string]any{"name": "cache", "cluster": "second"}}
			at(m, "apps", 0)["redis"] = "cache"
		}, "apps[0].redis", []string{`"cache" is in cluster "second" but the app runs in cluster "main"`}},
		{"redis name", func(m map[string]any) { m["redis"] = []any{map[string]any{"name": "Cache", "cluster": "main"}} }, "redis[0].name", []string{`"Cache" must be lowercase letters`}},
		{"redis name length", func(m map[string]any) {
			m["redis"] = []any{map[string]any{"name": strings.Repeat("r", 24), "cluster": "main"}}
		}, "redis[0].name", []string{"redis names have 2-23 characters"}},
		{"redis duplicate", func(m map[string]any) {
			m["redis"] = []any{map[string]any{"name": "cache", "cluster": "main"}, map[string]any{"name": "cache", "cluster": "main"}}
		}, "redis[1].name", []string{`"cache" is already the name of redis[0]`}},
		{"redis cluster", func(m map[string]any) { m["redis"] = []any{map[string]any{"name": "cache", "cluster": "nope"}} }, "redis[0].cluster", []string{`"nope" is not a cluster of this config`}},
		{"redis cluster required", func(m map[string]any) { m["redis"] = []any{map[string]any{"name": "cache"}} }, "redis[0].cluster", []string{"is required"}},
		{"redis engine", func(m map[string]any) {
			m["redis"] = []any{map[string]any{"name": "cache", "cluster": "main", "engine": "memcached"}}
		}, "redis[0].engine", []string{`"memcached" must be "valkey" or "redis"`}},
		{"redis version", func(m map[string]any) {
			m["redis"] = []any{map[string]any{"name": "cache", "cluster": "main", "engineVersion": "8"}}
		}, "redis[0].engineVersion", []string{`"8" must be a version major.minor`}},
		{"redis version for iam", func(m map[string]any) {
			m["redis"] = []any{map[string]any{"name": "cache", "cluster": "main", "engine": "redis", "engineVersion": "6.2"}}
		}, "redis[0].engineVersion", []string{"redis 7.0 or later is required (IAM authentication needs it)"}},
		{"redis node type", func(m map[string]any) {
			m["redis"] = []any{map[string]any{"name": "cache", "cluster": "main", "nodeType": "t4g.micro"}}
		}, "redis[0].nodeType", []string{`"t4g.micro" must be a cache node type`}},
		{"redis snapshots", func(m map[string]any) {
			m["redis"] = []any{map[string]any{"name": "cache", "cluster": "main", "snapshotRetentionDays": 36}}
		}, "redis[0].snapshotRetentionDays", []string{"36 must be between 0 and 35"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, parseMinimal(t, c.edit), c.path, c.fragments...)
		})
	}
}

// TestStrictParsing covers the rules applied while reading the file.
func TestStrictParsing(t *testing.T) {
	cases := []struct {
		name      string
		doc       string
		json      bool
		path      string
		fragments []string
	}{
		{"unknown top-level field", minimal + "colour: blue\n", false, "colour", []string{"unknown field (line", "fields allowed here are prefix, accountId"}},
		{"unknown nested field", strings.Replace(minimal, "    cluster: main\n    repository", "    cluster: main\n    replicas: 2\n    repository", 1), false, "apps[0].replicas", []string{"unknown field"}},
		{"wrong type", strings.Replace(minimal, "name: api", "name: [api]", 1), false, "apps[0].name", []string{"must be a string, got a list"}},
		{"int as string", minimal + "prefix: 0123\n", false, "prefix", []string{"quote it"}},
		{"bool field", strings.Replace(minimal, "managementExternalId: api-123", "managementExternalId: api-123\n    webhook: sometimes", 1), false, "apps[0].webhook", []string{"must be a boolean"}},
		{"list expected", strings.Replace(minimal, "oidcClientIds: [wharf]", "oidcClientIds: wharf", 1), false, "account.oidcClientIds", []string{"must be a list"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.doc), c.json)
			wantError(t, err, c.path, c.fragments...)
		})
	}
}

func TestSyntaxErrors(t *testing.T) {
	for _, c := range []struct {
		name, doc, want string
		json            bool
	}{
		{"yaml", "prefix: [", "invalid YAML", false},
		{"duplicate key", "prefix: a\nprefix: b\n", `mapping key "prefix" already defined`, false},
		{"json", `{"prefix": }`, "invalid JSON", true},
		{"json array", `[]`, "must be a JSON object", true},
		{"empty", "", "the config is empty", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.doc), c.json)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("want error containing %q, got %v", c.want, err)
			}
		})
	}
}

// TestUnknownFieldDoesNotHideOtherErrors: a file that parses reports its
// unknown fields and its validation errors together (issue 14).
func TestUnknownFieldDoesNotHideOtherErrors(t *testing.T) {
	doc := strings.Replace(minimal, "    cluster: main\n    repository", "    cluster: main\n    replicas: 2\n    repository", 1) + "prefix: Wharf\n"
	_, err := Parse([]byte(doc), false)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"apps[0].replicas: unknown field", `prefix: "Wharf" must be a lowercase letter`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	_, err = Parse([]byte(`{"accountId": "111122223333", "regoin": "eu-west-1"}`), true)
	for _, want := range []string{"regoin: unknown field", "region: is required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("json: error lacks %q:\n%v", want, err)
		}
	}
	// A value of the wrong type still stops before validation: the
	// decoded config would be meaningless.
	_, err = Parse([]byte(strings.Replace(minimal, "name: api", "name: [api]", 1)+"prefix: Wharf\n"), false)
	if err == nil || strings.Contains(err.Error(), "prefix") {
		t.Errorf("wrong type: got %v", err)
	}
}
