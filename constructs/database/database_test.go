package database_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/wharf-paas/wharf/constructs/app/apptest"
	"github.com/wharf-paas/wharf/constructs/database"
	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

type fixture struct {
	stack, small awscdk.Stack
	db           *database.Database
	tpl, smallT  map[string]interface{}
}

var (
	once sync.Once
	fix  *fixture
)

func getFixture(t *testing.T) *fixture {
	t.Helper()
	once.Do(func() {
		f := &fixture{}
		a := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
		for k, v := range apptest.AppContext() {
			a.Node().SetContext(jsii.String(k), v)
		}
		// The answer CDK's prefix-list lookup would cache for the main
		// database (no S3PrefixListId): a wrong lookup name leaves CDK's
		// placeholder pl-xxxxxxxx in the template instead.
		a.Node().SetContext(jsii.String(s3LookupKey(*apptest.Env().Account, *apptest.Env().Region)),
			[]map[string]string{{"PrefixListId": "pl-0123456789abcdef0"}})
		cdktest.AddNag(a)
		env := apptest.Env()
		c := apptest.NewCluster(awscdk.NewStack(a, jsii.String("wharf-cluster-main"), &awscdk.StackProps{Env: env}), "Cluster")
		f.stack = awscdk.NewStack(a, jsii.String("wharf-database-main"), &awscdk.StackProps{Env: env})
		// The default manager code: lambda/dbmanager compiled by lambdabuild.
		f.db = database.NewDatabase(f.stack, "Database", &database.DatabaseProps{
			Name: jsii.String("main"), Cluster: c, MultiAZ: jsii.Bool(true), InstanceClass: jsii.String("db.r7g.large"),
			EngineVersion: jsii.String("15.8"), BackupRetentionDays: ptr(14),
		})
		f.small = awscdk.NewStack(a, jsii.String("wharf-database-small"), &awscdk.StackProps{Env: env})
		code := t.TempDir()
		os.WriteFile(filepath.Join(code, "bootstrap"), []byte("#!/bin/sh\n"), 0o755)
		database.NewDatabase(f.small, "Database", &database.DatabaseProps{
			Prefix: jsii.String("acme"), Name: jsii.String("small"), Cluster: c, ManagerCode: awslambda.Code_FromAsset(jsii.String(code), nil),
			DeletionProtection: jsii.Bool(false), S3PrefixListId: jsii.String("pl-6da54004"),
		})
		f.tpl = cdktest.TemplateJSON(t, f.stack)
		f.smallT = cdktest.TemplateJSON(t, f.small)
		fix = f
	})
	if fix == nil {
		t.Fatal("fixture synthesis failed")
	}
	return fix
}

func TestNagClean(t *testing.T) {
	f := getFixture(t)
	cdktest.AssertNagClean(t, f.stack)
	cdktest.AssertNagClean(t, f.small)
}

var starActions = map[string]string{
	"ec2:CreateNetworkInterface":     "Lambda validates VPC access against *",
	"ec2:DescribeNetworkInterfaces":  "no resource type",
	"ec2:DescribeSubnets":            "no resource type",
	"ec2:DeleteNetworkInterface":     "Lambda validates VPC access against *",
	"ec2:AssignPrivateIpAddresses":   "Lambda validates VPC access against *",
	"ec2:UnassignPrivateIpAddresses": "Lambda validates VPC access against *",
}

func TestIAM(t *testing.T) {
	f := getFixture(t)
	for _, p := range apptest.Check(f.tpl, apptest.Policy{StarResourceActions: starActions}) {
		t.Errorf("%s", p)
	}
	roles := cdktest.ResourcesOfType(f.tpl, "AWS::IAM::Role")
	if len(roles) != 1 {
		t.Fatalf("%d roles, want only the manager role", len(roles))
	}
	var roleID string
	for id := range roles {
		roleID = id
	}
	find := func(sid string) apptest.Statement {
		for _, st := range apptest.Statements(f.tpl) {
			if st.Sid == sid {
				return st
			}
		}
		t.Fatalf("no statement %s", sid)
		return apptest.Statement{}
	}
	st := find("ConnectAsAdmin")
	if r := apptest.ResourcesOf(st); len(r) != 1 || r[0] != "arn:<AWS::Partition>:rds-db:eu-west-1:111122223333:dbuser:<DatabaseCluster5B53A178.DBClusterResourceId>/wharf_admin" {
		t.Errorf("ConnectAsAdmin resources %v", r)
	}
	st = find("ConnectAsAppRolesForOneOffSQL")
	if r := apptest.ResourcesOf(st); len(r) != 1 || r[0] != "arn:<AWS::Partition>:rds-db:eu-west-1:111122223333:dbuser:<DatabaseCluster5B53A178.DBClusterResourceId>/*" {
		t.Errorf("ConnectAsAppRolesForOneOffSQL resources %v", r)
	}
	st = find("ReadOneTimeAdminPassword")
	if r := apptest.ResourcesOf(st); len(r) != 1 || !strings.HasPrefix(r[0], "<DatabaseClusterSecretAttachment") {
		t.Errorf("secret statement resources %v", r)
	}
	st = find("WriteOwnLogs")
	if r := apptest.ResourcesOf(st); len(r) != 1 || r[0] != "<DatabaseManagerLogsCB0706F0.Arn>" {
		t.Errorf("log statement resources %v", r)
	}
	_ = roleID
}

func TestCluster(t *testing.T) {
	f := getFixture(t)
	clusters := cdktest.ResourcesOfType(f.tpl, "AWS::RDS::DBCluster")
	c, ok := clusters["DatabaseCluster5B53A178"]
	if !ok || len(clusters) != 1 {
		t.Fatalf("clusters %v", clusters)
	}
	p := cdktest.Properties(c)
	for k, v := range map[string]interface{}{"Engine": "aurora-postgresql", "EngineVersion": "15.8", "StorageEncrypted": true, "EnableIAMDatabaseAuthentication": true,
		"DeletionProtection": true, "BackupRetentionPeriod": 14.0, "Port": 5432.0, "DBClusterIdentifier": "wharf-main", "MasterUsername": nil} {
		if k == "MasterUsername" {
			continue
		}
		if p[k] != v {
			t.Errorf("cluster %s = %v, want %v", k, p[k], v)
		}
	}
	if c["DeletionPolicy"] != "Snapshot" || c["UpdateReplacePolicy"] != "Snapshot" {
		t.Errorf("removal policy %v/%v", c["DeletionPolicy"], c["UpdateReplacePolicy"])
	}
	if e := apptest.JSON(p["EnableCloudwatchLogsExports"]); e != `["postgresql"]` {
		t.Errorf("log exports %s", e)
	}
	instances := cdktest.ResourcesOfType(f.tpl, "AWS::RDS::DBInstance")
	if len(instances) != 2 {
		t.Errorf("%d instances with multiAZ, want writer + reader", len(instances))
	}
	for id, i := range instances {
		if cdktest.Properties(i)["DBInstanceClass"] != "db.r7g.large" || cdktest.Properties(i)["PubliclyAccessible"] != false {
			t.Errorf("%s: %v", id, apptest.JSON(cdktest.Properties(i)))
		}
	}
	if n := len(cdktest.ResourcesOfType(f.smallT, "AWS::RDS::DBInstance")); n != 1 {
		t.Errorf("single-AZ database has %d instances", n)
	}
	small := cdktest.Properties(cdktest.ResourcesOfType(f.smallT, "AWS::RDS::DBCluster")["DatabaseCluster5B53A178"])
	if small["DeletionProtection"] != false || small["EngineVersion"] != "16.6" || small["BackupRetentionPeriod"] != 7.0 || small["DBClusterIdentifier"] != "acme-small" {
		t.Errorf("small cluster %v", apptest.JSON(small))
	}
	for _, i := range cdktest.ResourcesOfType(f.smallT, "AWS::RDS::DBInstance") {
		if cdktest.Properties(i)["DBInstanceClass"] != "db.t4g.medium" {
			t.Errorf("default instance class %v", cdktest.Properties(i)["DBInstanceClass"])
		}
	}
	pg := cdktest.ResourcesOfType(f.tpl, "AWS::RDS::DBClusterParameterGroup")
	for _, g := range pg {
		if apptest.JSON(cdktest.Properties(g)["Parameters"]) != `{"rds.force_ssl":"1"}` || cdktest.Properties(g)["Family"] != "aurora-postgresql15" {
			t.Errorf("parameter group %s", apptest.JSON(cdktest.Properties(g)))
		}
	}
	if len(pg) != 1 {
		t.Errorf("%d parameter groups", len(pg))
	}
	sg := cdktest.ResourcesOfType(f.tpl, "AWS::RDS::DBSubnetGroup")
	for _, g := range sg {
		if s := apptest.JSON(cdktest.Properties(g)["SubnetIds"]); strings.Count(s, "PrivateSubnet") != 3 {
			t.Errorf("subnet group not in the three private subnets: %s", s)
		}
	}
}

func TestSecurityGroups(t *testing.T) {
	f := getFixture(t)
	ingress := cdktest.ResourcesOfType(f.tpl, "AWS::EC2::SecurityGroupIngress")
	var toDB []string
	for _, r := range ingress {
		p := cdktest.Properties(r)
		if apptest.Render(p["GroupId"]) == "<DatabaseSecurityGroup5C91FDCB.GroupId>" {
			if p["FromPort"] != 5432.0 || p["ToPort"] != 5432.0 {
				t.Errorf("database ingress on ports %v-%v", p["FromPort"], p["ToPort"])
			}
			toDB = append(toDB, apptest.Render(p["SourceSecurityGroupId"]))
		}
	}
	slices.Sort(toDB)
	if strings.Join(toDB, " ") != "<DatabaseManagerSecurityGroupACE4756F.GroupId> <import>" {
		t.Errorf("database accepts 5432 from %v, want the cluster app SG and the manager only", toDB)
	}
	db := cdktest.Properties(cdktest.ResourcesOfType(f.tpl, "AWS::EC2::SecurityGroup")["DatabaseSecurityGroup5C91FDCB"])
	if e := apptest.JSON(db["SecurityGroupEgress"]); !strings.Contains(e, "255.255.255.255/32") {
		t.Errorf("database SG egress %s (want none)", e)
	}
	if ing := apptest.JSON(db["SecurityGroupIngress"]); ing != "null" {
		t.Errorf("database SG has inline ingress %s", ing)
	}
}

// s3LookupKey is the context key of CDK's lookup of the region's S3
// managed prefix list (aws-cdk-lib PrefixList.fromLookup and
// ContextProvider.getKey: sorted key=value pairs, ":" quoted as "$:").
func s3LookupKey(account, region string) string {
	return "cc-api-provider:account=" + account + ":expectedMatchCount=exactly-one:propertiesToReturn.0=PrefixListId" +
		":propertyMatch.PrefixListName=com.amazonaws." + region + ".s3:region=" + region + ":typeName=AWS$:$:EC2$:$:PrefixList"
}

// managerEgress lists the manager security group's egress rules, inline
// and separate, as "<protocol> <from>-<to> <destination>".
func managerEgress(tpl map[string]interface{}) []string {
	var out []string
	add := func(p map[string]interface{}) {
		dest := ""
		for _, k := range []string{"CidrIp", "CidrIpv6", "DestinationPrefixListId", "DestinationSecurityGroupId"} {
			if v, ok := p[k]; ok {
				dest += k + "=" + apptest.Render(v)
			}
		}
		out = append(out, fmt.Sprintf("%v %v-%v %s", p["IpProtocol"], p["FromPort"], p["ToPort"], dest))
	}
	for id, r := range cdktest.ResourcesOfType(tpl, "AWS::EC2::SecurityGroup") {
		if strings.HasPrefix(id, "DatabaseManagerSecurityGroup") {
			if list, ok := cdktest.Properties(r)["SecurityGroupEgress"].([]interface{}); ok {
				for _, e := range list {
					add(e.(map[string]interface{}))
				}
			}
		}
	}
	for _, r := range cdktest.ResourcesOfType(tpl, "AWS::EC2::SecurityGroupEgress") {
		if strings.HasPrefix(apptest.Render(cdktest.Properties(r)["GroupId"]), "<DatabaseManagerSecurityGroup") {
			add(cdktest.Properties(r))
		}
	}
	slices.Sort(out)
	return out
}

// The manager reaches exactly three things: the database on 5432, its
// Secrets Manager endpoint on 443 and S3 (CloudFormation responses) on 443
// through the region's S3 prefix list; no address range, so nothing else in
// the VPC (the load balancer, other endpoints, app tasks) is reachable.
func TestManagerEgressIsLimited(t *testing.T) {
	f := getFixture(t)
	for name, tc := range map[string]struct {
		tpl map[string]interface{}
		pl  string
	}{
		"looked up":  {f.tpl, "pl-0123456789abcdef0"},
		"from props": {f.smallT, "pl-6da54004"},
	} {
		got := strings.Join(managerEgress(tc.tpl), "\n")
		want := strings.Join([]string{
			"tcp 443-443 DestinationPrefixListId=" + tc.pl,
			"tcp 443-443 DestinationSecurityGroupId=<DatabaseSecretsEndpointSecurityGroup",
			"tcp 5432-5432 DestinationSecurityGroupId=<DatabaseSecurityGroup",
		}, "\n")
		if !egressMatches(got, want) {
			t.Errorf("%s: manager egress\n%s\nwant\n%s", name, got, want)
		}
	}
}

// egressMatches compares line by line, each wanted line a prefix of the
// line it was given (logical IDs end in a hash).
func egressMatches(got, want string) bool {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	if len(g) != len(w) {
		return false
	}
	for i := range g {
		if !strings.HasPrefix(g[i], w[i]) {
			return false
		}
	}
	return true
}

func TestManagerAndEndpoint(t *testing.T) {
	f := getFixture(t)
	fns := cdktest.ResourcesOfType(f.tpl, "AWS::Lambda::Function")
	if len(fns) != 1 {
		t.Fatalf("%d functions, want only the manager", len(fns))
	}
	for _, fn := range fns {
		p := cdktest.Properties(fn)
		if p["Runtime"] != "provided.al2023" || apptest.JSON(p["Architectures"]) != `["arm64"]` || p["Handler"] != "bootstrap" || p["FunctionName"] != "wharf-database-main-manager" {
			t.Errorf("manager %v %v %v %v", p["Runtime"], p["Architectures"], p["Handler"], p["FunctionName"])
		}
		if v := apptest.JSON(p["VpcConfig"]); strings.Count(v, "PrivateSubnet") != 3 || !strings.Contains(v, "DatabaseManagerSecurityGroup") {
			t.Errorf("manager VPC config %s", v)
		}
		env, _ := p["Environment"].(map[string]interface{})["Variables"].(map[string]interface{})
		want := map[string]string{
			contract.DBManagerEnvHost:      "<DatabaseCluster5B53A178.Endpoint.Address>",
			contract.DBManagerEnvPort:      "5432",
			contract.DBManagerEnvAdminUser: "wharf_admin",
			database.EnvSecretsEndpoint:    "https://",
		}
		for k, v := range want {
			if got := apptest.Render(env[k]); !strings.HasPrefix(got, v) {
				t.Errorf("env %s = %s, want %s", k, got, v)
			}
		}
		if !strings.HasPrefix(apptest.Render(env[contract.DBManagerEnvAdminSecretARN]), "<DatabaseClusterSecretAttachment") {
			t.Errorf("env %s = %s", contract.DBManagerEnvAdminSecretARN, apptest.Render(env[contract.DBManagerEnvAdminSecretARN]))
		}
		if !strings.Contains(apptest.JSON(env[database.EnvSecretsEndpoint]), "DnsEntries") {
			t.Errorf("secrets endpoint env %s", apptest.JSON(env[database.EnvSecretsEndpoint]))
		}
	}
	eps := cdktest.ResourcesOfType(f.tpl, "AWS::EC2::VPCEndpoint")
	if len(eps) != 1 {
		t.Fatalf("%d endpoints", len(eps))
	}
	for _, ep := range eps {
		p := cdktest.Properties(ep)
		if p["PrivateDnsEnabled"] != false || p["VpcEndpointType"] != "Interface" || len(p["SubnetIds"].([]interface{})) != 1 ||
			!strings.Contains(apptest.JSON(p["ServiceName"]), "secretsmanager") {
			t.Errorf("endpoint %s", apptest.JSON(p))
		}
	}
	cr := cdktest.ResourcesOfType(f.tpl, "Custom::WharfDatabaseAdmin")
	for _, r := range cr {
		if apptest.JSON(cdktest.Properties(r)["Action"]) != `"enable-iam-auth"` || !strings.Contains(apptest.JSON(r["DependsOn"]), "DatabaseClusterWriter") {
			t.Errorf("enable-iam-auth resource %s", apptest.JSON(r))
		}
	}
	if len(cr) != 1 {
		t.Errorf("%d enable-iam-auth resources", len(cr))
	}
}

func TestManagerCodeOverride(t *testing.T) {
	f := getFixture(t)
	key := func(tpl map[string]interface{}) string {
		for _, fn := range cdktest.ResourcesOfType(tpl, "AWS::Lambda::Function") {
			return apptest.JSON(cdktest.Properties(fn)["Code"])
		}
		return ""
	}
	main, small := key(f.tpl), key(f.smallT)
	if main == "" || small == "" || main == small {
		t.Errorf("ManagerCode override not used: default code %s, override %s", main, small)
	}
}

func TestPublishedParameters(t *testing.T) {
	f := getFixture(t)
	got := map[string]string{}
	for _, r := range cdktest.ResourcesOfType(f.tpl, "AWS::SSM::Parameter") {
		got[cdktest.Properties(r)["Name"].(string)] = apptest.Render(cdktest.Properties(r)["Value"])
	}
	want := map[string]string{
		"/wharf/databases/main/endpoint":             "<DatabaseCluster5B53A178.Endpoint.Address>",
		"/wharf/databases/main/reader-endpoint":      "<DatabaseCluster5B53A178.ReadEndpoint.Address>",
		"/wharf/databases/main/port":                 "5432",
		"/wharf/databases/main/cluster-resource-id":  "<DatabaseCluster5B53A178.DBClusterResourceId>",
		"/wharf/databases/main/manager-function-arn": "<DatabaseManagerEA6CDC18.Arn>",
		"/wharf/databases/main/security-group-id":    "<DatabaseSecurityGroup5C91FDCB.GroupId>",
	}
	if apptest.JSON(got) != apptest.JSON(want) {
		t.Errorf("parameters\n got %v\nwant %v", got, want)
	}
}

func TestPinnedLogicalIDs(t *testing.T) {
	f := getFixture(t)
	res := f.tpl["Resources"].(map[string]interface{})
	for id, typ := range map[string]string{
		"DatabaseCluster5B53A178":       "AWS::RDS::DBCluster",
		"DatabaseClusterWriterD43085C6": "AWS::RDS::DBInstance",
		"DatabaseClusterReader78FE9854": "AWS::RDS::DBInstance",
		"DatabaseSecurityGroup5C91FDCB": "AWS::EC2::SecurityGroup",
		"DatabasePostgresLogs807072D3":  "AWS::Logs::LogGroup",
		"DatabaseManagerLogsCB0706F0":   "AWS::Logs::LogGroup",
		"DatabaseManagerEA6CDC18":       "AWS::Lambda::Function",
	} {
		r, ok := res[id].(map[string]interface{})
		if !ok || r["Type"] != typ {
			t.Errorf("%s: %v, want %s", id, r["Type"], typ)
		}
	}
}

func TestValidate(t *testing.T) {
	c := &apptest.Cluster{}
	ok := func() *database.DatabaseProps { return &database.DatabaseProps{Name: jsii.String("main"), Cluster: c} }
	if err := ok().Validate(); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		edit func(*database.DatabaseProps)
		want string
	}{
		"name":                           {func(p *database.DatabaseProps) { p.Name = jsii.String("Main") }, `name: "Main"`},
		"no name":                        {func(p *database.DatabaseProps) { p.Name = nil }, "name: required"},
		"cluster":                        {func(p *database.DatabaseProps) { p.Cluster = nil }, "cluster: required"},
		"prefix":                         {func(p *database.DatabaseProps) { p.Prefix = jsii.String("a-b") }, "prefix"},
		"version":                        {func(p *database.DatabaseProps) { p.EngineVersion = jsii.String("16") }, "engineVersion"},
		"old major":                      {func(p *database.DatabaseProps) { p.EngineVersion = jsii.String("12.9") }, "engineVersion \"12.9\": major"},
		"public may create in template1": {func(p *database.DatabaseProps) { p.EngineVersion = jsii.String("14.12") }, "engineVersion \"14.12\": major version must be 15 or later"},
		"class":                          {func(p *database.DatabaseProps) { p.InstanceClass = jsii.String("t4g.medium") }, "instanceClass"},
		"serverless":                     {func(p *database.DatabaseProps) { p.InstanceClass = jsii.String("db.serverless") }, "instanceClass"},
		"backup":                         {func(p *database.DatabaseProps) { p.BackupRetentionDays = ptr(36) }, "backupRetentionDays 36"},
		"logs":                           {func(p *database.DatabaseProps) { p.LogRetentionDays = ptr(2) }, "logRetentionDays 2"},
		"s3 prefix list":                 {func(p *database.DatabaseProps) { p.S3PrefixListId = jsii.String("sg-12345678") }, "s3PrefixListId \"sg-12345678\": must be a prefix list ID"},
	}
	for name, tc := range cases {
		p := ok()
		tc.edit(p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if err := (&database.FromNameProps{Name: jsii.String("x")}).Validate(); err == nil || !strings.Contains(err.Error(), "name") {
		t.Errorf("FromName accepted a bad name: %v", err)
	}
	if contract.AppDatabase("worker-v2") != "worker_v2" {
		t.Error("contract.AppDatabase")
	}
}
func ptr[T any](v T) *T { return &v }
