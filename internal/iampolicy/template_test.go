package iampolicy

import (
	"strings"
	"testing"
)

// fixture is shaped like CDK output: a named role with an inline policy, a
// generated-name role with an AWS::IAM::Policy (the default policy CDK
// grants go to), a managed policy attached through Roles and one through
// ManagedPolicyArns, an AWS managed policy, an SSM-typed parameter and
// every intrinsic the resolver handles.
const fixture = `{
 "Parameters": {
  "BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk-bootstrap/hnb659fds/version"},
  "Prefix": {"Type": "String", "Default": "wharf"}
 },
 "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Prefix"}, "prod"]}},
 "Resources": {
  "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": {"Fn::Sub": "${Prefix}-main"}}},
  "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/wharf/apps/api"}},
  "Bucket": {"Type": "AWS::S3::Bucket"},
  "Provider": {"Type": "AWS::IAM::OIDCProvider", "Properties": {"Url": "https://login.example.com"}},
  "Mgmt": {"Type": "AWS::IAM::Role", "Properties": {
   "RoleName": {"Fn::Join": ["-", [{"Ref": "Prefix"}, "app", "api", "management"]]},
   "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
     "Principal": {"AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::444455556666:root"]]}},
     "Condition": {"StringEquals": {"sts:ExternalId": "{{resolve:ssm:/wharf/external-id}}"}}}]},
   "Policies": [{"PolicyName": "wharf-management", "PolicyDocument": {"Statement": [
     {"Sid": "RunOwnTasks", "Effect": "Allow", "Action": "ecs:RunTask",
      "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/${Prefix}-api_*"},
      "Condition": {"ArnEquals": {"ecs:cluster": {"Fn::GetAtt": ["Cluster", "Arn"]}}}},
     {"Sid": "WriteLogs", "Effect": "Allow", "Action": "logs:PutLogEvents",
      "Resource": {"Fn::Join": ["", [{"Fn::Select": [0, {"Fn::Split": [":*", {"Fn::GetAtt": ["Logs", "Arn"]}]}]}, ":log-stream:*"]]}},
     {"Sid": "Prod", "Effect": "Allow", "Action": "s3:GetObject",
      "Resource": {"Fn::If": ["IsProd", "*", {"Fn::Sub": ["${B}/*", {"B": {"Fn::GetAtt": ["Bucket", "Arn"]}}]}]}},
     {"Sid": "Dropped", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": [{"Fn::GetAtt": ["Bucket", "Arn"]}, {"Ref": "AWS::NoValue"}]}
   ]}}],
   "ManagedPolicyArns": [{"Ref": "Attached"}, {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/ReadOnlyAccess"]]}]
  }},
  "Generated": {"Type": "AWS::IAM::Role", "Properties": {
   "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
     "Principal": {"Federated": {"Ref": "Provider"}},
     "Condition": {"StringEquals": {"login.example.com:aud": "wharf-cli"}}}]}}},
  "GeneratedDefaultPolicy": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "GeneratedDefaultPolicy", "Roles": [{"Ref": "Generated"}],
   "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/wharf/apps/api/status"}}]}}},
  "Attached": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
   "PolicyDocument": {"Statement": [{"Sid": "FromArns", "Effect": "Allow", "Action": "ecs:ListServices", "Resource": "*"}]}}},
  "ViaRoles": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"Roles": [{"Ref": "Mgmt"}],
   "PolicyDocument": {"Statement": [{"Sid": "FromRoles", "Effect": "Allow", "Action": "ecs:DescribeServices", "Resource": "*"}]}}},
  "Unattached": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "x", "Roles": ["someone-else"],
   "PolicyDocument": {"Statement": [{"Sid": "NotMine", "Effect": "Allow", "Action": "*", "Resource": "*"}]}}},
  "Broken": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "broken",
   "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": {"Fn::ImportValue": "control-plane-role"}}}]}}}
 }
}`

var fixtureResolver = Resolver{AccountID: "111122223333", Region: "eu-west-1", SSM: map[string]string{"/wharf/external-id": "ext-1", "/cdk-bootstrap/hnb659fds/version": "21"}}

func TestTemplateRole(t *testing.T) {
	tpl, err := ParseTemplate([]byte(fixture), fixtureResolver)
	if err != nil {
		t.Fatal(err)
	}
	role, err := tpl.Role("wharf-app-api-management")
	if err != nil {
		t.Fatal(err)
	}
	if role.LogicalID != "Mgmt" || role.ARN != "arn:aws:iam::111122223333:role/wharf-app-api-management" {
		t.Fatalf("role %+v", role)
	}
	if len(role.ExternalManagedPolicies) != 1 || role.ExternalManagedPolicies[0] != "arn:aws:iam::aws:policy/ReadOnlyAccess" {
		t.Errorf("external managed policies %v", role.ExternalManagedPolicies)
	}
	var names []string
	for _, p := range role.Policies {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "Mgmt/wharf-management,Attached,ViaRoles" {
		t.Errorf("policies %v", names)
	}
	allow := []Request{
		{Action: "ecs:RunTask", Resource: "arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_web:7",
			Context: Context{"ecs:cluster": {"arn:aws:ecs:eu-west-1:111122223333:cluster/wharf-main"}}},
		{Action: "logs:PutLogEvents", Resource: "arn:aws:logs:eu-west-1:111122223333:log-group:/wharf/apps/api:log-stream:build-1"},
		{Action: "s3:GetObject", Resource: "arn:aws:s3:::Bucket/builds/1.json"},
		{Action: "s3:ListBucket", Resource: "arn:aws:s3:::Bucket"},
		{Action: "ecs:ListServices"},
		{Action: "ecs:DescribeServices", Resource: "arn:aws:ecs:eu-west-1:111122223333:service/wharf-main/wharf-api_web"},
	}
	for _, r := range allow {
		d, err := Evaluate(r, role.Policies...)
		if err != nil || !d.Allowed() {
			t.Errorf("%v: %s %v", r.Action, d, err)
		}
	}
	d, _ := Evaluate(Request{Action: "ecs:RunTask", Resource: "arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_web:7",
		Context: Context{"ecs:cluster": {"arn:aws:ecs:eu-west-1:111122223333:cluster/other"}}}, role.Policies...)
	if d.Allowed() || !strings.Contains(d.String(), "RunOwnTasks") {
		t.Errorf("other cluster: %s", d)
	}
	d, _ = Evaluate(Request{Action: "iam:CreateUser", Resource: "arn:aws:iam::111122223333:user/x"}, role.Policies...)
	if d.Allowed() {
		t.Errorf("an unattached policy's statement applied: %s", d)
	}
	tr, err := EvaluateTrust(role.Trust, AssumeRoleRequest("arn:aws:iam::444455556666:role/cp", "ext-1", nil))
	if err != nil || !tr.Allowed() {
		t.Errorf("trust: %s %v", tr, err)
	}

	gen, err := tpl.Role("Generated")
	if err != nil {
		t.Fatal(err)
	}
	if gen.Name != "Generated" || len(gen.Policies) != 1 || gen.Policies[0].Name != "GeneratedDefaultPolicy" {
		t.Fatalf("generated role %+v", gen)
	}
	req, _ := WebIdentityRequest("arn:aws:iam::111122223333:oidc-provider/login.example.com", map[string][]string{"aud": {"wharf-cli"}})
	if d, err := EvaluateTrust(gen.Trust, req); err != nil || !d.Allowed() {
		t.Errorf("web identity trust: %s %v", d, err)
	}
}

func TestTemplateUnresolvable(t *testing.T) {
	tpl, err := ParseTemplate([]byte(fixture), fixtureResolver)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.Role("broken"); err == nil || !strings.Contains(err.Error(), "Fn::ImportValue") {
		t.Errorf("import without a value: %v", err)
	}
	r := fixtureResolver
	r.SSM = nil
	tpl, _ = ParseTemplate([]byte(fixture), r)
	if _, err := tpl.Role("Mgmt"); err == nil || !strings.Contains(err.Error(), "/wharf/external-id") {
		t.Errorf("dynamic reference without a value: %v", err)
	}
	if _, err := tpl.Resolve(map[string]interface{}{"Ref": "BootstrapVersion"}); err == nil {
		t.Error("SSM-typed parameter resolved without a value")
	}
	r = Resolver{Region: "eu-west-1"}
	tpl, _ = ParseTemplate([]byte(fixture), r)
	if _, err := tpl.Role("Mgmt"); err == nil || !strings.Contains(err.Error(), "AWS::AccountId") {
		t.Errorf("no account ID: %v", err)
	}
	for _, v := range []string{
		`{"Fn::GetAtt": ["Cluster", "Endpoint"]}`,
		`{"Ref": "Nope"}`,
		`{"Fn::Base64": "x"}`,
		`{"Fn::Sub": "${Nope.Arn}"}`,
	} {
		tpl, _ := ParseTemplate([]byte(fixture), fixtureResolver)
		var x interface{}
		if err := jsonUnmarshal(v, &x); err != nil {
			t.Fatal(err)
		}
		if got, err := tpl.Resolve(x); err == nil {
			t.Errorf("%s resolved to %v", v, got)
		}
	}
}

func TestTemplateResolverOverrides(t *testing.T) {
	r := fixtureResolver
	r.Refs = map[string]string{"Bucket": "wharf-artifacts-abc"}
	r.Attrs = map[string]string{"Cluster.Arn": "arn:aws:ecs:eu-west-1:111122223333:cluster/real"}
	tpl, _ := ParseTemplate([]byte(fixture), r)
	v, err := tpl.Resolve(map[string]interface{}{"Fn::Sub": "${Bucket}|${Cluster.Arn}|${!Literal}|${AWS::URLSuffix}"})
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := tpl.Resolve(map[string]interface{}{"Fn::GetAtt": []interface{}{"Bucket", "Arn"}}); a != "arn:aws:s3:::wharf-artifacts-abc" {
		t.Errorf("the Arn does not follow the Ref override: %v", a)
	}
	if v != "wharf-artifacts-abc|arn:aws:ecs:eu-west-1:111122223333:cluster/real|${Literal}|amazonaws.com" {
		t.Errorf("got %v", v)
	}
	v, _ = tpl.Resolve(map[string]interface{}{"Ref": "BootstrapVersion"})
	if v != "21" {
		t.Errorf("SSM-typed parameter: %v", v)
	}
}

func TestTemplateExports(t *testing.T) {
	producer := `{"Resources": {"Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": "wharf-main"}}},
	 "Outputs": {"ClusterArn": {"Value": {"Fn::GetAtt": ["Cluster", "Arn"]}, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}:ClusterArn"}}},
	             "Plain": {"Value": "x"}}}`
	r := fixtureResolver
	r.StackName = "wharf-cluster-main"
	tpl, err := ParseTemplate([]byte(producer), r)
	if err != nil {
		t.Fatal(err)
	}
	ex, bad := tpl.Exports()
	if len(bad) != 0 {
		t.Fatal(bad)
	}
	if len(ex) != 1 || ex["wharf-cluster-main:ClusterArn"] != "arn:aws:ecs:eu-west-1:111122223333:cluster/wharf-main" {
		t.Errorf("exports %v", ex)
	}
}
