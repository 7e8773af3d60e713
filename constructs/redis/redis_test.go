package redis_test

import (
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/constructs/app"
	"github.com/wharf-paas/wharf/constructs/app/apptest"
	"github.com/wharf-paas/wharf/constructs/redis"
	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/internal/cdktest"
	"github.com/wharf-paas/wharf/internal/iampolicy"
)

// outdir is the cloud assembly directory of the shared fixture; it must
// outlive the test that happens to synthesize first.
var outdir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wharf-redis-test-")
	if err != nil {
		panic(err)
	}
	outdir = dir
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	code := m.Run()
	jsii.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fixture is the one synthesis the tests share: a Redis OSS replication
// group with every option set (multi-AZ, two apps), a Valkey one with the
// defaults, and an app attached to the first by name.
type fixture struct {
	main, small, appStack awscdk.Stack
	r                     *redis.Redis
	tpl, smallT, appT     map[string]interface{}
	clusterT              map[string]interface{}
}

var (
	once sync.Once
	fix  *fixture
)

func appProps(c *apptest.Cluster, name string) *app.AppProps {
	return &app.AppProps{
		Name:                    jsii.String(name),
		Cluster:                 c,
		RepositoryURL:           jsii.String("https://github.com/acme/" + name + ".git"),
		ControlPlaneAccountID:   jsii.String("999988887777"),
		ControlPlaneEventBusArn: jsii.String("arn:aws:events:eu-west-1:999988887777:event-bus/wharf-controlplane"),
		ManagementExternalID:    jsii.String("ext-" + name + "-123"),
	}
}

func getFixture(t *testing.T) *fixture {
	t.Helper()
	once.Do(func() {
		f := &fixture{}
		a := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
		for k, v := range apptest.AppContext() {
			a.Node().SetContext(jsii.String(k), v)
		}
		cdktest.AddNag(a)
		env := apptest.Env()
		cst := awscdk.NewStack(a, jsii.String("wharf-cluster-main"), &awscdk.StackProps{Env: env})
		c := apptest.NewCluster(cst, "Cluster")
		f.main = awscdk.NewStack(a, jsii.String("wharf-redis-main"), &awscdk.StackProps{Env: env})
		f.r = redis.NewRedis(f.main, "Redis", &redis.RedisProps{
			Name: jsii.String("main"), Cluster: c, Engine: jsii.String("redis"), EngineVersion: jsii.String("7.0"),
			NodeType: jsii.String("cache.r7g.large"), MultiAZ: jsii.Bool(true), SnapshotRetentionDays: ptr(7),
			Apps: []string{"api", "worker"},
		})
		f.small = awscdk.NewStack(a, jsii.String("acme-redis-small"), &awscdk.StackProps{Env: env})
		redis.NewRedis(f.small, "Redis", &redis.RedisProps{Prefix: jsii.String("acme"), Name: jsii.String("small"), Cluster: c, Apps: []string{"api"}})
		f.appStack = awscdk.NewStack(a, jsii.String("wharf-app-api"), &awscdk.StackProps{Env: env})
		p := appProps(c, "api")
		p.RedisName = jsii.String("main")
		app.NewApp(f.appStack, "App", p)
		f.tpl, f.smallT, f.appT, f.clusterT = cdktest.TemplateJSON(t, f.main), cdktest.TemplateJSON(t, f.small), cdktest.TemplateJSON(t, f.appStack), cdktest.TemplateJSON(t, cst)
		fix = f
	})
	if fix == nil {
		t.Fatal("fixture synthesis failed")
	}
	return fix
}

func one(t *testing.T, tpl map[string]interface{}, typ string) (string, map[string]interface{}) {
	t.Helper()
	rs := cdktest.ResourcesOfType(tpl, typ)
	if len(rs) != 1 {
		t.Fatalf("%d %s, want 1", len(rs), typ)
	}
	for id, r := range rs {
		return id, r
	}
	return "", nil
}

func ptr[T any](v T) *T { return &v }

func TestNagClean(t *testing.T) {
	f := getFixture(t)
	cdktest.AssertNagClean(t, f.main)
	cdktest.AssertNagClean(t, f.small)
	cdktest.AssertNagClean(t, f.appStack)
}

func TestReplicationGroup(t *testing.T) {
	f := getFixture(t)
	for _, tc := range []struct {
		tpl  map[string]interface{}
		want map[string]interface{}
	}{
		{f.tpl, map[string]interface{}{
			"ReplicationGroupId": "wharf-main", "Engine": "redis", "EngineVersion": "7.0", "CacheNodeType": "cache.r7g.large",
			"NumCacheClusters": 2.0, "AutomaticFailoverEnabled": true, "MultiAZEnabled": true, "SnapshotRetentionLimit": 7.0,
			"UserGroupIds": `["wharf-redis-main"]`,
		}},
		{f.smallT, map[string]interface{}{
			"ReplicationGroupId": "acme-small", "Engine": "valkey", "EngineVersion": "8.0", "CacheNodeType": "cache.t4g.micro",
			"NumCacheClusters": 1.0, "AutomaticFailoverEnabled": false, "MultiAZEnabled": false, "SnapshotRetentionLimit": 1.0,
			"UserGroupIds": `["acme-redis-small"]`,
		}},
	} {
		id, rg := one(t, tc.tpl, "AWS::ElastiCache::ReplicationGroup")
		p := cdktest.Properties(rg)
		common := map[string]interface{}{
			"AtRestEncryptionEnabled": true, "TransitEncryptionEnabled": true, "TransitEncryptionMode": "required",
			"Port": 6379.0, "ClusterMode": "disabled", "AutoMinorVersionUpgrade": true,
		}
		for k, v := range tc.want {
			common[k] = v
		}
		for k, v := range common {
			got := p[k]
			if s, ok := v.(string); ok && strings.HasPrefix(s, "[") {
				got = apptest.JSON(p[k])
			}
			if got != v {
				t.Errorf("%s %s = %v, want %v", id, k, got, v)
			}
		}
		if _, ok := p["AuthToken"]; ok {
			t.Errorf("%s has an AuthToken (a shared all-access password); authentication is per-app users", id)
		}
		if rg["DeletionPolicy"] != "Snapshot" || rg["UpdateReplacePolicy"] != "Snapshot" {
			t.Errorf("%s removal policy %v/%v, want Snapshot", id, rg["DeletionPolicy"], rg["UpdateReplacePolicy"])
		}
		if !strings.Contains(apptest.JSON(rg["DependsOn"]), "RedisUserGroup") {
			t.Errorf("%s does not depend on the user group: %v", id, rg["DependsOn"])
		}
		if s := apptest.JSON(p["SecurityGroupIds"]); !strings.Contains(s, "RedisSecurityGroup") || strings.Count(s, "GroupId") != 1 {
			t.Errorf("%s security groups %s", id, s)
		}
		if s := apptest.Render(p["CacheSubnetGroupName"]); s != "<RedisSubnetGroup2387CBFF>" {
			t.Errorf("%s subnet group %s", id, s)
		}
	}
}

func TestSubnetGroupIsPrivate(t *testing.T) {
	f := getFixture(t)
	_, sg := one(t, f.tpl, "AWS::ElastiCache::SubnetGroup")
	s := apptest.JSON(cdktest.Properties(sg)["SubnetIds"])
	if strings.Count(s, "PrivateSubnet") != 3 || strings.Contains(s, "PublicSubnet") {
		t.Errorf("subnet group not exactly the three private subnets: %s", s)
	}
}

func TestSecurityGroupAdmitsOnlyTheAppSecurityGroup(t *testing.T) {
	f := getFixture(t)
	var from []string
	for _, r := range cdktest.ResourcesOfType(f.tpl, "AWS::EC2::SecurityGroupIngress") {
		p := cdktest.Properties(r)
		if !strings.HasPrefix(apptest.Render(p["GroupId"]), "<RedisSecurityGroup") {
			continue
		}
		if p["FromPort"] != 6379.0 || p["ToPort"] != 6379.0 || p["IpProtocol"] != "tcp" {
			t.Errorf("ingress ports %v-%v %v", p["FromPort"], p["ToPort"], p["IpProtocol"])
		}
		if p["CidrIp"] != nil || p["CidrIpv6"] != nil {
			t.Errorf("ingress from an address range: %s", apptest.JSON(p))
		}
		from = append(from, apptest.JSON(p["SourceSecurityGroupId"]))
	}
	if len(from) != 1 || !strings.Contains(from[0], "ClusterAppSecurityGroup") {
		t.Errorf("redis admits %v, want only the cluster's app security group", from)
	}
	_, sg := one(t, f.tpl, "AWS::EC2::SecurityGroup")
	p := cdktest.Properties(sg)
	if e := apptest.JSON(p["SecurityGroupEgress"]); !strings.Contains(e, "255.255.255.255/32") {
		t.Errorf("redis SG egress %s (want none)", e)
	}
	if ing := apptest.JSON(p["SecurityGroupIngress"]); ing != "null" {
		t.Errorf("redis SG has inline ingress %s", ing)
	}
}

func TestUsersAndUserGroup(t *testing.T) {
	f := getFixture(t)
	users := map[string]map[string]interface{}{}
	for _, u := range cdktest.ResourcesOfType(f.tpl, "AWS::ElastiCache::User") {
		p := cdktest.Properties(u)
		users[p["UserId"].(string)] = p
		if p["Engine"] != "redis" {
			t.Errorf("user %v engine %v", p["UserId"], p["Engine"])
		}
	}
	var ids []string
	for id := range users {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if strings.Join(ids, " ") != "wharf-app-api wharf-app-worker wharf-redis-main-default" {
		t.Fatalf("users %v", ids)
	}
	def := users["wharf-redis-main-default"]
	if def["UserName"] != "default" || def["AccessString"] != "off -@all" {
		t.Errorf("default user %s", apptest.JSON(def))
	}
	mode := def["AuthenticationMode"].(map[string]interface{})
	pw := apptest.JSON(mode["Passwords"])
	if mode["Type"] != "password" || !strings.Contains(pw, "{{resolve:secretsmanager:") || !strings.Contains(pw, "RedisDefaultUserSecret") {
		t.Errorf("default user password is not a Secrets Manager dynamic reference: %s", apptest.JSON(mode))
	}
	for _, a := range []string{"api", "worker"} {
		u := users["wharf-app-"+a]
		if u["UserName"] != "wharf-app-"+a {
			t.Errorf("%s: user name %v must equal the user ID (IAM authentication)", a, u["UserName"])
		}
		if u["AccessString"] != redis.AccessString(a) || !strings.Contains(u["AccessString"].(string), "~"+a+":* &"+a+":* ") {
			t.Errorf("%s: access string %v", a, u["AccessString"])
		}
		if apptest.JSON(u["AuthenticationMode"]) != `{"Type":"iam"}` || u["Passwords"] != nil || u["NoPasswordRequired"] == true {
			t.Errorf("%s: authentication %s", a, apptest.JSON(u))
		}
	}
	_, ug := one(t, f.tpl, "AWS::ElastiCache::UserGroup")
	p := cdktest.Properties(ug)
	if p["UserGroupId"] != "wharf-redis-main" || p["Engine"] != "redis" ||
		apptest.JSON(p["UserIds"]) != `["wharf-redis-main-default","wharf-app-api","wharf-app-worker"]` {
		t.Errorf("user group %s", apptest.JSON(p))
	}
	if d := apptest.JSON(ug["DependsOn"]); strings.Count(d, "Redis") != 3 {
		t.Errorf("user group depends on %s, want its three users", d)
	}
}

// No password or token appears in any template: the only password is the
// default user's, generated by Secrets Manager and passed by dynamic
// reference.
func TestNoSecretInTemplates(t *testing.T) {
	f := getFixture(t)
	for name, tpl := range map[string]map[string]interface{}{"main": f.tpl, "small": f.smallT, "app": f.appT} {
		for id, s := range cdktest.ResourcesOfType(tpl, "AWS::SecretsManager::Secret") {
			p := cdktest.Properties(s)
			if p["SecretString"] != nil || p["GenerateSecretString"] == nil {
				t.Errorf("%s %s: secret not generated by Secrets Manager: %s", name, id, apptest.JSON(p))
			}
		}
		for id, u := range cdktest.ResourcesOfType(tpl, "AWS::ElastiCache::User") {
			p := cdktest.Properties(u)
			var pws []interface{}
			if m, ok := p["AuthenticationMode"].(map[string]interface{}); ok {
				pws, _ = m["Passwords"].([]interface{})
			}
			if p["Passwords"] != nil {
				t.Errorf("%s %s: top-level Passwords", name, id)
			}
			for _, pw := range pws {
				if !strings.HasPrefix(apptest.Render(pw), "{{resolve:secretsmanager:") {
					t.Errorf("%s %s: password %s is not a dynamic reference", name, id, apptest.JSON(pw))
				}
			}
		}
		if n := len(cdktest.ResourcesOfType(tpl, "AWS::ElastiCache::ReplicationGroup")); n > 0 && strings.Contains(apptest.JSON(tpl), "AuthToken") {
			t.Errorf("%s: AuthToken in template", name)
		}
	}
	if n := len(cdktest.ResourcesOfType(f.tpl, "AWS::IAM::Role")); n != 0 {
		t.Errorf("the redis stack has %d IAM roles, want none", n)
	}
}

func TestAppAttachment(t *testing.T) {
	f := getFixture(t)
	got := map[string]string{}
	for _, r := range cdktest.ResourcesOfType(f.appT, "AWS::SSM::Parameter") {
		got[cdktest.Properties(r)["Name"].(string)] = apptest.Render(cdktest.Properties(r)["Value"])
	}
	cfg := contract.Names{Prefix: "wharf"}.ConfigPath("api")
	url := got[cfg+"REDIS_URL"]
	if !strings.HasPrefix(url, "rediss://wharf-app-api@<") || !strings.Contains(url, ":<") || strings.Contains(url, "@<>") {
		t.Errorf("REDIS_URL = %q, want rediss://wharf-app-api@<endpoint>:<port>", url)
	}
	raw := ""
	for _, r := range cdktest.ResourcesOfType(f.appT, "AWS::SSM::Parameter") {
		if cdktest.Properties(r)["Name"] == cfg+"REDIS_URL" {
			raw = apptest.JSON(cdktest.Properties(r)["Value"])
		}
	}
	params := apptest.JSON(f.appT["Parameters"])
	for _, p := range []string{"/wharf/redis/main/endpoint", "/wharf/redis/main/port"} {
		if !strings.Contains(params, p) {
			t.Errorf("app stack does not read %s (parameters %s)", p, params)
		}
	}
	if strings.Contains(raw, "Fn::ImportValue") {
		t.Errorf("REDIS_URL uses a CloudFormation export: %s", raw)
	}
	if got[cfg+"REDIS_PREFIX"] != "api:" || got[cfg+"REDIS_CACHE_NAME"] != "wharf-main" {
		t.Errorf("REDIS_PREFIX %q REDIS_CACHE_NAME %q", got[cfg+"REDIS_PREFIX"], got[cfg+"REDIS_CACHE_NAME"])
	}
	// The control plane passes every parameter under the config path to
	// the containers as ECS secrets, read by the execution role.
	var connect []apptest.Statement
	for _, st := range apptest.Statements(f.appT) {
		if st.Sid == "ConnectToRedisAsOwnUser" {
			connect = append(connect, st)
		}
		for _, a := range st.Actions {
			if strings.HasPrefix(a, "elasticache:") && st.Sid != "ConnectToRedisAsOwnUser" {
				t.Errorf("statement %s grants %s", st.Sid, a)
			}
		}
	}
	if len(connect) != 1 {
		t.Fatalf("%d ConnectToRedisAsOwnUser statements", len(connect))
	}
	res := apptest.ResourcesOf(connect[0])
	slices.Sort(res)
	want := []string{
		"arn:<AWS::Partition>:elasticache:eu-west-1:111122223333:replicationgroup:wharf-main",
		"arn:<AWS::Partition>:elasticache:eu-west-1:111122223333:user:wharf-app-api",
	}
	if !slices.Equal(res, want) || strings.Join(connect[0].Actions, ",") != "elasticache:Connect" || connect[0].Effect != "Allow" {
		t.Errorf("connect statement %v %v, want elasticache:Connect on %v", connect[0].Actions, res, want)
	}
}

// A compromised app signs IAM auth tokens with its task role: the
// synthesized roles of its stack, evaluated with internal/iampolicy, allow
// elasticache:Connect as its own user on its own Redis and nothing else
// (ElastiCache authorizes the connect on the cache and on the user; "The
// IAM identity needs an associated policy to grant the elasticache:Connect
// action to the ElastiCache cache and ElastiCache user").
func TestAttackConnectAsAnotherAppsUser(t *testing.T) {
	f := getFixture(t)
	r := iampolicy.Resolver{AccountID: apptest.Account, Region: apptest.Region, StackName: "wharf-cluster-main"}
	ct, err := iampolicy.NewTemplate(f.clusterT, r)
	if err != nil {
		t.Fatal(err)
	}
	r.Imports, _ = ct.Exports()
	r.StackName = "wharf-app-api"
	// The build role names its test report group by attribute.
	r.Attrs = map[string]string{"AppTestReports752EA0A2.Arn": "arn:aws:codebuild:eu-west-1:111122223333:report-group/wharf-api-tests"}
	at, err := iampolicy.NewTemplate(f.appT, r)
	if err != nil {
		t.Fatal(err)
	}
	arn := func(kind, id string) string { return "arn:aws:elasticache:eu-west-1:111122223333:" + kind + ":" + id }
	connect := func(role *iampolicy.Role, resource string) bool {
		d, err := iampolicy.Evaluate(iampolicy.Request{Action: "elasticache:Connect", Resource: resource}, role.Policies...)
		if err != nil {
			t.Fatal(err)
		}
		return d.Allowed()
	}
	allowed := 0
	for _, id := range at.Roles() {
		role, err := at.Role(id)
		if err != nil {
			t.Fatal(err)
		}
		own := connect(role, arn("replicationgroup", "wharf-main")) && connect(role, arn("user", "wharf-app-api"))
		if own {
			allowed++
		}
		for _, res := range []string{
			arn("user", "wharf-app-worker"), arn("user", "wharf-redis-main-default"), arn("user", "default"),
			arn("replicationgroup", "wharf-other"), arn("user", "*"), arn("serverlesscache", "wharf-main"),
		} {
			if connect(role, res) {
				t.Errorf("role %s may elasticache:Connect on %s", id, res)
			}
		}
	}
	if allowed != 1 {
		t.Errorf("%d roles may connect as wharf-app-api, want exactly the task role", allowed)
	}
}

func TestPublishedParameters(t *testing.T) {
	f := getFixture(t)
	got := map[string]string{}
	for _, r := range cdktest.ResourcesOfType(f.tpl, "AWS::SSM::Parameter") {
		got[cdktest.Properties(r)["Name"].(string)] = apptest.Render(cdktest.Properties(r)["Value"])
	}
	want := map[string]string{
		"/wharf/redis/main/endpoint":          "<RedisReplicationGroup3B65AB4E.PrimaryEndPoint.Address>",
		"/wharf/redis/main/reader-endpoint":   "<RedisReplicationGroup3B65AB4E.ReaderEndPoint.Address>",
		"/wharf/redis/main/port":              "6379",
		"/wharf/redis/main/security-group-id": "<RedisSecurityGroupC1E9FD21.GroupId>",
	}
	if apptest.JSON(got) != apptest.JSON(want) {
		t.Errorf("parameters\n got %v\nwant %v", got, want)
	}
}

func TestPinnedLogicalIDs(t *testing.T) {
	f := getFixture(t)
	res := f.tpl["Resources"].(map[string]interface{})
	for id, typ := range map[string]string{
		"RedisReplicationGroup3B65AB4E": "AWS::ElastiCache::ReplicationGroup",
		"RedisSecurityGroupC1E9FD21":    "AWS::EC2::SecurityGroup",
		"RedisSubnetGroup2387CBFF":      "AWS::ElastiCache::SubnetGroup",
	} {
		r, ok := res[id].(map[string]interface{})
		if !ok || r["Type"] != typ {
			t.Errorf("%s: %v, want %s", id, r["Type"], typ)
		}
	}
}

func TestValidate(t *testing.T) {
	c := &apptest.Cluster{}
	ok := func() *redis.RedisProps { return &redis.RedisProps{Name: jsii.String("cache"), Cluster: c} }
	if err := ok().Validate(); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		edit func(*redis.RedisProps)
		want string
	}{
		"name":           {func(p *redis.RedisProps) { p.Name = jsii.String("Cache") }, `name: "Cache"`},
		"long name":      {func(p *redis.RedisProps) { p.Name = jsii.String(strings.Repeat("r", 24)) }, "2-23"},
		"no name":        {func(p *redis.RedisProps) { p.Name = nil }, "name: required"},
		"cluster":        {func(p *redis.RedisProps) { p.Cluster = nil }, "cluster: required"},
		"prefix":         {func(p *redis.RedisProps) { p.Prefix = jsii.String("a-b") }, "prefix"},
		"engine":         {func(p *redis.RedisProps) { p.Engine = jsii.String("memcached") }, `engine: "memcached"`},
		"version":        {func(p *redis.RedisProps) { p.EngineVersion = jsii.String("8") }, `engineVersion: "8" must be a version major.minor`},
		"old valkey":     {func(p *redis.RedisProps) { p.EngineVersion = jsii.String("7.1") }, `engineVersion: "7.1": valkey 7.2 or later`},
		"old redis":      {func(p *redis.RedisProps) { p.Engine = jsii.String("redis"); p.EngineVersion = jsii.String("6.2") }, `engineVersion: "6.2": redis 7.0 or later`},
		"node type":      {func(p *redis.RedisProps) { p.NodeType = jsii.String("t4g.micro") }, `nodeType: "t4g.micro"`},
		"snapshots":      {func(p *redis.RedisProps) { p.SnapshotRetentionDays = ptr(36) }, "snapshotRetentionDays 36"},
		"negative snaps": {func(p *redis.RedisProps) { p.SnapshotRetentionDays = ptr(-1) }, "snapshotRetentionDays -1"},
		"app name":       {func(p *redis.RedisProps) { p.Apps = []string{"Api"} }, "apps[0]"},
		"app twice":      {func(p *redis.RedisProps) { p.Apps = []string{"api", "api"} }, `apps[1] "api": listed twice`},
	}
	for name, tc := range cases {
		p := ok()
		tc.edit(p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	p := ok()
	p.Engine, p.EngineVersion = jsii.String("redis"), jsii.String("7.0")
	if err := p.Validate(); err != nil {
		t.Errorf("redis 7.0: %v", err)
	}
	if err := (&redis.FromNameProps{Name: jsii.String("x")}).Validate(); err == nil || !strings.Contains(err.Error(), "name") {
		t.Errorf("FromName accepted a bad name: %v", err)
	}
}

func TestAppPropsValidateRedis(t *testing.T) {
	f := getFixture(t)
	c := &apptest.Cluster{}
	p := appProps(c, "billing")
	p.Redis = f.r
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), `redis: redis "main" has no user for app "billing"`) {
		t.Errorf("an app the Redis does not list: %v", err)
	}
	p = appProps(c, "api")
	p.Redis = f.r
	if err := p.Validate(); err != nil {
		t.Errorf("listed app: %v", err)
	}
	p.RedisName = jsii.String("main")
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "redisName: set either redis or redisName") {
		t.Errorf("both redis and redisName: %v", err)
	}
	p = appProps(c, "api")
	p.RedisName = jsii.String("Main")
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "redisName:") {
		t.Errorf("bad redisName: %v", err)
	}
}
