package assemble_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/wharf-paas/wharf/apps/config"
	"github.com/wharf-paas/wharf/apps/platform/assemble"
	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/internal/cdktest"
)

// nameLimit is the limit AWS documents for one kind of physical name.
type nameLimit struct {
	min, max int
	// pattern, when set, is the character rule of the reference.
	pattern *regexp.Regexp
}

// physicalNameLimits maps <CloudFormation type>.<property> to the limit the
// AWS reference documents for that name. Every literal name property the
// platform's templates set must be listed here: the test fails on a name
// property it has no limit for.
var physicalNameLimits = map[string]nameLimit{
	// IAM API reference, Role/PolicyRole: "RoleName ... Length Constraints:
	// Minimum length of 1. Maximum length of 64. Pattern: [\w+=,.@-]+".
	"AWS::IAM::Role.RoleName": {1, 64, regexp.MustCompile(`^[\w+=,.@-]+$`)},
	// IAM API reference, PutRolePolicy: PolicyName is 1-128 characters of
	// [\w+=,.@-]+.
	"AWS::IAM::Role.Policies.PolicyName": {1, 128, regexp.MustCompile(`^[\w+=,.@-]+$`)},
	"AWS::IAM::Policy.PolicyName":        {1, 128, regexp.MustCompile(`^[\w+=,.@-]+$`)},
	// Lambda API reference, FunctionName: "If you specify only the function
	// name, it is limited to 64 characters in length."
	"AWS::Lambda::Function.FunctionName": {1, 64, regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)},
	// CloudWatch Logs API reference, CreateLogGroup: "Log group names can
	// be between 1 and 512 characters long"; a-z, A-Z, 0-9, '_', '-', '/'
	// and '.'.
	"AWS::Logs::LogGroup.LogGroupName": {1, 512, regexp.MustCompile(`^[\w./-]+$`)},
	// SSM API reference, PutParameter Name: parameter names can include
	// only a-zA-Z0-9_.- and "/"; "Length Constraints: Minimum length of 1.
	// Maximum length of 1011" (the 2048 of the API includes 1037 reserved
	// characters); at most fifteen hierarchy levels (checked separately).
	"AWS::SSM::Parameter.Name": {1, contract.SSMParameterNameLimit, regexp.MustCompile(`^[\w./-]+$`)},
	// CodeBuild API reference, CreateProject name: "Length Constraints:
	// Minimum length of 2. Maximum length of 255. Pattern:
	// [A-Za-z0-9][A-Za-z0-9\-_]{1,254}".
	"AWS::CodeBuild::Project.Name": {2, 255, regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$`)},
	// CodeBuild API reference, CreateReportGroup name: "Length
	// Constraints: Minimum length of 2. Maximum length of 128." The
	// reference gives no pattern; the test is stricter and allows only
	// the characters a project name may have.
	"AWS::CodeBuild::ReportGroup.Name": {2, 128, regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]+$`)},
	// CloudFront API reference, FunctionSummary Name: "Length Constraints:
	// Minimum length of 1. Maximum length of 64. Pattern:
	// [a-zA-Z0-9-_]{1,64}".
	"AWS::CloudFront::Function.Name": {1, 64, regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)},
	// ECS API reference, CreateCluster clusterName: "Up to 255 letters
	// (uppercase and lowercase), numbers, underscores, and hyphens".
	"AWS::ECS::Cluster.ClusterName": {1, 255, regexp.MustCompile(`^[A-Za-z0-9_-]+$`)},
	// RDS API reference, CreateDBCluster DBClusterIdentifier: "Must
	// contain from 1 to 63 letters, numbers, or hyphens. First character
	// must be a letter. Can't end with a hyphen or contain two consecutive
	// hyphens."
	"AWS::RDS::DBCluster.DBClusterIdentifier": {1, 63, regexp.MustCompile(`^[a-zA-Z]([a-zA-Z0-9]|-[a-zA-Z0-9])*$`)},
	// EventBridge API reference, CreateEventBus Name: 1-256 characters of
	// [/\.\-_A-Za-z0-9]+.
	"AWS::Events::EventBus.Name": {1, 256, regexp.MustCompile(`^[/.\w-]+$`)},
	// EventBridge API reference, PutRule Name: "Length Constraints: Minimum
	// length of 1. Maximum length of 64. Pattern: [\.\-_A-Za-z0-9]+".
	"AWS::Events::Rule.Name": {1, contract.RuleNameLimit, regexp.MustCompile(`^[.\w-]+$`)},
	// DynamoDB API reference, CreateTable TableName: 3-255 characters of
	// [a-zA-Z0-9_.-]+.
	"AWS::DynamoDB::Table.TableName": {3, 255, regexp.MustCompile(`^[\w.-]+$`)},
	// ECR API reference, CreateRepository repositoryName: 2-256 characters.
	"AWS::ECR::Repository.RepositoryName": {2, 256, regexp.MustCompile(`^[a-z0-9._/-]+$`)},
	// S3 user guide, bucket naming rules: "Bucket names must be between 3
	// (min) and 63 (max) characters long", lowercase letters, numbers, dots
	// and hyphens.
	"AWS::S3::Bucket.BucketName": {3, 63, regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)},
	// Elastic Load Balancing API reference, CreateTargetGroup Name: "This
	// name must be unique per Region per account, can have a maximum of 32
	// characters".
	"AWS::ElasticLoadBalancingV2::TargetGroup.Name": {1, 32, regexp.MustCompile(`^[a-zA-Z0-9-]+$`)},
	// Lambda API reference, PublishLayerVersion LayerName: "Length
	// Constraints: Minimum length of 1. Maximum length of 140."
	"AWS::Lambda::LayerVersion.LayerName": {1, 140, regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)},
	// ElastiCache API reference, CreateReplicationGroup
	// ReplicationGroupId: "A name must contain from 1 to 40 alphanumeric
	// characters or hyphens. The first character must be a letter. A name
	// cannot end with a hyphen or contain two consecutive hyphens."
	"AWS::ElastiCache::ReplicationGroup.ReplicationGroupId": {1, contract.ElastiCacheIDLimit, regexp.MustCompile(`^[a-zA-Z]([a-zA-Z0-9]|-[a-zA-Z0-9])*$`)},
	// ElastiCache API reference, CreateUser UserId: "Length Constraints:
	// Minimum length of 1. Pattern: [a-zA-Z][a-zA-Z0-9\-]*"; UserName:
	// "Minimum length of 1". The reference gives no maximum; the test
	// bounds both at 128 (and at the UserId pattern, which IAM
	// authentication needs the name to share: user name = user ID).
	"AWS::ElastiCache::User.UserId":   {1, 128, regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*$`)},
	"AWS::ElastiCache::User.UserName": {1, 128, regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*$`)},
	// ElastiCache API reference, CreateUserGroup UserGroupId: "Pattern:
	// [a-zA-Z][a-zA-Z0-9\-]*" (no maximum given; 128 as for users).
	"AWS::ElastiCache::UserGroup.UserGroupId": {1, 128, regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*$`)},
	// Secrets Manager API reference, CreateSecret Name: "Length
	// Constraints: Minimum length of 1. Maximum length of 512"; "The secret
	// name can contain ASCII letters, numbers, and the following
	// characters: /_+=.@-".
	"AWS::SecretsManager::Secret.Name": {1, 512, regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]+$`)},
	// CloudFormation API reference, CreateStack StackName: 1-128
	// characters, [A-Za-z][A-Za-z0-9-]*.
	"stack": {1, 128, regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)},
}

// Name properties that are not Wharf-derived names: DNS names the user
// gives, descriptions of keys, and names AWS interprets otherwise.
var notDerivedNames = map[string]bool{
	"AWS::CertificateManager::Certificate.DomainName": true, // *.<cluster domain>, checked by the config's domain rule
	"AWS::Route53::RecordSet.Name":                    true, // DNS name
	"AWS::Route53::RecordSet.HostedZoneName":          true,
	"AWS::RDS::DBCluster.DatabaseName":                true, // PostgreSQL database name
	"AWS::EC2::VPCEndpoint.ServiceName":               true, // the AWS service's endpoint name
	"AWS::CloudWatch::Alarm.MetricName":               true, // the metric an alarm watches
	"AWS::SNS::Topic.DisplayName":                     true, // free text
}

// TestLongestNamesFitAWSLimits builds the example platform with the longest
// legal prefix, cluster, database and app names, synthesizes it, collects
// every literal physical name from the templates and checks it against
// the limit the AWS reference documents for it; it then checks the names
// the control plane derives at run time (families, services, schedule
// rules, release startedBy, config parameters) for the same inputs.
func TestLongestNamesFitAWSLimits(t *testing.T) {
	prefix := "p" + strings.Repeat("0", contract.MaxPrefixLength-1)
	clusterName := "c" + strings.Repeat("1", contract.MaxClusterNameLength-1)
	dbName := "d" + strings.Repeat("-2", (contract.MaxDatabaseNameLength-2)/2) + "d"
	redisName := "r" + strings.Repeat("6", contract.MaxRedisNameLength-1)
	appLen := contract.MaxAppNameLengthFor(prefix)
	app1 := "a" + strings.Repeat("3", appLen-1)
	app2 := "b" + strings.Repeat("-4", (appLen-1)/2)
	for _, n := range []string{prefix, clusterName, dbName, redisName, app1, app2} {
		t.Logf("%2d %s", len(n), n)
	}
	raw, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer(
		"prefix: wharf", "prefix: "+prefix,
		"  - name: cache\n", "  - name: "+redisName+"\n",
		"    redis: cache", "    redis: "+redisName,
		"  - name: main\n    cluster: main", "  - name: "+dbName+"\n    cluster: "+clusterName,
		"  - name: main", "  - name: "+clusterName,
		"    cluster: main", "    cluster: "+clusterName,
		"    database: main", "    database: "+dbName,
		"  - name: api\n", "  - name: "+app1+"\n",
		"  - name: web\n", "  - name: "+app2+"\n",
	).Replace(string(raw))
	cfg, err := config.Parse([]byte(text), false)
	if err != nil {
		t.Fatalf("the longest legal names are refused: %v", err)
	}
	if cfg.Prefix != prefix || cfg.Clusters[0].Name != clusterName || cfg.Databases[0].Name != dbName || cfg.Apps[0].Name != app1 || cfg.Apps[1].Name != app2 ||
		len(cfg.Redis) != 1 || cfg.Redis[0].Name != redisName || cfg.Apps[0].Redis != redisName {
		t.Fatalf("config did not take the names: %+v", cfg)
	}
	scope := cdktest.NewApp(t)
	p, err := assemble.Build(scope, cfg)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	if p.ControlPlane == nil {
		t.Fatal("the example platform deploys no control plane; its names would go unchecked")
	}
	var asm cxapi.CloudAssembly
	cdktest.Check(t, func() { asm = scope.Synth(nil) })
	if t.Failed() {
		t.FailNow()
	}
	checked := map[string]int{}
	check := func(kind, name string) {
		t.Helper()
		lim, ok := physicalNameLimits[kind]
		if !ok {
			t.Errorf("%s %q: no AWS limit known for this kind of name; add it to physicalNameLimits", kind, name)
			return
		}
		checked[kind]++
		if len(name) < lim.min || len(name) > lim.max {
			t.Errorf("%s %q is %d characters; AWS allows %d-%d", kind, name, len(name), lim.min, lim.max)
		}
		if lim.pattern != nil && !lim.pattern.MatchString(name) {
			t.Errorf("%s %q does not match %s", kind, name, lim.pattern)
		}
		if kind == "AWS::SSM::Parameter.Name" {
			if depth := strings.Count(strings.Trim(name, "/"), "/") + 1; depth > 15 {
				t.Errorf("%s %q has %d hierarchy levels; SSM allows 15", kind, name, depth)
			}
		}
	}
	dir := *asm.Directory()
	for _, st := range p.Stacks {
		check("stack", *st.StackName())
		data, err := os.ReadFile(filepath.Join(dir, *st.TemplateFile()))
		if err != nil {
			t.Fatal(err)
		}
		var tpl struct {
			Resources map[string]struct {
				Type       string
				Properties map[string]any
			}
		}
		if err := json.Unmarshal(data, &tpl); err != nil {
			t.Fatal(err)
		}
		for id, r := range tpl.Resources {
			for prop, v := range r.Properties {
				kind := r.Type + "." + prop
				switch {
				case prop == "Policies":
					for _, pol := range asSlice(v) {
						if name, ok := asMap(pol)["PolicyName"].(string); ok {
							check(kind+".PolicyName", name)
						}
					}
				case !isNameProperty(prop) || notDerivedNames[kind]:
				default:
					name, ok := v.(string)
					if !ok {
						continue // a token (Ref, Fn::Join ...): a name AWS or CDK generates or another resource's
					}
					if _, known := physicalNameLimits[kind]; !known && !notDerivedNames[kind] {
						t.Errorf("%s (%s in %s) = %q: no AWS limit known for this name property", kind, id, *st.StackName(), name)
						continue
					}
					check(kind, name)
				}
			}
		}
	}

	// Names the control plane and the build derive at run time.
	n := contract.Names{Prefix: prefix}
	proc := "p" + strings.Repeat("5", contract.MaxProcessNameLength-1)
	for _, app := range []string{app1, app2} {
		sched := strings.Repeat("s", contract.MaxScheduleNameLength(prefix, app))
		if err := n.ValidateScheduleName(app, sched); err != nil {
			t.Fatalf("longest schedule name refused: %v", err)
		}
		for kind, name := range map[string]string{
			"ecs.family":      n.Family(app, proc),
			"ecs.release":     n.ReleaseFamily(app),
			"ecs.service":     n.Service(app, proc),
			"events.schedule": n.ScheduleRule(app, sched),
			"ssm.settings":    n.SettingsParameter(app),
			"ssm.status":      n.StatusParameter(app),
			"ssm.config":      n.ConfigParameter(app, strings.Repeat("V", contract.MaxConfigVarLength)),
			"logs.activity":   n.ActivityLogGroup(app),
			"iam.user":        n.UserRole(app),
			"iam.management":  n.ManagementRole(app),
		} {
			checkRuntime(t, kind, name)
		}
	}
	checkRuntime(t, "ecs.startedBy", contract.ReleaseStartedBy(1<<62))
	var kinds []string
	for k, c := range checked {
		kinds = append(kinds, fmt.Sprintf("%s×%d", k, c))
	}
	sort.Strings(kinds)
	t.Logf("checked: %s", strings.Join(kinds, ", "))
	for _, must := range []string{"AWS::IAM::Role.RoleName", "AWS::Lambda::Function.FunctionName", "AWS::Logs::LogGroup.LogGroupName",
		"AWS::SSM::Parameter.Name", "AWS::CodeBuild::Project.Name", "AWS::ECS::Cluster.ClusterName", "AWS::RDS::DBCluster.DBClusterIdentifier",
		"AWS::ElastiCache::ReplicationGroup.ReplicationGroupId", "AWS::ElastiCache::User.UserId", "stack"} {
		if checked[must] == 0 {
			t.Errorf("no %s found in the templates: the test no longer sees that kind of name", must)
		}
	}
}

// runtimeLimits are the limits of the names the control plane derives.
var runtimeLimits = map[string]nameLimit{
	// ECS API reference, RegisterTaskDefinition family: "Up to 255
	// letters (uppercase and lowercase), numbers, underscores, and hyphens
	// are allowed."
	"ecs.family":  {1, 255, regexp.MustCompile(`^[\w-]+$`)},
	"ecs.release": {1, 255, regexp.MustCompile(`^[\w-]+$`)},
	// ECS API reference, CreateService serviceName: "Up to 255 letters
	// (uppercase and lowercase), numbers, underscores, and hyphens are
	// allowed."
	"ecs.service": {1, 255, regexp.MustCompile(`^[\w-]+$`)},
	// ECS API reference, StartTask startedBy: "Up to 36 letters (uppercase
	// and lowercase), numbers, hyphens (-), forward slash (/), and
	// underscores (_) are allowed." RunTask's own figure is not in the
	// reference we found; ECS answered ecs-cli's longer values with
	// "ownerId longer than 36" (aws/amazon-ecs-cli#97), so 36 it is.
	"ecs.startedBy": {1, 36, regexp.MustCompile(`^[\w/-]+$`)},
	// EventBridge API reference, PutRule Name (see physicalNameLimits).
	"events.schedule": physicalNameLimits["AWS::Events::Rule.Name"],
	"ssm.settings":    physicalNameLimits["AWS::SSM::Parameter.Name"],
	"ssm.status":      physicalNameLimits["AWS::SSM::Parameter.Name"],
	"ssm.config":      physicalNameLimits["AWS::SSM::Parameter.Name"],
	"logs.activity":   physicalNameLimits["AWS::Logs::LogGroup.LogGroupName"],
	"iam.user":        physicalNameLimits["AWS::IAM::Role.RoleName"],
	"iam.management":  physicalNameLimits["AWS::IAM::Role.RoleName"],
}

func checkRuntime(t *testing.T, kind, name string) {
	t.Helper()
	lim := runtimeLimits[kind]
	if len(name) < lim.min || len(name) > lim.max {
		t.Errorf("%s %q is %d characters; AWS allows %d-%d", kind, name, len(name), lim.min, lim.max)
	}
	if lim.pattern != nil && !lim.pattern.MatchString(name) {
		t.Errorf("%s %q does not match %s", kind, name, lim.pattern)
	}
	if strings.HasPrefix(kind, "ssm.") {
		if depth := strings.Count(strings.Trim(name, "/"), "/") + 1; depth > 15 {
			t.Errorf("%s %q has %d hierarchy levels; SSM allows 15", kind, name, depth)
		}
	}
}

// isNameProperty reports whether a CloudFormation property names the
// resource itself.
func isNameProperty(prop string) bool {
	return prop == "Name" || prop == "DBClusterIdentifier" || prop == "DBInstanceIdentifier" ||
		prop == "ReplicationGroupId" || prop == "UserId" || prop == "UserGroupId" ||
		(strings.HasSuffix(prop, "Name") && prop != "DatabaseName" && !strings.HasSuffix(prop, "KeyName"))
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
